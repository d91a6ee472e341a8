"""`make test-apply`: the whole deploy cycle with real Terraform into the emulator, as a team runs
it against AWS, for the module alone (with the approval service) and then examples/complete (two
instances, their own works, the refunds instance's approval service and the charges table the
example creates):

  1. terraform init and apply;
  2. a second plan shows no changes;
  3. the worker processes run what Terraform created (emulator/created.py), and `make
     test-deployed` passes against each instance's outputs, with that instance's work; for
     examples/complete the refund its accepted example made is in the charges table;
  4. for the module alone, what the in-process deployment (emulator/deployment.py, which `make
     demo` and the fast tests use) creates is compared with what Terraform created, resource by
     resource: a difference that docs/emulator.md does not list fails the cycle;
  5. terraform destroy leaves nothing in its state, and nothing in the emulator.

Where no aws provider can be had it says so in one line and exits 0, or 1 with REQUIRE_PROVIDERS
set (`.ci/run` sets it on a machine with a provider mirror). Its closing lines give each step's
time.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import boto3

from emulator import moto_fixes
from emulator.apply import ApplyError, Terraform, progress_line, provider_problem, root_region
from emulator.consumers import Consumers
from emulator.created import created_functions
from emulator.deployment import Settings, deploy, idempotency_table_name
from emulator.server import free_port, moto_server
from emulator.terraform import ROOT

if TYPE_CHECKING:
    from pathlib import Path

    from emulator.created import CreatedFunction
    from emulator.deployment import Deployment

COMPLETE = ROOT / "examples" / "complete"


def main() -> int:
    problem = provider_problem()
    if problem:
        print(f"make test-apply: skipped, {problem}.")
        return 1 if os.environ.get("REQUIRE_PROVIDERS") else 0
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # the ASL interpreter logs every Fail
    port = free_port()
    failures: list[str] = []
    timings: dict[str, dict[str, float]] = {}
    moto_fixes.apply()
    with moto_server(port) as endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        module = {
            "approval": {},
            "task_timeout_seconds": 60,
            "work_source_path": str(ROOT / "src" / "work"),
        }
        for label, root, variables, instances in (
            ("module", ROOT, module, {"": ROOT / "src" / "work"}),
            ("examples/complete", COMPLETE, {}, {k: COMPLETE / k for k in ("orders", "refunds")}),
        ):
            print(f"\n== {label}: terraform apply into the emulator", flush=True)
            try:
                timings[label] = cycle(endpoint, root, label, variables, instances, failures)
            except ApplyError as error:
                failures.append(f"{label}: {error}")
    print("\n== make test-apply: the steps' times (seconds)")
    for label, steps in timings.items():
        shown = ", ".join(f"{step} {seconds:.0f}" for step, seconds in steps.items())
        print(f"  {label}: {shown}; total {sum(steps.values()):.0f}")
    for failure in failures:
        print(f"FAILED {failure}")
    print(f"make test-apply: {len(timings) * 5 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def cycle(
    endpoint: str,
    root: Path,
    label: str,
    variables: dict[str, Any],
    instances: dict[str, Path],
    failures: list[str],
) -> dict[str, float]:
    region = root_region(root) or "us-east-1"
    moto_fixes.seed_powertools_layer(
        moto_fixes.MOTO_ACCOUNT, region, moto_fixes.POWERTOOLS_RELEASES
    )
    terraform = Terraform(
        root, endpoint, "test-apply-" + label.replace("/", "-"), variables, region
    )
    versions = terraform.init()
    print("  providers: " + ", ".join(f"hashicorp/{n} {v}" for n, v in versions.items()))
    terraform.apply(on_line=lambda line: (shown := progress_line(line)) and print(shown))
    changes = terraform.plan_changes()
    if changes:
        failures.append(f"{label}: the plan after the apply shows changes:\n{changes}")
    outputs = {name: output["value"] for name, output in terraform.outputs().items()}
    clients = {
        f"lambda:{region}": boto3.client("lambda", region_name=region),
        f"sqs:{region}": boto3.client("sqs", region_name=region),
        "iam": boto3.client("iam", region_name=region),
    }
    functions = created_functions(clients, terraform.build / "functions")
    started = time.monotonic()
    for instance, work in instances.items():
        instance_outputs = outputs[instance] if instance else outputs
        function = next(f for f in functions if f.queue_url == instance_outputs["queue_url"])
        if not deployed_suite_passes(endpoint, terraform.build, instance or label, function,
                                     instance_outputs, work):  # fmt: skip
            failures.append(f"{label} {instance}: make test-deployed failed (its output above)")
    if root == COMPLETE:
        refunded = charges_item(region, "refund#order-1")
        if refunded is None:
            failures.append(f"{label}: no refund#order-1 in the charges table the example created")
    terraform.timings.took("deployed suite", started)
    if root == ROOT:
        started = time.monotonic()
        failures += [f"{label}: {d}" for d in in_process_differences(region, functions[0], outputs)]
        terraform.timings.took("comparison", started)
    terraform.destroy(on_line=lambda line: (shown := progress_line(line)) and print(shown))
    left = terraform.state_resources() + left_in_the_emulator(region)
    if left:
        failures.append(f"{label}: terraform destroy left {left}")
    return {k: v for k, v in terraform.timings.steps.items() if k not in ("version", "state")}


def deployed_suite_passes(
    endpoint: str,
    build: Path,
    name: str,
    function: CreatedFunction,
    outputs: dict[str, Any],
    work: Path,
) -> bool:
    """`make test-deployed` against one instance, its worker processes running."""
    log = build / f"{name.replace('/', '-')}-worker.log"
    outputs_file = build / f"{name.replace('/', '-')}-outputs.json"
    extras = {"endpoint_url": endpoint, "worker_log_file": str(log)}
    outputs_file.write_text(json.dumps({**outputs, **extras}, indent=2))
    print(f"  make test-deployed against {name} (its work: {work.relative_to(ROOT)})", flush=True)
    with Consumers(endpoint, function, 2, mapping_uuid=function.mapping_uuid,
                   log_dir=build / "consumers", log=log):  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-m", "deployed", "tests/deployed", "-q", "-p",
             "no:cacheprovider"],
            cwd=ROOT,
            env={**os.environ, "DEPLOYED_OUTPUTS": str(outputs_file), "WORK": str(work)},
            check=False,
        )  # fmt: skip
    return run.returncode == 0


def charges_item(region: str, key: str) -> dict[str, Any] | None:
    table = boto3.resource("dynamodb", region_name=region).Table("example-charges")
    return table.get_item(Key={"id": key}, ConsistentRead=True).get("Item")


def left_in_the_emulator(region: str) -> list[str]:
    """What the emulator still holds in the Region: queues, functions, tables, state machines."""
    sqs = boto3.client("sqs", region_name=region)
    left = sqs.list_queues().get("QueueUrls", [])
    left += [
        f["FunctionName"]
        for f in boto3.client("lambda", region_name=region).list_functions()["Functions"]
    ]
    left += boto3.client("dynamodb", region_name=region).list_tables()["TableNames"]
    sfn = boto3.client("stepfunctions", region_name=region)
    left += [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    return left


# What the in-process deployment does not create, on purpose (docs/emulator.md): IAM (moto checks
# none; the worker's scope is emulated, emulator/principals.py), the queue policies and the DLQ's
# redrive allow policy (moto enforces neither), log groups and logging (moto's state machines log
# nowhere), alarms, the dashboard, the page's function and API (the emulator serves the page).
NOT_IN_PROCESS = {"tasks Policy", "dlq Policy", "dlq RedriveAllowPolicy", "state machine logging"}
QUEUE_ATTRIBUTES = (
    "VisibilityTimeout", "MessageRetentionPeriod", "SqsManagedSseEnabled", "DelaySeconds",
    "MaximumMessageSize", "ReceiveMessageWaitTimeSeconds", "Policy", "RedriveAllowPolicy",
)  # fmt: skip


def in_process_differences(
    region: str, created: CreatedFunction, outputs: dict[str, Any]
) -> list[str]:
    """What the in-process deployment of the same variables creates that differs from what
    Terraform created, but for NOT_IN_PROCESS; each as `<what>: in-process X, Terraform Y`."""
    settings = Settings.from_terraform(
        approval={}, task_timeout_seconds=60, work_source_path=str(ROOT / "src" / "work")
    )
    sqs = boto3.client("sqs", region_name=region)
    sfn = boto3.client("stepfunctions", region_name=region)
    ours = deploy(sqs, sfn, settings, approval_page_url=outputs["approval_page_url"])
    tf_name = outputs["state_machine_arn"].rsplit(":", 1)[1]
    our_name = ours.state_machine_arn.rsplit(":", 1)[1]

    def same_names(value: Any) -> Any:
        """Names without their random suffixes, which the two deployments draw each their own
        of (the in-process one leaves it off the idempotency table and the service name)."""
        text = json.dumps(value, sort_keys=True)
        for name in (tf_name, our_name, settings.name):
            text = text.replace(name, "NAME")
        return json.loads(text)

    theirs = described(region, outputs["queue_url"], outputs["dead_letter_queue_url"],
                       outputs["state_machine_arn"], created.environment, created)  # fmt: skip
    mine = described(region, ours.queue_url, ours.dlq_url, ours.state_machine_arn,
                     ours.function_environment(), ours)  # fmt: skip
    found = []
    for key in sorted(theirs.keys() | mine.keys()):
        if key in NOT_IN_PROCESS:
            continue
        a, b = same_names(mine.get(key)), same_names(theirs.get(key))
        if a != b:
            found.append(f"{key}: in-process {a!r}, Terraform {b!r}")
    print(f"  the in-process deployment compared with Terraform's: {len(theirs)} facts, "
          f"{len(found)} differences", flush=True)  # fmt: skip
    for table in (f"{our_name}-approvals", idempotency_table_name(settings)):
        boto3.client("dynamodb", region_name=region).delete_table(TableName=table)
    for url in (ours.queue_url, ours.dlq_url):
        sqs.delete_queue(QueueUrl=url)
    sfn.delete_state_machine(stateMachineArn=ours.state_machine_arn)
    boto3.client("sns", region_name=region).delete_topic(TopicArn=ours.approval.topic_arn)
    return found


def described(
    region: str,
    queue_url: str,
    dlq_url: str,
    state_machine_arn: str,
    environment: dict[str, str],
    function: CreatedFunction | Deployment,
) -> dict[str, Any]:
    """The facts compared: each queue's attributes, the function's environment, handler, timeout
    and batch size, each table's key and TTL, the topic, the state machine's definition, type and
    logging."""
    sqs = boto3.client("sqs", region_name=region)
    facts: dict[str, Any] = {}
    for queue, url in (("tasks", queue_url), ("dlq", dlq_url)):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        for name in QUEUE_ATTRIBUTES:
            facts[f"{queue} {name}"] = attributes.get(name)
        redrive = json.loads(attributes.get("RedrivePolicy", "null") or "null")
        facts[f"{queue} RedrivePolicy"] = redrive and {
            "maxReceiveCount": int(redrive["maxReceiveCount"]),
            "deadLetterTargetArn": redrive["deadLetterTargetArn"].rsplit(":", 1)[1],
        }
    dynamodb = boto3.client("dynamodb", region_name=region)
    tables = {"idempotency": environment.get("IDEMPOTENCY_TABLE_NAME"),
              "approvals": environment.get("APPROVAL_TABLE_NAME")}  # fmt: skip
    for kind, table in tables.items():
        if table:
            schema = dynamodb.describe_table(TableName=table)["Table"]
            ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            facts[f"{kind} table key"] = schema["KeySchema"]
            facts[f"{kind} table billing"] = schema.get("BillingModeSummary", {}).get("BillingMode")
            facts[f"{kind} table TTL"] = (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName"))
    facts["function environment"] = {
        name: value for name, value in environment.items() if name != "APPROVAL_PAGE_URL"
    }
    facts["function handler"] = function.handler
    facts["function timeout"] = function.timeout_seconds
    facts["mapping batch size"] = function.batch_size
    facts["approval topic"] = bool(environment.get("APPROVAL_TOPIC_ARN"))
    machine = boto3.client("stepfunctions", region_name=region).describe_state_machine(
        stateMachineArn=state_machine_arn
    )
    definition = json.loads(machine["definition"])
    task = definition["States"]["WaitForWorker"]["Parameters"]
    task["QueueUrl"] = task["QueueUrl"].rsplit("/", 1)[1]
    facts["state machine definition"] = definition
    facts["state machine type"] = machine["type"]
    facts["state machine logging"] = machine.get("loggingConfiguration", {}).get("level")
    return facts


if __name__ == "__main__":
    sys.exit(main())
