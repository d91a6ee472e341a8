"""What Terraform created in the emulator, read back from moto as the worker processes need it:
each SQS event source mapping, with its queue and the function it invokes (its handler, code,
layers, timeout and environment as Terraform set them), and the state machine whose tasks the
function's role may answer (its AnswerTaskTokens statement in iam.tf).

moto runs in this process (`make serve`), so the function's code is taken from its backend, as
Lambda would unpack it into /var/task, and each layer's into /opt."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator import principals
from emulator.terraform import ROOT

if TYPE_CHECKING:
    from pathlib import Path

    from botocore.client import BaseClient

ACCOUNT = "123456789012"  # moto's
ANSWER_ACTION = "states:SendTaskSuccess"


@dataclass(frozen=True)
class CreatedFunction:
    """An event source mapping and its function, in the shape emulator.consumers runs."""

    mapping_uuid: str
    function_name: str
    queue_url: str
    queue_arn: str
    batch_size: int
    timeout_seconds: int
    handler: str
    environment: dict[str, str]
    state_machine_arn: str | None  # whose tasks the function's role may answer
    code: tuple[Path, ...]  # the function's code, then its layers' python/ folders

    @property
    def python_path(self) -> tuple[Path, ...]:
        return (*self.code, ROOT)  # ROOT: the emulator's own consumer code

    def function_environment(self) -> dict[str, str]:
        return dict(self.environment)

    @property
    def worker_credentials(self) -> dict[str, str]:
        if self.state_machine_arn is None:
            return {}
        return {
            "AWS_ACCESS_KEY_ID": principals.worker_access_key(self.state_machine_arn),
            "AWS_SECRET_ACCESS_KEY": principals.SECRET_ACCESS_KEY,
        }


def created_functions(clients: dict[str, BaseClient], unpack_to: Path) -> list[CreatedFunction]:
    """Every SQS event source mapping Terraform created, with its function, in the Regions of
    the clients given (`lambda:<region>`, `sqs:<region>`, and `iam`)."""
    from moto.awslambda.models import lambda_backends

    found = []
    for key, lambda_client in clients.items():
        if not key.startswith("lambda:"):
            continue
        region = key.split(":", 1)[1]
        backend = lambda_backends[ACCOUNT][region]
        for mapping in lambda_client.list_event_source_mappings()["EventSourceMappings"]:
            if ":sqs:" not in mapping["EventSourceArn"]:
                continue
            function = backend.get_function(mapping["FunctionArn"])
            config = function.get_configuration()
            code = [unpacked(function.code_bytes, unpack_to / function.function_name / "task")]
            for layer in config.get("Layers", []):
                version = backend.layers_versions_by_arn(layer["Arn"])
                if version is not None and getattr(version, "code_bytes", None):
                    folder = unpack_to / function.function_name / layer["Arn"].split(":")[-2]
                    code.append(unpacked(version.code_bytes, folder) / "python")
            sqs = clients[f"sqs:{region}"]
            queue_url = sqs.get_queue_url(QueueName=mapping["EventSourceArn"].split(":")[-1])
            found.append(
                CreatedFunction(
                    mapping_uuid=mapping["UUID"],
                    function_name=function.function_name,
                    queue_url=queue_url["QueueUrl"],
                    queue_arn=mapping["EventSourceArn"],
                    batch_size=mapping["BatchSize"],
                    timeout_seconds=config["Timeout"],
                    handler=config["Handler"],
                    environment=config.get("Environment", {}).get("Variables", {}),
                    state_machine_arn=answerable_state_machine(clients["iam"], config["Role"]),
                    code=tuple(code),
                )
            )
    return found


def unpacked(code: bytes, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(code)) as archive:
        archive.extractall(folder)
    return folder


def answerable_state_machine(iam: BaseClient, role_arn: str) -> str | None:
    """The state machine whose task tokens the role's inline policies let it answer."""
    role = role_arn.rsplit("/", 1)[1]
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        for statement in statements(document):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if ANSWER_ACTION in actions and statement.get("Effect") == "Allow":
                resources = statement.get("Resource", [])
                return resources if isinstance(resources, str) else resources[0]
    return None


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else found
