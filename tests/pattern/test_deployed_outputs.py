"""How the deployed suite finds its deployment: `terraform output -json` of the pattern's root,
or of one output that is the whole module; a clear stop when an output it needs is missing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.deployed.deployment import NEEDED, deployment_outputs

if TYPE_CHECKING:
    from pathlib import Path

VALUES: dict[str, Any] = {name: f"the {name}" for name in NEEDED} | {
    "worker_log_group_name": "/aws/lambda/cb-orders-worker",
    "alarm_names": ["cb-orders-dead-letter-queue"],
}


def outputs_from(file: Path, content: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    file.write_text(json.dumps(content))
    monkeypatch.setenv("DEPLOYED_OUTPUTS", str(file))
    return deployment_outputs.__wrapped__()  # not the session's cached answer


def test_it_reads_the_roots_outputs_as_terraform_output_json_gives_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrapped = {
        name: {"sensitive": False, "type": "string", "value": v} for name, v in VALUES.items()
    }

    assert outputs_from(tmp_path / "outputs.json", wrapped, monkeypatch) == VALUES


def test_it_reads_a_modules_outputs_as_terraform_output_json_name_gives_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN `output "callback" { value = module.callback }` and `terraform output -json callback`
    assert outputs_from(tmp_path / "outputs.json", VALUES, monkeypatch) == VALUES


def test_an_output_it_needs_missing_stops_the_run_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_queue = {name: value for name, value in VALUES.items() if name != "queue_url"}

    with pytest.raises(pytest.exit.Exception, match=r"outputs lack queue_url$"):
        outputs_from(tmp_path / "outputs.json", without_queue, monkeypatch)
