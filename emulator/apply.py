"""Real `terraform apply` into the emulator: the module, or a root of the user's that calls it,
applied with the real hashicorp/aws provider to a moto server, in a working copy of the emulator's
own, so that what runs locally is what Terraform created.

  the working copy  build/terraform/<name>/: the root's folder and the folders of the local
                    modules it calls, copied with their places kept (`source = "../.."` still
                    finds the module), plus emulator_override.tf, which points the aws provider
                    at the endpoint. The user's root, its lock file and its state are never
                    written; the copy has its own lock file and state.
  the providers     those the root's `terraform init` would take, where Terraform may take
                    them: the registry when it answers, else a filesystem mirror on this machine
                    (Terraform's own plugin folders, the CLI configuration's, TF_PROVIDER_MIRROR,
                    or one under /opt) for hashicorp/aws; archive, random and external from a
                    mirror that holds them, else the emulator's stand-ins
                    (emulator/stand_in_providers.py), installed into the copy's plugin folder
                    only.
  Terraform         the terraform CLI on PATH (1.9 or newer).

Without an aws provider at hand (no registry, no mirror with it) `provider_problem()` says so in
a line, and `make serve` deploys in-process instead (emulator/deployment.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.stand_in_providers import VERSIONS as STAND_IN_VERSIONS
from emulator.terraform import ROOT, load_hcl

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

BUILD = ROOT / "build" / "terraform"
REGISTRY = "registry.terraform.io"
STAND_INS = tuple(STAND_IN_VERSIONS)  # archive, random, external
# Where a filesystem mirror may be: Terraform's implied local mirrors on Linux and macOS, then
# what machine images put in /opt.
IMPLIED_MIRRORS = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)
# Left out of the working copy: what is not configuration, and what belongs to the user's init.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", ".venv*", "build",
    "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules", "*_override.tf", "override.tf",
)  # fmt: skip
# The services the module (and a root like examples/complete) uses, each sent to the endpoint.
ENDPOINTS = (
    "apigateway", "apigatewayv2", "cloudwatch", "cloudwatchlogs", "dynamodb", "iam", "kms",
    "lambda", "s3", "sfn", "sns", "sqs", "ssm", "sts",
)  # fmt: skip


class ApplyError(RuntimeError):
    """Terraform failed: the message has its last lines."""


@dataclass(frozen=True)
class Providers:
    """Where each provider comes from for the emulator's init."""

    aws_mirror: Path | None  # None: from the registry
    mirrors: dict[str, Path]  # other providers found in a mirror
    stand_ins: tuple[str, ...]  # those the emulator's stand-ins provide

    def cli_config(self, plugins: Path) -> str:
        blocks = []
        for path, names in self._by_folder(plugins).items():
            included = ", ".join(f'"{REGISTRY}/hashicorp/{name}"' for name in sorted(names))
            blocks.append(
                f'  filesystem_mirror {{\n    path    = "{path}"\n    include = [{included}]\n  }}'
            )
        taken = {name for names in self._by_folder(plugins).values() for name in names}
        excluded = ", ".join(f'"{REGISTRY}/hashicorp/{name}"' for name in sorted(taken))
        blocks.append(f"  direct {{\n    exclude = [{excluded}]\n  }}")
        return "provider_installation {\n" + "\n".join(blocks) + "\n}\n"

    def _by_folder(self, plugins: Path) -> dict[Path, set[str]]:
        folders: dict[Path, set[str]] = {}
        if self.aws_mirror:
            folders.setdefault(self.aws_mirror, set()).add("aws")
        for name, mirror in self.mirrors.items():
            folders.setdefault(mirror, set()).add(name)
        if self.stand_ins:
            folders.setdefault(plugins, set()).update(self.stand_ins)
        return folders


def candidate_mirrors() -> Iterator[Path]:
    """Filesystem mirrors on this machine: each holds registry.terraform.io/<namespace>/..."""
    named = os.environ.get("TF_PROVIDER_MIRROR")
    if named:
        yield Path(named)
    for folder in IMPLIED_MIRRORS:
        yield Path(folder).expanduser()
    opt = Path("/opt")
    if opt.is_dir():
        for child in sorted(opt.iterdir()):
            yield child
            if child.is_dir():
                yield from sorted(p for p in child.iterdir() if p.is_dir())


def mirror_with(name: str) -> Path | None:
    for mirror in candidate_mirrors():
        try:
            if any((mirror / REGISTRY / "hashicorp" / name).glob("*/*_*")):
                return mirror
        except OSError:
            continue
    return None


@cache
def registry_answers() -> bool:
    try:
        urllib.request.urlopen(f"https://{REGISTRY}/.well-known/terraform.json", timeout=3).close()
    except OSError:
        return False
    return True


