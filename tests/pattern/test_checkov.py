"""checkov's default Terraform checks over the configuration, from its own virtual environment."""

from __future__ import annotations

import json
import subprocess

import pytest

from emulator.terraform import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.mark.slow
def test_checkov_finds_no_failed_check_and_every_skip_says_why() -> None:
    assert CHECKOV.exists(), "run `make venv`: checkov lives in .venv-checkov"
    run = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(ROOT),
            "--framework",
            "terraform",
            "--skip-download",
            "--skip-path",
            "build",  # the emulator's working copies of the module
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(run.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 50
    # Each skip is an inline `checkov:skip=ID:reason`, with a reason (the submodules' and the
    # examples' too).
    skips = [
        line
        for path in [
            *ROOT.glob("*.tf"),
            *ROOT.glob("modules/*/*.tf"),
            *ROOT.glob("examples/*/*.tf"),
        ]
        for line in path.read_text().splitlines()
        if "checkov:skip=" in line
    ]
    # checkov reports the module's skips once per instance the example makes: count each place once.
    skipped = {
        (c["check_id"], c["file_path"], tuple(c["file_line_range"]))
        for c in report["results"]["skipped_checks"]
    }
    assert len(skips) == len(skipped)
    assert all(len(line.split(":", 2)[2].strip()) > 20 for line in skips)
