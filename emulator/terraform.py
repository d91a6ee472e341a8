"""Reads what the emulator needs from the Terraform files, so it cannot drift from them.

The variable defaults come from variables.tf; the state machine definition is statemachine/'s
file rendered the way Terraform's templatefile() renders it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

ROOT = Path(__file__).resolve().parent.parent
ASL_TEMPLATE = ROOT / "statemachine" / "callback.asl.json"

_HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)


@cache
def load_hcl(name: str) -> dict[str, Any]:
    """A Terraform file of the project, parsed by python-hcl2 (strings without their quotes)."""
    with (ROOT / name).open() as file:
        return hcl2.load(file, serialization_options=_HCL_OPTIONS)


def variable_defaults() -> dict[str, Any]:
    """Every variable of variables.tf with its default value."""
    return {
        name: block.get("default")
        for variable in load_hcl("variables.tf")["variable"]
        for name, block in variable.items()
    }


def visibility_timeout_factor() -> int:
    """N in main.tf's `visibility_timeout_seconds = N * var.worker_timeout_seconds`."""
    expression = load_hcl("main.tf")["locals"][0]["visibility_timeout_seconds"]
    match = re.fullmatch(r"\$\{(\d+) \* var\.worker_timeout_seconds\}", expression)
    if match is None:
        raise ValueError(f"main.tf: unexpected visibility_timeout_seconds {expression!r}")
    return int(match.group(1))


# The subset of templatefile() syntax the ASL file uses: ${name}, %{ if name != null } ...
# %{ endif }, and the escapes $${ and %%{. `$$.Task.Token` is plain text to Terraform.
_TOKEN = re.compile(
    r"(?P<escape>\$\$\{|%%\{)"
    r"|\$\{\s*(?P<name>\w+)\s*\}"
    r"|%\{\s*if\s+(?P<if>\w+)\s*!=\s*null\s*\}"
    r"|(?P<endif>%\{\s*endif\s*\})"
    r"|(?P<other>[$%]\{[^}]*\})"
)


def render_template(text: str, variables: dict[str, Any]) -> str:
    """Render `text` as templatefile() would, or raise ValueError where templatefile() fails."""
    out: list[str] = []
    skipping: list[bool] = []
    position = 0
    for match in _TOKEN.finditer(text):
        emitting = not any(skipping)
        if emitting:
            out.append(text[position : match.start()])
        position = match.end()
        if name := match["if"]:
            _require(name, variables)
            skipping.append(variables[name] is None)
        elif match["endif"]:
            if not skipping:
                raise ValueError("%{ endif } without %{ if }")
            skipping.pop()
        elif match["other"]:
            raise ValueError(f"unsupported template sequence {match['other']!r}")
        elif emitting:
            escape = match["escape"]
            out.append(escape[1:] if escape else _interpolate(match["name"], variables))
    if skipping:
        raise ValueError("%{ if } without %{ endif }")
    out.append(text[position:])
    return "".join(out)


def template_placeholders(text: str) -> set[str]:
    """The variable names a template refers to."""
    return {m["name"] or m["if"] for m in _TOKEN.finditer(text) if m["name"] or m["if"]}


def _require(name: str, variables: dict[str, Any]) -> None:
    if name not in variables:
        raise ValueError(f"vars map does not contain key {name!r}")


def _interpolate(name: str, variables: dict[str, Any]) -> str:
    _require(name, variables)
    value = variables[name]
    if value is None:
        raise ValueError(f"the template interpolates {name!r}, which is null")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_state_machine(variables: dict[str, Any]) -> str:
    """The state machine definition, rendered from statemachine/ as main.tf renders it."""
    return render_template(ASL_TEMPLATE.read_text(), variables)