@cache
def providers() -> Providers | None:
    """Where the providers come from; None when no aws provider can be had."""
    aws = mirror_with("aws")
    if aws is None and not registry_answers():
        return None
    mirrors = {name: found for name in STAND_INS if (found := mirror_with(name))}
    missing = () if registry_answers() else tuple(n for n in STAND_INS if n not in mirrors)
    return Providers(aws, mirrors, missing)


def provider_problem() -> str | None:
    """Why the emulator cannot apply with real Terraform here, in a line; None if it can."""
    if shutil.which("terraform") is None:
        return "no terraform CLI on PATH"
    if providers() is None:
        return (
            "no hashicorp/aws provider at hand (the registry does not answer, and no filesystem "
            "mirror here holds it: TF_PROVIDER_MIRROR names one)"
        )
    return None


def install_stand_ins(plugins: Path) -> None:
    """The stand-ins as Terraform finds providers in a mirror: an executable per provider, named
    as the registry names it, that runs emulator/stand_in_providers.py with this Python."""
    platform = f"linux_{'arm64' if os.uname().machine in ('aarch64', 'arm64') else 'amd64'}"
    if sys.platform == "darwin":
        platform = platform.replace("linux", "darwin")
    for name, version in STAND_IN_VERSIONS.items():
        folder = plugins / REGISTRY / "hashicorp" / name / version / platform
        launcher = folder / f"terraform-provider-{name}_v{version}"
        text = (
            "#!/bin/sh\n# A stand-in for hashicorp/" + name + " that the emulator's Terraform runs "
            "(emulator/stand_in_providers.py): it deploys nothing.\n"
            f'PYTHONPATH="{ROOT}" exec "{sys.executable}" -m emulator.stand_in_providers '
            f'{name} "$@"\n'
        )
        if not launcher.is_file() or launcher.read_text() != text:
            folder.mkdir(parents=True, exist_ok=True)
            unfinished = launcher.with_suffix(f".{os.getpid()}")
            unfinished.write_text(text)
            unfinished.chmod(0o755)
            unfinished.replace(launcher)


def local_module_folders(folder: Path, seen: set[Path] | None = None) -> set[Path]:
    """The folder and, recursively, the folders of the local modules it calls."""
    seen = seen if seen is not None else set()
    folder = folder.resolve()
    if folder in seen:
        return seen
    seen.add(folder)
    for tf in folder.glob("*.tf"):
        for block in load_hcl(tf.name, folder).get("module", []):
            for module in block.values():
                source = str(module.get("source", ""))
                if source.startswith(("./", "../")):
                    local_module_folders(folder / source, seen)
    return seen


def working_copy(root: Path, copy: Path) -> Path:
    """Copy the root and its local modules into `copy`, their places relative to each other
    kept (the whole project, for a root inside it: a submodule may read the project's files);
    return the root's folder in the copy."""
    folders = local_module_folders(root)
    if root.resolve().is_relative_to(ROOT):  # the project's own: its files may name any of it
        folders = {ROOT} | folders
    top = Path(os.path.commonpath([str(f) for f in folders]))
    if copy.exists():
        shutil.rmtree(copy)
    for folder in sorted(folders):
        shutil.copytree(
            folder, copy / folder.relative_to(top), ignore=NOT_COPIED, dirs_exist_ok=True
        )
    return copy / root.resolve().relative_to(top)


def endpoint_override(endpoint: str, region: str | None) -> str:
    """The aws provider pointed at the emulator (an override file: merged into the root's own
    provider block, or the provider's configuration where the root has none)."""
    width = max(map(len, ENDPOINTS))  # as terraform fmt aligns them
    endpoints = "\n".join(f'    {s.ljust(width)} = "{endpoint}"' for s in ENDPOINTS)
    region_line = f'  region                      = "{region}"\n' if region else ""
    return f"""\
# Written by the emulator into its own working copy: the aws provider talks to {endpoint}.
provider "aws" {{
{region_line}  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {{
{endpoints}
  }}
}}
"""


def root_region(root: Path) -> str | None:
    """The region the root's own aws provider block sets, if it sets one."""
    for tf in root.glob("*.tf"):
        for block in load_hcl(tf.name, root).get("provider", []):
            region = block.get("aws", {}).get("region")
            if isinstance(region, str):
                return region
    return None


@dataclass
class Timings:
    steps: dict[str, float] = field(default_factory=dict)

    def took(self, step: str, since: float) -> None:
        self.steps[step] = time.monotonic() - since


