"""What the worker can import on Lambda, and nothing more: the worker's handler, and so the work,
imported by a Python that sees only what its function will have there.

  the runtime      Python 3.12's standard library, and the runtime's boto3 and its dependencies
                   (the release pyproject.toml pins for the worker)
  Powertools       `aws-lambda-powertools[all]` at the release var.powertools_version names: the
                   public layer is built so, boto3 and its dependencies taken out (Powertools'
                   layer_v3/docker/Dockerfile)
  the work's layer built from the work's work_requirements.txt by build_dependencies.py, as
                   `terraform plan` builds it, for this machine's architecture

The first two are installed from PyPI into build/lambda-runtime/ once per release pair. The import
runs in `python -I -S`: no site-packages, so nothing of .venv (the test tools) leaks in.
`python -m emulator.lambda_runtime` exits 0, or 1 with one line that names the module the worker
could not import there and the file to list its package in.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.deployment import Settings, worker_environment
from emulator.terraform import ROOT, evaluate, work_folder
from emulator.work_examples import shown

if TYPE_CHECKING:
    from collections.abc import Iterator

RUNTIME_PYTHON = (3, 12)
MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


class RuntimeUnavailable(RuntimeError):
    """This machine cannot stand in for Lambda's runtime (another Python, or no wheels)."""


def runtime_requirements(root: Path = ROOT) -> list[str]:
    """boto3 as pyproject.toml pins it for the worker, Powertools with the layer's extras at the
    release Terraform deploys."""
    groups = tomllib.loads((root / "pyproject.toml").read_text())["dependency-groups"]
    (boto3,) = [pin for pin in groups["worker"] if str(pin).startswith("boto3==")]
    release = evaluate(root=root).variables["powertools_version"]
    powertools = "aws-lambda-powertools[all]" + ("" if release == "latest" else f"=={release}")
    return [boto3, powertools]


@contextlib.contextmanager
def made_whole(folder: Path) -> Iterator[Path]:
    """A staging folder that becomes `folder` when the block ends well, and is gone otherwise:
    `folder` exists whole or not at all, whoever else makes it at the same time."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".staging-"))
    try:
        yield staging
        staging.rename(folder)
    except OSError:
        if not folder.exists():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def installed(requirements: list[str], cache: Path) -> Path:
    """A folder with `requirements` installed for this machine's Python: made once, then kept."""
    key = hashlib.sha256(json.dumps([requirements, sys.version, platform.machine()]).encode())
    folder = cache / "lambda-runtime" / key.hexdigest()[:16]
    if not folder.exists():
        with made_whole(folder) as staging:
            run = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--only-binary=:all:", f"--target={staging}", *requirements],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if run.returncode != 0:
                raise RuntimeUnavailable(f"pip could not install {requirements}: {run.stderr}")
    return folder


def work_layer(root: Path, cache: Path) -> Path | None:
    """The work's dependency layer, as `terraform plan` builds it, for this machine, unpacked (its
    packages are under python/, as Lambda unpacks a layer into /opt)."""
    if not evaluate(root=root).derived["work_has_dependencies"]:
        return None
    sys.path.insert(0, str(root))
    try:
        from build_dependencies import build
    finally:
        sys.path.remove(str(root))
    machine = MACHINES.get(platform.machine().lower())
    if machine is None:
        raise RuntimeUnavailable(f"no Lambda architecture runs {platform.machine()} code")
    requirements = work_folder(root) / "work_requirements.txt"
    layer = Path(build(requirements, machine, cache)["path"])
    unpacked = layer.with_suffix("")
    if not unpacked.exists():
        with made_whole(unpacked) as staging, zipfile.ZipFile(layer) as archive:
            archive.extractall(staging)
    return unpacked / "python"


# Run by `python -I -S`: only the standard library until the paths below are added, in Lambda's
# order (the function's code: the work's folder and the worker's package; the layers; the
# runtime's packages). Prints the module it could not import, and the file of the function's code
# that imported it.
IMPORT = """
import sys, traceback
sys.path[:0] = sys.argv[1:]
try:
    import worker.handler
except ModuleNotFoundError as missing:
    frames = [f.filename for f in traceback.extract_tb(missing.__traceback__)]
    where = [f for f in frames if f.startswith(tuple(sys.argv[1:3]))][-1:] or frames[-1:]
    print(missing.name, where[0] if where else "?")
    sys.exit(1)
"""


def check(root: Path = ROOT, cache: Path | None = None) -> str | None:
    """None when the worker imports with only what Lambda will have, else the one line that says
    which module it could not import, imported from where, and where to list its package."""
    if sys.version_info[:2] != RUNTIME_PYTHON:
        raise RuntimeUnavailable(
            f"the worker's runtime is Python {'.'.join(map(str, RUNTIME_PYTHON))}; this is "
            f"Python {sys.version.split()[0]}"
        )
    cache = cache or root / "build"
    runtime = installed(runtime_requirements(root), cache)
    layer = work_layer(root, cache)
    environment = {
        **worker_environment(Settings.from_terraform(root=root)),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PATH": os.environ.get("PATH", ""),
    }
    work = work_folder(root)
    paths = [str(work), str(root / "src"), *([str(layer)] if layer else []), str(runtime)]
    run = subprocess.run(
        [sys.executable, "-I", "-S", "-c", IMPORT, *paths],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode == 0:
        return None
    if run.returncode != 1 or len(run.stdout.split()) != 2:
        return f"The worker does not import as on Lambda: {run.stderr.strip().splitlines()[-1:]}"
    module, where = run.stdout.split()
    return (
        f"{shown(Path(where), root)} imports {module}, which the worker will not have on Lambda "
        f"(Python 3.12, its boto3, the Powertools layer): list its package in "
        f"{shown(work / 'work_requirements.txt', root)}"
    )


def main() -> int:
    try:
        problem = check()
    except RuntimeUnavailable as unavailable:
        print(f"Lambda's imports not checked: {unavailable}", file=sys.stderr)
        return 2
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
