"""Stand-ins for the hashicorp/archive, random and external providers, for `terraform apply` into
the emulator on a machine that cannot download them (no registry, no mirror that holds them).

Each implements what the module uses, with the real provider's schema for it, on PyPI's `tf`
package (Terraform's plugin protocol 6):

  random    resource random_id      byte_length, keepers, prefix -> id, hex, dec, b64_std, b64_url
  archive   data archive_file       a zip of `source` blocks, `source_file`, `source_dir` or
                                    `source_content` -> every output_* hash and output_size
  external  data external           runs `program` with `query` as JSON on stdin -> result

Their versions are 2.99.0 and 3.99.0, releases that do not exist, so that nobody takes one for the
real provider: they are installed into the emulator's own plugin folder and lock file
(emulator/apply.py) and nowhere else, and deploy nothing (no AWS is reached through them).

`python -m emulator.stand_in_providers NAME` is the plugin Terraform starts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, ClassVar

from tf import schema, types
from tf.blocks import SetNestedBlock
from tf.iface import DataSource, Provider, Resource
from tf.runner import run_provider

# What each stand-in calls itself: the provider it stands in for, and its version.
VERSIONS = {"archive": "2.99.0", "random": "3.99.0", "external": "2.99.0"}


class RandomId(Resource):
    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "id"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        computed = ["id", "b64_url", "b64_std", "hex", "dec"]
        return schema.Schema(
            attributes=[
                schema.Attribute(
                    "byte_length", types.Number(), required=True, requires_replace=True
                ),
                schema.Attribute(
                    "keepers", types.Map(types.String()), optional=True, requires_replace=True
                ),
                schema.Attribute("prefix", types.String(), optional=True, requires_replace=True),
                *(schema.Attribute(name, types.String(), computed=True) for name in computed),
            ]
        )

    def create(self, ctx: Any, planned: dict[str, Any]) -> dict[str, Any]:
        data = secrets.token_bytes(int(planned["byte_length"]))
        prefix = planned.get("prefix") or ""
        b64_url = base64.urlsafe_b64encode(data).decode().rstrip("=")
        return {
            **planned,
            "id": b64_url,
            "b64_url": prefix + b64_url,
            "b64_std": prefix + base64.b64encode(data).decode(),
            "hex": prefix + data.hex(),
            "dec": prefix + str(int.from_bytes(data, "big")),
        }

    def read(self, ctx: Any, current: dict[str, Any]) -> dict[str, Any]:
        return current

    def update(self, ctx: Any, current: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
        return {**current, **{k: v for k, v in planned.items() if k in ("keepers",)}}

    def delete(self, ctx: Any, current: dict[str, Any]) -> None:
        return None


class ArchiveFile(DataSource):
    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "file"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        optional_strings = [
            "source_content", "source_content_filename", "source_file", "source_dir",
            "output_file_mode",
        ]  # fmt: skip
        computed = [
            "id", "output_md5", "output_sha", "output_sha256", "output_sha512",
            "output_base64sha256", "output_base64sha512",
        ]  # fmt: skip
        source = schema.Block(
            attributes=[
                schema.Attribute("content", types.String(), required=True),
                schema.Attribute("filename", types.String(), required=True),
            ]
        )
        return schema.Schema(
            attributes=[
                schema.Attribute("type", types.String(), required=True),
                schema.Attribute("output_path", types.String(), required=True),
                *(
                    schema.Attribute(name, types.String(), optional=True)
                    for name in optional_strings
                ),
                schema.Attribute("excludes", types.Set(types.String()), optional=True),
                schema.Attribute("exclude_symlink_directories", types.Bool(), optional=True),
                *(schema.Attribute(name, types.String(), computed=True) for name in computed),
                schema.Attribute("output_size", types.Number(), computed=True),
            ],
            block_types=[SetNestedBlock("source", source)],
        )

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        if config["type"] != "zip":
            ctx.diagnostics.add_error(f"archive type {config['type']!r}: the stand-in writes zip")
            return None
        entries = sorted(_archive_entries(config).items())
        output = Path(config["output_path"])
        output.parent.mkdir(parents=True, exist_ok=True)
        unfinished = output.with_name(f".{output.name}.{os.getpid()}")
        with zipfile.ZipFile(unfinished, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in entries:  # fixed time and mode: the same files, the same bytes
                entry = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
                entry.external_attr = int(config.get("output_file_mode") or "0644", 8) << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, content)
        unfinished.replace(output)
        data = output.read_bytes()
        digests = {name: hashlib.new(name, data) for name in ("md5", "sha1", "sha256", "sha512")}
        return {
            **config,
            "id": digests["sha1"].hexdigest(),
            "output_md5": digests["md5"].hexdigest(),
            "output_sha": digests["sha1"].hexdigest(),
            "output_sha256": digests["sha256"].hexdigest(),
            "output_sha512": digests["sha512"].hexdigest(),
            "output_base64sha256": base64.b64encode(digests["sha256"].digest()).decode(),
            "output_base64sha512": base64.b64encode(digests["sha512"].digest()).decode(),
            "output_size": len(data),
        }


def _archive_entries(config: dict[str, Any]) -> dict[str, bytes]:
    """What the zip holds, by name: its `source` blocks, or its one source argument."""
    entries = {block["filename"]: block["content"].encode() for block in config.get("source") or []}
    if config.get("source_content") is not None:
        entries[config["source_content_filename"]] = config["source_content"].encode()
    if config.get("source_file"):
        path = Path(config["source_file"])
        entries[path.name] = path.read_bytes()
    if config.get("source_dir"):
        folder = Path(config["source_dir"])
        excluded = set(config.get("excludes") or [])
        for path in folder.rglob("*"):
            name = path.relative_to(folder).as_posix()
            if path.is_file() and name not in excluded:
                entries[name] = path.read_bytes()
    return entries


class External(DataSource):
    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return ""  # the data source is the provider's name alone: data "external"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        return schema.Schema(
            attributes=[
                schema.Attribute("program", types.List(types.String()), required=True),
                schema.Attribute("query", types.Map(types.String()), optional=True),
                schema.Attribute("working_dir", types.String(), optional=True),
                schema.Attribute("result", types.Map(types.String()), computed=True),
                schema.Attribute("id", types.String(), computed=True),
            ]
        )

    def read(self, ctx: Any, config: dict[str, Any]) -> dict[str, Any] | None:
        done = subprocess.run(
            config["program"],
            input=json.dumps(config.get("query") or {}),
            capture_output=True,
            text=True,
            cwd=config.get("working_dir") or None,
            check=False,
        )
        if done.returncode != 0:
            ctx.diagnostics.add_error(
                "External Program Execution Failed",
                f"The data source received an unexpected error while attempting to execute the "
                f"program.\n\nProgram: {config['program'][0]}\nError Message: {done.stderr}\n"
                f"State: exit status {done.returncode}",
            )
            return None
        try:
            result = json.loads(done.stdout)
        except ValueError as error:
            ctx.diagnostics.add_error("Unexpected External Program Results", str(error))
            return None
        return {**config, "id": "-", "result": {k: str(v) for k, v in result.items()}}


class StandIn(Provider):
    """One of the three, by name."""

    DATA_SOURCES: ClassVar[dict[str, list[type[DataSource]]]] = {
        "archive": [ArchiveFile],
        "external": [External],
    }
    RESOURCES: ClassVar[dict[str, list[type[Resource]]]] = {"random": [RandomId]}

    def __init__(self, name: str) -> None:
        self.name = name

    def get_model_prefix(self) -> str:
        return self.name if self.name == "external" else f"{self.name}_"

    def full_name(self) -> str:
        return f"registry.terraform.io/hashicorp/{self.name}"

    def get_provider_schema(self, diags: Any) -> schema.Schema:
        return schema.Schema()

    def validate_config(self, diags: Any, config: dict[str, Any]) -> None:
        return None

    def configure_provider(self, diags: Any, config: dict[str, Any]) -> None:
        return None

    def get_data_sources(self) -> list[type[DataSource]]:
        return self.DATA_SOURCES.get(self.name, [])

    def get_resources(self) -> list[type[Resource]]:
        return self.RESOURCES.get(self.name, [])


def main(argv: list[str]) -> None:
    (name,) = argv[:1]
    if name not in VERSIONS:
        sys.exit(f"stand_in_providers: one of {sorted(VERSIONS)}, not {name!r}")
    run_provider(StandIn(name), argv)


if __name__ == "__main__":
    main(sys.argv[1:])
