"""The deployment under test, found from its outputs, in the shape of `terraform output -json`:
the file DEPLOYED_OUTPUTS names (`make serve` writes build/serve-PORT-outputs.json; for the pattern
called as a module, `terraform output -json NAME` of an output that is the module), or else
`terraform output -json` run in this folder when it holds a Terraform state. AWS credentials and
the Region come from the environment, as for the AWS CLI; the emulator's outputs add its
endpoint. Without a deployment the suite is skipped, saying how to give one."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from emulator.terraform import ROOT

HOW = (
    "No deployment to test: give DEPLOYED_OUTPUTS=<a file of `terraform output -json`> "
    "(make serve writes build/serve-PORT-outputs.json), or run where `terraform output` has a "
    "state."
)


@dataclass
class Deployment:
    """A deployed pattern: its outputs, clients of its services, and the executions this run
    started (their task tokens are looked for in the worker's logs)."""

    outputs: dict[str, Any]
    clients: dict[str, Any] = field(default_factory=dict)
    executions: list[str] = field(default_factory=list)

    @property
    def on_emulator(self) -> bool:
        return bool(self.outputs.get("endpoint_url"))

    def client(self, service: str) -> Any:
        if service not in self.clients:
            options: dict[str, Any] = {"region_name": self.outputs["region"]}
            if self.on_emulator:  # moto takes any credentials
                options |= {
                    "endpoint_url": self.outputs["endpoint_url"],
                    "aws_access_key_id": "testing",
                    "aws_secret_access_key": "testing",
                }
            self.clients[service] = boto3.client(service, **options)
        return self.clients[service]


# The outputs the suite reads (outputs.tf; a root module that calls the pattern re-exports them).
NEEDED = (
    "region",
    "state_machine_arn",
    "queue_url",
    "dead_letter_queue_url",
    "event_source_mapping_uuid",
    "task_timeout_seconds",
)


@functools.cache
def deployment_outputs() -> dict[str, Any] | None:
    """The outputs' values, or None when no deployment is given."""
    given = os.environ.get("DEPLOYED_OUTPUTS")
    if given:
        if not Path(given).is_file():
            pytest.exit(f"DEPLOYED_OUTPUTS={given}: no such file", returncode=2)
        raw = json.loads(Path(given).read_text())
    elif (ROOT / "terraform.tfstate").exists() or (ROOT / ".terraform").is_dir():
        from emulator.terraform import terraform

        code, out, errors = terraform().run(["output", "-json"], ROOT)
        if code != 0:
            pytest.exit(f"terraform output -json failed: {errors.strip()}", returncode=2)
        raw = json.loads(out)
    else:
        return None
    outputs = {name: output["value"] for name, output in raw.items()} if wrapped(raw) else raw
    on_aws = ("worker_log_group_name",) if not outputs.get("endpoint_url") else ()
    missing = [name for name in (*NEEDED, *on_aws) if name not in outputs]
    if missing:
        pytest.exit(f"The deployment's outputs lack {', '.join(missing)}", returncode=2)
    return outputs


def wrapped(raw: dict[str, Any]) -> bool:
    """`terraform output -json` gives each output as {"value": ..., "type": ...}; `terraform
    output -json NAME`, for a module's outputs re-exported as one object, gives the values."""
    return all(isinstance(output, dict) and "value" in output for output in raw.values())