class Terraform:
    """Terraform in the working copy of `root`, against the endpoint."""

    def __init__(
        self,
        root: Path,
        endpoint: str,
        name: str,
        variables: dict[str, Any] | None = None,
        region: str = "us-east-1",
    ) -> None:
        found = providers()
        if found is None or shutil.which("terraform") is None:
            raise ApplyError(provider_problem() or "no Terraform")
        self.root = root.resolve()
        self.build = BUILD / name
        self.plugins = BUILD / "plugins"
        self.providers = found
        self.variables = variables or {}
        self.timings = Timings()
        self.build.mkdir(parents=True, exist_ok=True)
        self.workdir = working_copy(self.root, self.build / "copy")
        (self.workdir / "emulator_override.tf").write_text(
            endpoint_override(endpoint, None if root_region(self.root) else region)
        )
        if self.variables:
            (self.workdir / "emulator.auto.tfvars.json").write_text(json.dumps(self.variables))
        install_stand_ins(self.plugins)
        config = self.build / "terraform.rc"
        config.write_text(found.cli_config(self.plugins))
        self.environment = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
        }
        for name_ in ("TF_DATA_DIR", "TF_PLUGIN_CACHE_DIR", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
            self.environment.pop(name_, None)

    def run(
        self, step: str, *args: str, on_line: Callable[[str], None] | None = None
    ) -> tuple[int, str]:
        """`terraform <args>` in the copy; its exit code and output (each line to on_line)."""
        started = time.monotonic()
        process = subprocess.Popen(
            ["terraform", *args],
            cwd=self.workdir,
            env=self.environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if on_line:
                on_line(line.rstrip("\n"))
        code = process.wait()
        self.timings.took(step, started)
        return code, "".join(lines)

    def check(self, step: str, *args: str, on_line: Callable[[str], None] | None = None) -> str:
        code, out = self.run(step, *args, on_line=on_line)
        if code != 0:
            raise ApplyError(f"terraform {' '.join(args[:1])} failed:\n{tail(out)}")
        return out

    def init(self) -> dict[str, str]:
        """terraform init; the providers it installed, by name, with their versions."""
        self.check("init", "init", "-input=false", "-no-color")
        return self.provider_versions()

    def provider_versions(self) -> dict[str, str]:
        code, out = self.run("version", "version", "-json")
        selections = json.loads(out).get("provider_selections", {}) if code == 0 else {}
        versions = {name.rsplit("/", 1)[1]: version for name, version in selections.items()}
        return {
            name: version
            + (" (the emulator's stand-in)" if name in self.providers.stand_ins else "")
            for name, version in sorted(versions.items())
        }

    def apply(self, on_line: Callable[[str], None] | None = None) -> None:
        self.check("apply", "apply", "-auto-approve", "-input=false", "-no-color",
                   "-parallelism=30", on_line=on_line)  # fmt: skip

    def plan_changes(self) -> str | None:
        """What a plan would change, or None when it shows no changes."""
        code, out = self.run("plan", "plan", "-input=false", "-no-color", "-detailed-exitcode")
        if code == 0:
            return None
        if code == 2:
            return "\n".join(
                line for line in out.splitlines() if line.lstrip().startswith(("#", "~", "+", "-"))
            )
        raise ApplyError(f"terraform plan failed:\n{tail(out)}")

    def outputs(self) -> dict[str, Any]:
        """`terraform output -json`."""
        return json.loads(self.check("output", "output", "-json"))

    def destroy(self, on_line: Callable[[str], None] | None = None) -> None:
        self.check("destroy", "destroy", "-auto-approve", "-input=false", "-no-color",
                   "-parallelism=30", on_line=on_line)  # fmt: skip

    def state_resources(self) -> list[str]:
        code, out = self.run("state", "state", "list")
        return out.split() if code == 0 else []


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def progress_line(line: str) -> str | None:
    """A line of Terraform's apply worth showing as progress: each resource created or destroyed,
    and every error."""
    if ": Creation complete" in line or ": Destruction complete" in line:
        return "  " + line.split(" [id=")[0]
    if line.startswith(("Error", "Apply complete", "Destroy complete", "│ Error")):
        return "  " + line
    return None


def main(argv: list[str]) -> int:
    """For tests/terraform-test.sh: `python -m emulator.apply cli-config FILE` writes the CLI
    configuration with which Terraform takes its providers as the emulator does (exit 1, saying
    why in a line, where no aws provider is at hand); `python -m emulator.apply copy ROOT DEST`
    makes a working copy of ROOT in DEST and prints the root's folder in it."""
    if argv[:1] == ["copy"] and len(argv) == 3:
        print(working_copy(Path(argv[1]), Path(argv[2])))
        return 0
    if argv[:1] != ["cli-config"] or len(argv) != 2:
        print("usage: python -m emulator.apply cli-config FILE | copy ROOT DEST", file=sys.stderr)
        return 2
    found = providers()
    if found is None:
        print(provider_problem(), file=sys.stderr)
        return 1
    plugins = BUILD / "plugins"
    install_stand_ins(plugins)
    Path(argv[1]).write_text(found.cli_config(plugins))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
