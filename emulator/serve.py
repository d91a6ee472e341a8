"""`make serve`: moto as an AWS endpoint on 127.0.0.1, the pattern deployed in it, the worker
polling its queue, until Ctrl-C or SIGTERM. As Lambda runs up to maximum_concurrency invocations
at once, the worker runs in `workers` processes of its own (emulator/consumers.py).

Beside the queues and the state machine, the worker's function and its event source mapping are
records in moto, so that `aws lambda update-event-source-mapping --no-enabled` pauses the worker
as it does on AWS. The deployment's outputs go to a file in the shape of `terraform output
-json`, plus the endpoint: `make test-deployed` finds the emulator there as it finds a real
deployment."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from emulator import external_system
from emulator.approval_page import page_server, serving_approvals, url_of
from emulator.consumers import Consumers
from emulator.deployment import (
    Approval,
    Deployment,
    Settings,
    create_worker_mapping,
    deploy,
    idempotency_table_name,
)
from emulator.external_system import INBOX_VARIABLE
from emulator.server import moto_server, port_is_free
from emulator.stopping import StopSignal
from emulator.terraform import ROOT
from emulator.work_examples import STAND_IN, Ending, WorkExamples, shown
from worker.handoff import takes_callback

if TYPE_CHECKING:
    from botocore.client import BaseClient

REGION = "us-east-1"
# Processes polling at once, each with its own import of the worker, as Lambda's execution
# environments: by default 2, the fewest an SQS event source mapping runs (maximum_concurrency).
WORKERS = 2
TERRAFORM_TYPES = {str: "string", int: "number", float: "number", bool: "bool"}


def files(port: int) -> tuple[Path, Path, Path]:
    """The outputs file, the worker's log and the external system's inbox (--hand-off) of the
    serve on `port`: each serve its own."""
    build = ROOT / "build"
    return (
        build / f"serve-{port}-outputs.json",
        build / f"serve-{port}-worker.log",
        build / f"serve-{port}-handed-off.jsonl",
    )


def serve(
    port: int,
    settings: Settings | None,
    show_logs: bool = False,
    outputs_file: Path | None = None,
    worker_log: Path | None = None,
    workers: int = WORKERS,
    hand_off: bool = False,
    answer_hand_offs: bool = False,
    approval_work: bool = False,
    terraform: TerraformRoot | None = None,
) -> int:
    """Serve the pattern until Ctrl-C or SIGTERM: applied by real Terraform (`terraform`: the
    module or a root of the user's, with its variables), or else deployed in-process with
    `settings`. The team's work, if it hands tasks off, hands them to the inbox of a stand-in for
    its external system (emulator/external_system.py), which the user answers from, or, with
    `answer_hand_offs`, the stand-in, as the work's handed-off example says; with `hand_off`, the
    worker runs a work of the emulator's own instead, which hands every task off to that inbox,
    and with `approval_work` one that asks the approval service (var.approval) for every task."""
    for warning in settings.warnings if settings else ():
        print(f"Terraform warns (as at plan): {warning}", file=sys.stderr)
    if not port_is_free(port):
        print(
            f"Port {port} on 127.0.0.1 is already in use: stop what holds it, or choose another "
            f"port with PORT=5001 make serve (python -m emulator serve --port 5001).",
            file=sys.stderr,
        )
        return 2
    stop = StopSignal()
    os.umask(0o077)  # its files (outputs, the worker's log, an inbox of live tokens): the user's
    default_outputs, default_log, inbox = files(port)
    outputs_file, worker_log = outputs_file or default_outputs, worker_log or default_log

    logging.getLogger("moto").setLevel(logging.CRITICAL)  # the ASL interpreter logs every Fail
    page = page_server(port + 1)  # bound now and kept; served if the deployment has the service
    with page, moto_server(port) as endpoint:  # the page's socket closed at the end
        # Every client here, the workers' included, talks to the endpoint as a user's AWS CLI.
        os.environ["AWS_ENDPOINT_URL"] = endpoint
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(key, "testing")  # moto takes any
        page_url = url_of(page)
        if terraform is not None:
            served = applied_by_terraform(endpoint, port, terraform, page_url)
        else:
            assert settings is not None
            served = deployed_in_process(endpoint, settings, page_url)
        if served is None:
            return 1
        os.environ["AWS_DEFAULT_REGION"] = served.region  # the approval page's clients
        sqs = boto3.client("sqs", region_name=served.region)
        from work import do_work  # the team's work, as the worker processes will run it

        examples = WorkExamples.load()
        own_stand_in = external_system.own_stand_in()
        work = None  # the team's, as it is
        stand_in_answers = False
        if approval_work:
            work = "emulator.external_system:approval_work"
        elif hand_off:
            work = "emulator.external_system:do_work"
        elif takes_callback(do_work):
            work = "emulator.external_system:teams_work"
            if own_stand_in:
                stand_in_answers = True  # the team's own, as it decides
            elif answer_hand_offs and examples.handed_off:
                external_system.answer_with(examples.handed_off.answer)  # the workers' environment
                stand_in_answers = True
        # the user answers from the inbox (not from the approval page, nor the team's stand-in)
        answering = (
            work is not None and not approval_work and not answer_hand_offs
            and not (own_stand_in and not hand_off)
        )  # fmt: skip
        outputs = {
            **served.outputs,
            **emulator_extras(endpoint, None if show_logs else worker_log, stand_in_answers),
        }
        if work is not None and not approval_work:
            inbox.parent.mkdir(parents=True, exist_ok=True)
            inbox.unlink(missing_ok=True)
            os.environ[INBOX_VARIABLE] = str(inbox)
        try:
            with contextlib.ExitStack() as running:
                # The team's stand-in for its external system, if its work has one (and runs):
                # the worker processes reach it through the environment it gives them.
                stand_in = None if hand_off or approval_work else external_system.teams_stand_in()
                reaches_it = running.enter_context(stand_in) if stand_in else None
                pools = [
                    Consumers(
                        endpoint,
                        function,
                        min(served.concurrency or workers, workers),
                        work=work,
                        mapping_uuid=function.mapping_uuid,
                        log_dir=outputs_file.with_suffix(".workers") / str(index),
                        log=Path("/dev/stderr") if show_logs else worker_log,
                        environment=reaches_it or {},
                    )
                    for index, function in enumerate(served.functions)
                ]
                for pool in pools:
                    running.enter_context(pool)
                running.enter_context(serving_approvals(served.approval, sqs, page))
                # Written once the workers poll: whoever reads the file finds the pattern whole.
                outputs_file.parent.mkdir(parents=True, exist_ok=True)
                outputs_file.write_text(json.dumps(outputs, indent=2) + "\n")
                print(
                    instructions(
                        endpoint,
                        served.region,
                        outputs,
                        outputs_file,
                        HandOffs(
                            examples,
                            takes_callback(do_work),
                            hand_off,
                            answering,
                            inbox,
                            own_stand_in=reaches_it is not None,
                            asks_approval=approval_work,
                        ),
                    ),
                    flush=True,
                )
                stop.wait()
                print("Stopping ...", flush=True)
        finally:
            outputs_file.unlink(missing_ok=True)
            inbox.unlink(missing_ok=True)  # live tokens, of a deployment that is gone
            shutil.rmtree(outputs_file.with_suffix(".workers"), ignore_errors=True)
    return 0


@dataclass(frozen=True)
class TerraformRoot:
    """What `make serve` applies with real Terraform: a root (the module itself, or one of the
    user's that calls it) and its variables."""

    root: Path
    variables: dict[str, Any]


@dataclass(frozen=True)
class Served:
    """A deployment on the endpoint, whichever way it was made."""

    region: str
    functions: list[Any]  # what emulator.consumers runs: Deployment or CreatedFunction
    outputs: dict[str, dict[str, Any]]  # as `terraform output -json` gives them
    approval: Approval | None
    concurrency: int | None  # the event source mapping's cap


def applied_by_terraform(
    endpoint: str, port: int, given: TerraformRoot, page_url: str
) -> Served | None:
    """`terraform init` and `apply` of the root into the endpoint, with progress; what Terraform
    created, read back for the worker processes. None, having said why, if Terraform failed."""
    from emulator import moto_fixes
    from emulator.apply import ApplyError, Terraform, progress_line, root_region
    from emulator.created import created_functions

    region = root_region(given.root) or REGION
    moto_fixes.apply()
    moto_fixes.seed_powertools_layer(
        moto_fixes.MOTO_ACCOUNT, region, moto_fixes.POWERTOOLS_RELEASES
    )
    started = time.monotonic()
    try:
        applying = Terraform(given.root, endpoint, f"serve-{port}", given.variables, region)
        print(f"Applying {shown(given.root)} with real Terraform into the emulator ...", flush=True)
        versions = applying.init()
        print(
            "  providers: " + ", ".join(f"hashicorp/{n} {v}" for n, v in versions.items()),
            flush=True,
        )

        def show(line: str) -> None:
            if (shown_line := progress_line(line)) is not None:
                print(shown_line, flush=True)

        applying.apply(on_line=show)
        outputs = applying.outputs()
    except ApplyError as failed:
        print(f"serve: {failed}", file=sys.stderr)
        return None
    print(f"Applied in {time.monotonic() - started:.0f} s.", flush=True)
    clients = {
        **{
            f"{s}:{r}": boto3.client(s, region_name=r) for s in ("lambda", "sqs") for r in (region,)
        },
        "iam": boto3.client("iam", region_name=region),
    }
    functions = created_functions(clients, applying.build / "functions")
    approval = None
    for function in functions:
        environment = function.environment
        if "APPROVAL_TABLE_NAME" in environment:
            # The page is served here, not by API Gateway: the links the worker publishes name it.
            environment["APPROVAL_PAGE_URL"] = page_url
            approval = approval or Approval(
                environment["APPROVAL_TABLE_NAME"], environment["APPROVAL_TOPIC_ARN"], page_url
            )
    return Served(region, functions, outputs, approval, None)


def deployed_in_process(endpoint: str, settings: Settings, page_url: str) -> Served:
    """The emulator's in-process deployment (emulator/deployment.py), with the records moto
    keeps of the worker's function and mapping, and its log groups."""
    sqs = boto3.client("sqs", region_name=REGION)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    deployment = deploy(sqs, sfn, settings, approval_page_url=page_url)
    name = deployment.state_machine_arn.rsplit(":", 1)[1]
    uuid = create_worker_mapping(
        boto3.client("lambda", region_name=REGION),
        boto3.client("iam", region_name=REGION),
        deployment,
        f"{name}-worker",
    )
    log_groups = create_log_groups(boto3.client("logs", region_name=REGION), name)
    return Served(
        REGION,
        [InProcessFunction(deployment, uuid)],
        emulator_outputs(deployment, uuid, log_groups),
        deployment.approval,
        settings.maximum_concurrency,
    )


@dataclass(frozen=True)
class InProcessFunction:
    """The in-process deployment's worker, with its mapping's UUID, for emulator.consumers."""

    deployment: Deployment
    mapping_uuid: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.deployment, name)


def create_log_groups(logs: BaseClient, name: str) -> dict[str, str]:
    """The worker's and the state machine's log groups, named as the module names them (the
    emulator's worker writes to a file, and moto's state machines log nowhere: they stay empty)."""
    groups = {
        "worker_log_group_name": f"/aws/lambda/{name}-worker",
        "state_machine_log_group_name": f"/aws/vendedlogs/states/{name}",
    }
    for group in groups.values():
        logs.create_log_group(logGroupName=group)
    return groups


def emulator_outputs(
    deployment: Deployment, uuid: str, log_groups: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """outputs.tf's outputs for the in-process deployment, as `terraform output -json` gives
    them."""
    values: dict[str, Any] = {
        "region": REGION,
        "task_timeout_seconds": deployment.settings.task_timeout_seconds,
        "state_machine_arn": deployment.state_machine_arn,
        "queue_url": deployment.queue_url,
        "queue_arn": deployment.queue_arn,
        "dead_letter_queue_url": deployment.dlq_url,
        "dead_letter_queue_arn": deployment.dlq_arn,
        "worker_function_name": deployment.state_machine_arn.rsplit(":", 1)[1] + "-worker",
        "event_source_mapping_uuid": uuid,
        **log_groups,
        "idempotency_table_name": idempotency_table_name(deployment.settings)
        if deployment.settings.idempotency
        else None,
        "approval_page_url": deployment.approval.page_url if deployment.approval else None,
        "approval_topic_arn": deployment.approval.topic_arn if deployment.approval else None,
    }
    return as_terraform_outputs(values)


def emulator_extras(
    endpoint: str, worker_log: Path | None, stand_in_answers: bool
) -> dict[str, dict[str, Any]]:
    """What the emulator has instead of AWS, beside the outputs: its endpoint, the worker's log
    file, and whether a stand-in for the team's system (the emulator's, or the team's own) answers
    the work's handed-off tasks."""
    return as_terraform_outputs(
        {
            "endpoint_url": endpoint,
            "worker_log_file": str(worker_log) if worker_log else None,
            "hand_offs_answered_by_the_emulator": stand_in_answers,
        }
    )


def as_terraform_outputs(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {  # Terraform leaves an output whose value is null out of its state and its listing
        name: {"sensitive": False, "type": TERRAFORM_TYPES[type(value)], "value": value}
        for name, value in values.items()
        if value is not None
    }


def instance_outputs(values: dict[str, Any]) -> dict[str, Any]:
    """The module's outputs among a root's: its own (the module applied alone), or the first
    output that is an instance's (`output "orders" { value = module.callback["orders"] }`)."""
    if "state_machine_arn" in values:
        return values
    for value in values.values():
        if isinstance(value, dict) and "state_machine_arn" in value:
            extras = ("endpoint_url", "worker_log_file", "hand_offs_answered_by_the_emulator")
            return {**value, **{name: values[name] for name in extras if name in values}}
    raise ValueError("no output of the root is an instance of the module (state_machine_arn)")


@dataclass(frozen=True)
class HandOffs:
    """What the printed commands show of hand-offs."""

    examples: WorkExamples
    work_hands_off: bool  # the team's work takes a callback
    emulators_work: bool  # --hand-off: the emulator's own work hands every task off
    user_answers: bool  # from the inbox (else the stand-in answers, or nobody need)
    inbox: Path
    own_stand_in: bool = False  # the team's stand-in (work_stand_in.py) answers them
    asks_approval: bool = False  # --approval: the emulator's own work asks a person, every task

    def input(self) -> Any:
        """The input whose task the work hands off, if any: the team's handed-off example, or
        any input for the emulator's own work."""
        if self.emulators_work:
            return self.examples.accepted
        return self.examples.handed_off.input if self.examples.handed_off else None

    def answer(self) -> Any:
        return {"approved": True} if self.emulators_work else self.examples.handed_off.answer


def instructions(
    endpoint: str,
    region: str,
    outputs: dict[str, dict[str, Any]],
    outputs_file: Path,
    hand_offs: HandOffs,
) -> str:
    """Commands to try that run verbatim, every time: each start gets a name of its own. For a work
    that hands tasks off, the user answers them, as an approver would. For a root of the user's,
    the commands are for the first instance of the module among its outputs."""
    value = instance_outputs({name: output["value"] for name, output in outputs.items()})
    aws = f"aws --endpoint-url {endpoint} --region {region}"
    examples = hand_offs.examples
    logs = f"in {value['worker_log_file']}" if "worker_log_file" in value else "on stderr"

    def start(kind: str, task_input: Any) -> str:
        return (
            f"arn=$({aws} stepfunctions start-execution \\\n"
            f"      --state-machine-arn {value['state_machine_arn']} \\\n"
            f'      --name "{kind}-$(date +%s)-$RANDOM" \\\n'
            f"      --input {shlex.quote(json.dumps(task_input))} \\\n"
            f"      --query executionArn --output text)"
        )

    def describe(after_seconds: int, fields: str) -> str:
        return (
            f"sleep {after_seconds}; {aws} stepfunctions describe-execution \\\n"
            f"      --execution-arn \"$arn\" --query '[status, {fields}]'"
        )

    def wait_for_it(ending: Ending) -> int:
        """Seconds to wait before describing an execution that ends so: a timeout's, the task
        timeout and a little; any other, a few (the team's stand-in answers as it decides)."""
        timed_out = (ending.status, ending.error) == ("FAILED", "CallbackTimedOut")
        return int(value["task_timeout_seconds"]) + 2 if timed_out else 5

    def depth(url: str) -> str:
        return (
            f"{aws} sqs get-queue-attributes --queue-url {url} \\\n"
            "      --attribute-names ApproximateNumberOfMessages "
            "ApproximateNumberOfMessagesNotVisible"
        )

    def answered(*answer: str) -> str:
        """Wait (10 s at most) for the work to hand the execution's task off, its token into a
        file of the user's alone (a token on a command line is there for `ps` to show); then
        answer it, or say that the work did not hand it off."""
        query = "'select(.executionArn == $arn) | .taskToken'"
        indented = "\n".join(f"    {line}" for command in answer for line in command.splitlines())
        return (
            f'for _ in $(seq 50); do jq -j --arg arn "$arn" {query} {hand_offs.inbox} \\\n'
            f'      > "$token_file" 2>/dev/null || true; [ -s "$token_file" ] && break; sleep 0.2\n'
            "  done  # (the inbox is there once the first task is handed off)\n"
            f'  if [ -s "$token_file" ]; then\n{indented}\n'
            "  else\n"
            '    echo "The work did not hand this task off: see how its execution ended." >&2\n'
            "  fi"
        )

    def answer(operation: str, arguments: str) -> str:
        return (
            f'{aws} stepfunctions {operation} --task-token "file://$token_file" \\\n    {arguments}'
        )

    if hand_offs.asks_approval:  # it asks a person for every task: nothing ends by itself
        work = f"""\
  # the emulator's own work asks a person for every task, whatever its input: start one, open
  # the link printed here, approve or reject it on the page, then see how the execution ended
  {start("approval", examples.accepted)}
  {describe(30, "output, error, cause")}"""
    elif hand_offs.emulators_work:  # it hands every task off: the work's examples are not its
        work = "  # the emulator's own work hands every task off, whatever its input"
    else:
        work = f"""\
  # an execution of the accepted example, and what became of it
  {start("accepted", examples.accepted)}
  {describe(2, "output")}

  # an execution of the rejected example: FAILED with {examples.rejected_error}
  {start("rejected", examples.rejected)}
  {describe(2, "error")}"""
    handed_off = None if hand_offs.asks_approval else hand_offs.input()
    if hand_offs.asks_approval:
        pass  # its tasks are answered on the page
    elif hand_offs.own_stand_in:
        for number, example in enumerate(examples.handed_offs, 1):
            work += f"""

  # a task your work hands off ({number} of {len(examples.handed_offs)}) to your stand-in for your
  # external system ({STAND_IN}), which answers it as it decides: it ends {example.ending}
  {start("handed-off", example.input)}
  {describe(wait_for_it(example.ending), "error, output")}"""
    elif handed_off is not None and hand_offs.user_answers:  # the user answers from the inbox
        output = shlex.quote(json.dumps(hand_offs.answer()))
        who = "the emulator's own work" if hand_offs.emulators_work else "the work"
        approve = answered(
            answer("send-task-success", "--task-output '{approved: true}' || true"),
            answer("send-task-success", f"--task-output {output}"),
        )
        # the emulator's own work plays an approval; a team's work, whatever its system is
        you = "an approver" if hand_offs.emulators_work else "its external system"
        cause = "over the approver's limit" if hand_offs.emulators_work else "refused by the system"
        reject = answered(answer("send-task-failure", f'--error Rejected --cause "{cause}"'))
        work += f"""

  # a task handed off by {who}: the execution waits for the external system,
  # here you, as {you}: take its token from the inbox, and answer it. A typo in the
  # answer (keys without quotes) is refused with InvalidOutput, as on AWS, and the task goes on
  # waiting for a good one
  command -v jq >/dev/null || echo "These commands read the inbox with jq: install it first." >&2
  token_file=$(mktemp)  # readable by you alone; the token stays off every command line
  {start("handed-off", handed_off)}
  {approve}
  {describe(1, "output")}

  # or reject one: the execution fails with your error and cause
  {start("handed-off", handed_off)}
  {reject}
  {describe(1, "error, cause")}
  rm "$token_file\""""
    elif handed_off is not None:
        work += f"""

  # the work hands this task off, and the emulator answers it a second later, standing in for
  # your external system, with the answer of the work's handed-off example
  {start("handed-off", handed_off)}
  {describe(3, "output")}"""
    elif hand_offs.work_hands_off:
        work += """

  # (the work takes a callback, but its work_examples.json names no handed_off input: nothing
  # here starts a hand-off)"""
    else:
        work += """

  # (a work that hands its tasks off to a person or another system: make serve ARGS=--hand-off
  # runs one of the emulator's, whose tasks you answer)"""

    mapping = (
        f"{aws} lambda update-event-source-mapping --uuid {value['event_source_mapping_uuid']}"
    )
    approval = ""
    if "approval_page_url" in value:
        approval = f"""\
The approval service's page is at {value["approval_page_url"]}/<link ID>: a work that returns
request_approval(callback, title, fields) hands its task to it, and each request's link is printed
here as it comes, for you to open in a browser and approve or reject (make serve ARGS=--approval:
the emulator's own work asks for every task).

"""
    timeout = value["task_timeout_seconds"]
    venv_bin = ROOT / ".venv" / "bin"
    return f"""\
The pattern is deployed on the emulator at {endpoint}; the worker is polling its queue.

  state machine  {value["state_machine_arn"]}
  outputs        {outputs_file} (as `terraform output -json`; make test-deployed
                 reads it: DEPLOYED_OUTPUTS={outputs_file} make test-deployed)

Try it with the AWS CLI and the work's examples, in another shell (any credentials do; the
project's virtual environment has an AWS CLI for a PATH without one):

  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing PATH="$PATH:{venv_bin}"

{work}

  # the task queue and the dead-letter queue
  {depth(value["queue_url"])}
  {depth(value["dead_letter_queue_url"])}

  # a timeout: pause the worker, start one, wait out the task timeout ({timeout} s; set it
  # with make serve ARGS="--var task_timeout_seconds=10"), see CallbackTimedOut, resume the worker
  {mapping} --no-enabled
  {start("paused", examples.accepted)}
  {describe(timeout + 2, "error")}
  {mapping} --enabled

{approval}The worker's logs are {logs}. Ctrl-C stops the emulator."""
