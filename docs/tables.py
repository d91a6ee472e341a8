"""The README's Inputs and Outputs tables, from variables.tf and outputs.tf.

    python docs/tables.py           rewrites them in README.md (`make docs`)
    python docs/tables.py --check   exits 1 if README.md's are out of date (a test runs it)

They stand between terraform-docs' markers, `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`,
so a team that prefers terraform-docs can run it there instead.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

ROOT = Path(__file__).resolve().parent.parent

README = ROOT / "README.md"
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def load_hcl(name: str, root: Path) -> dict[str, Any]:
    """A Terraform file as python-hcl2 reads it, strings without their quotes."""
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    with (root / name).open() as file:
        return hcl2.load(file, serialization_options=options)


def tables(root: Path = ROOT) -> str:
    """The Inputs and Outputs tables, in the files' order."""
    rows = ["## Inputs", "", "| name | description | type | default |", "| --- | --- | --- | --- |"]
    for block in load_hcl("variables.tf", root)["variable"]:
        for name, variable in block.items():
            kind = re.sub(r"^\$\{(.*)\}$", r"\1", variable["type"])
            rows.append(
                f"| `{name}` | {cell(variable['description'])} | `{kind}` "
                f"| `{hcl_value(variable['default'])}` |"
            )
    rows += ["", "## Outputs", "", "| name | description |", "| --- | --- |"]
    for block in load_hcl("outputs.tf", root)["output"]:
        for name, output in block.items():
            rows.append(f"| `{name}` | {cell(output['description'])} |")
    return "\n".join(rows)


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def hcl_value(value: Any) -> str:
    """A default as it reads in HCL (null, true, "text", {}, [])."""
    return json.dumps(value).replace("|", "\\|")


def with_tables(readme: str, generated: str) -> str:
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return f"{readme[:start]}\n{generated}\n{readme[end:]}"


def main(argv: list[str]) -> int:
    readme = README.read_text()
    updated = with_tables(readme, tables())
    if "--check" in argv:
        if updated != readme:
            print("README.md's Inputs and Outputs tables are out of date: run make docs")
            return 1
        return 0
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
