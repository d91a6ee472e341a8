"""Builds the Lambda layer of the work's dependencies, for `terraform plan` (package.tf's
data "external" "work_dependencies"), when the work's work_requirements.txt names any.

Terraform sends {"requirements", "architecture", "build_dir"} as JSON on stdin and reads
{"path", "base64sha256"} from stdout. pip installs manylinux wheels for Lambda's Python 3.12 on
Amazon Linux 2023 (glibc 2.34) and the worker's architecture, whatever machine runs the plan, into
python/ of a zip with fixed timestamps and order: the same requirements give the same bytes, so
the layer changes only when they do. The zip is built again at every plan, never taken from
build_dir on the strength of its name (pip takes the wheels from its cache, so this is quick), and
is named by its own SHA-256: two plans at once write the same bytes to the same file.

A requirements file with hashes (`--hash=sha256:...` on each line, as `pip-compile
--generate-hashes` or `uv pip compile --generate-hashes` writes a lock file) puts pip in its
hash-checking mode (`--require-hashes`, on by itself when any line has a hash): every package, the
dependencies of dependencies too, must be listed, pinned and match one of its hashes, or the plan
fails. Without hashes pip resolves what the pinned packages depend on from the index, at plan time,
with the plan's credentials in the environment: pin with hashes.

Run by hand: echo '{"requirements": "...", "architecture": "arm64", "build_dir": "build"}' |
python3 build_dependencies.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PYTHON_VERSION = "3.12"  # the worker's runtime, python3.12
# Lambda's python3.12 runs on Amazon Linux 2023, glibc 2.34: every manylinux wheel up to it fits.
# pip takes a wheel's tag only when given it (manylinux2014 also brings 2010 and 1).
MANYLINUX = ("manylinux_2_34", "manylinux_2_28", "manylinux2014")
MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say


class DependenciesError(Exception):
    """The layer could not be built; the message says why, for Terraform to show."""


def build(requirements: Path, architecture: str, build_dir: Path) -> dict[str, str]:
    """The layer zip for these requirements, built now: its path and its base64 SHA-256."""
    if architecture not in MACHINES:
        raise DependenciesError(f"architecture must be one of {sorted(MACHINES)}")
    if not requirements.is_file():
        raise DependenciesError(f"cannot read {requirements}: no such file")
    build_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=build_dir) as staging:
        install(requirements, architecture, Path(staging) / "python")
        unfinished = Path(staging) / "layer.zip"
        write_zip(Path(staging), unfinished)
        digest = hashlib.sha256(unfinished.read_bytes())
        layer = build_dir / f"work-dependencies-{architecture}-{digest.hexdigest()[:16]}.zip"
        unfinished.replace(layer)  # whole or not at all
    return {"path": str(layer), "base64sha256": base64.b64encode(digest.digest()).decode()}


def install(requirements: Path, architecture: str, target: Path) -> None:
    platforms = [f"--platform={tag}_{MACHINES[architecture]}" for tag in MANYLINUX]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--only-binary=:all:", "--implementation=cp",
        f"--python-version={PYTHON_VERSION}", *platforms,
        f"--target={target}", f"--requirement={requirements}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DependenciesError(
            f"pip could not install {requirements} for Python {PYTHON_VERSION} on "
            f"{architecture} Linux (binary wheels only):\n{done.stderr.strip()}"
        )


def write_zip(staging: Path, layer: Path) -> None:
    """Every file under staging/python, in sorted order, with fixed times and modes."""
    files = sorted(path for path in (staging / "python").rglob("*") if path.is_file())
    with zipfile.ZipFile(layer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            entry = zipfile.ZipInfo(path.relative_to(staging).as_posix(), FIXED_TIME)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())


def main() -> int:
    try:
        query = json.load(sys.stdin)
        result = build(Path(query["requirements"]), query["architecture"], Path(query["build_dir"]))
    except (DependenciesError, ValueError, KeyError) as error:
        sys.stderr.write(f"build_dependencies.py: {error}\n")
        return 1
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
