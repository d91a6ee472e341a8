"""`make serve` as a user runs it: the deployed suite (`make test-deployed`) passes against it,
the timeout check included; the AWS CLI commands it prints run verbatim, and again, and so do the
runbook's (docs/monitoring.md); Ctrl-C stops it within seconds, under load and with executions in
flight, and it starts again at once on the same port; two serves keep their own files; a variable
it cannot take is one line. And `make test-deployed` without a deployment skips, saying how to
give one."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from emulator.server import free_port
from emulator.terraform import ROOT
from emulator.watch import wait_for
from emulator.work_examples import WorkExamples
from tests.deployed.deployment import HOW

if TYPE_CHECKING:
    from collections.abc import Iterator

# The tests already run in .venv: make must never rebuild it under them.
MAKE = ["make", "--no-print-directory", "--assume-old=.venv/.installed"]
# Short, for the deployed suite's timeout check; long enough that its burst of 50 ends in time with
# a work that takes a while (a team's that heartbeats per item) on a loaded machine.
TASK_TIMEOUT_SECONDS = 20


def user_environment(**extra: str) -> dict[str, str]:
    """A shell's environment with no AWS settings: none of the tests', none of this machine's."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    no_aws_files = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    return environment | no_aws_files | extra


@dataclass
class Served:
    process: subprocess.Popen[str]
    outputs_file: Path
    screen: Path  # what make serve printed

    def printed(self) -> str:
        return self.screen.read_text()

    def outputs(self) -> dict[str, Any]:
        return {k: v["value"] for k, v in json.loads(self.outputs_file.read_text()).items()}

    def stop_with_ctrl_c(self, timeout: float = 30) -> float:
        """Ctrl-C as a terminal sends it (SIGINT to make and to serve); the seconds it took until
        nothing of it was left running."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(timeout=timeout)
        gone = wait_for(lambda: not group_alive(self.process.pid), timeout=timeout, interval=0.05)
        assert gone, "a process of make serve is still running"
        return time.monotonic() - started


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


STARTED_ON: list[int] = []  # the ports of the serves the running test started


@pytest.fixture(autouse=True)
def files_taken_away() -> Iterator[None]:
    """make serve leaves its worker's log in build/, for its user to read after it; a test takes
    away what its own serves left (and what a serve it had to kill could not take away)."""
    yield
    while STARTED_ON:
        for left in (ROOT / "build").glob(f"serve-{STARTED_ON.pop()}-*"):
            shutil.rmtree(left) if left.is_dir() else left.unlink()


def start_serve(port: int, folder: Path, args: str = "", **make_variables: str) -> Served:
    """`make serve` on `port` in its own session (as a terminal runs it), printing into `folder`;
    returns once it has written its outputs (build/serve-PORT-outputs.json, unless args say)."""
    screen = folder / f"screen-{port}.txt"
    STARTED_ON.append(port)
    outputs = re.search(r"--outputs (\S+)", args)
    with screen.open("w") as out:
        process = subprocess.Popen(
            [*MAKE, "serve", f"PORT={port}", f"ARGS=--in-process {args}"]
            + [f"{name}={value}" for name, value in make_variables.items()],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=user_environment(),
            start_new_session=True,
        )
    serving = Served(
        process,
        Path(outputs.group(1)) if outputs else ROOT / "build" / f"serve-{port}-outputs.json",
        screen,
    )
    try:
        wait_for(lambda: serving.outputs_file.exists() or process.poll() is not None, timeout=90)
        assert process.poll() is None, serving.printed()
        assert serving.outputs_file.exists(), serving.printed()
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        raise
    return serving


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`make serve` on a free port with a short task timeout, its outputs and the worker's log in
    tmp_path; yields once it has written its outputs."""
    serving = start_serve(
        free_port(),
        tmp_path,
        f"--outputs {tmp_path / 'outputs.json'} --worker-log {tmp_path / 'worker.log'} "
        f"--var task_timeout_seconds={TASK_TIMEOUT_SECONDS} "
        "--answer-hand-offs",  # a work that hands tasks off: answered, for the accepted example
    )
    try:
        yield serving
    finally:
        if serving.process.poll() is None:
            os.killpg(serving.process.pid, signal.SIGKILL)
            serving.process.wait()


@pytest.mark.slow
def test_the_deployed_suite_passes_against_make_serve_and_ctrl_c_stops_it(served: Served) -> None:
    # GIVEN the outputs make serve wrote, as `terraform output -json` writes them: Terraform's
    # type names, and no output whose value is null (Terraform keeps none of those)
    outputs = json.loads(served.outputs_file.read_text())
    assert {output["type"] for output in outputs.values()} <= {"string", "number", "bool"}
    assert None not in [output["value"] for output in outputs.values()]

    # WHEN the deployed suite runs as the README says, the timeout check included
    run = subprocess.run(
        [*MAKE, "test-deployed"],
        cwd=ROOT,
        env=user_environment(DEPLOYED_OUTPUTS=str(served.outputs_file), DEPLOYED_TIMEOUT_CHECK="1"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # THEN every one of its tests ran and passed (the hand-off's, with a work that hands some
    # tasks off: the emulator answers them as its example says)
    suite = (ROOT / "tests" / "deployed" / "test_deployment.py").read_text()
    tests = len(re.findall(r"^def test_", suite, re.MULTILINE))
    skipped = "" if WorkExamples.load().handed_off else ", 1 skipped"
    if skipped:
        tests -= 1
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(rf"=+ {tests} passed{skipped} in [\d.]+s( \([\d:]+\))? =+", summary), (
        run.stdout
    )

    # AND Ctrl-C stops the emulator, which takes its outputs file away
    served.stop_with_ctrl_c()
    assert "Stopping ..." in served.printed()
    assert not served.outputs_file.exists()


def aws_cli_outputs(
    script: str, environment: dict[str, str], said: list[str] | None = None
) -> list[Any]:
    """Run the commands in bash, stopping at the first that fails; the JSON documents they print
    (and what they said on stderr, into `said`)."""
    run = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{script}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    if said is not None:
        said.append(run.stderr)
    decoder, text, documents = json.JSONDecoder(), run.stdout.strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        documents.append(document)
        text = text[end:].lstrip()
    return documents


@pytest.mark.slow(seconds=30)
def test_the_commands_make_serve_prints_run_verbatim_and_again(served: Served) -> None:
    # GIVEN the commands as printed, from the export to the last
    printed = served.printed()
    commands = textwrap.dedent(
        printed[printed.index("  export AWS_ACCESS_KEY_ID") : printed.index("\n\nThe ") + 1]
    )
    first_start = commands[: commands.index("# an execution of the rejected example")]
    examples = WorkExamples.load()
    shell = user_environment(PATH=os.environ["PATH"])

    # WHEN a user pastes them into a shell
    printed_outputs = aws_cli_outputs(commands, shell)

    # THEN each shows what its comment says: with a work that hands some tasks off, its
    # handed-off example is answered by the emulator, standing in for its external system
    accepted, rejected = printed_outputs[:2]
    if examples.handed_off and not examples.handed_off.answered_by_the_emulator:
        # (or, where the work's folder holds its own stand-in, each ends as its example says)
        for example in examples.handed_offs:
            status, error, output = printed_outputs.pop(2)
            described = {"status": status, "error": error, "output": output}
            assert example.ending.differs(described) is None, (example, described)
    elif examples.handed_off:
        handed_off = printed_outputs.pop(2)
        assert handed_off == ["SUCCEEDED", json.dumps(examples.handed_off.answer)]
    (tasks, dead_letters, paused, timed_out, resumed) = printed_outputs[2:]
    assert accepted[0] == "SUCCEEDED"
    assert json.loads(accepted[1]) is not None  # the work's result, whatever the work
    assert rejected == ["FAILED", examples.rejected_error]
    for queue in (tasks, dead_letters):
        assert set(queue["Attributes"].values()) == {"0"}
    assert (paused["State"], resumed["State"]) == ("Disabled", "Enabled")
    assert timed_out == ["FAILED", "CallbackTimedOut"]

    # AND pasted again, a start starts another execution (each has a name of its own)
    (again,) = aws_cli_outputs(first_start, shell)
    assert again[0] == "SUCCEEDED"

    served.stop_with_ctrl_c()


@pytest.mark.slow
def test_with_hand_off_a_user_answers_the_handed_off_tasks_with_the_printed_commands(
    tmp_path: Path,
) -> None:
    # GIVEN make serve with a work that hands every task off to an external system
    port = free_port()
    served = start_serve(port, tmp_path, "--hand-off")
    try:
        printed = served.printed()
        start, end = printed.index("  export AWS_ACCESS_KEY_ID"), printed.index("  # the task q")
        commands = textwrap.dedent(printed[start:end])

        # WHEN a user pastes the commands that play the approver
        said: list[str] = []
        environment = user_environment(PATH=os.environ["PATH"])
        approved, rejected = aws_cli_outputs(commands, environment, said)

        # THEN the answer with a typo was refused as AWS refuses it, and the good one taken: one
        # execution succeeded with the approval, the other failed with the rejection and its cause
        (refusal,) = [line for line in said[0].splitlines() if "(InvalidOutput)" in line]
        assert refusal.startswith(
            "An error occurred (InvalidOutput) when calling the SendTaskSuccess operation: "
        )
        assert approved == ["SUCCEEDED", '{"approved": true}']
        assert rejected == ["FAILED", "Rejected", "over the approver's limit"]
        # AND the tokens went from the inbox, readable by its user alone, to the AWS CLI in a
        # file: never on a command line, where `ps` would show them
        inbox = ROOT / "build" / f"serve-{port}-handed-off.jsonl"
        assert inbox.stat().st_mode & 0o777 == 0o600
        assert set(re.findall(r"--task-token (\S+)", commands)) == {'"file://$token_file"'}
        served.stop_with_ctrl_c()
        # AND the external system's inbox of live tokens went with the emulator
        assert not (ROOT / "build" / f"serve-{port}-handed-off.jsonl").exists()
    finally:
        if served.process.poll() is None:
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.wait()


HAND_OFF_WORK = ROOT / "tests" / "pattern" / "expenses"  # hands off the larger expenses


@pytest.mark.slow
def test_a_teams_approver_answers_its_handed_off_example_with_the_printed_commands(
    tmp_path: Path,
) -> None:
    # GIVEN make serve with a team's work that hands off only some of its inputs
    port = free_port()
    served = start_serve(port, tmp_path, WORK=str(HAND_OFF_WORK))
    examples = WorkExamples.load(HAND_OFF_WORK)
    assert examples.handed_off is not None
    try:
        printed = served.printed()
        start, end = printed.index("  export AWS_ACCESS_KEY_ID"), printed.index("  # the task q")
        commands = textwrap.dedent(printed[start:end])
        environment = user_environment(PATH=os.environ["PATH"])

        # WHEN a user pastes the commands, the approver's among them
        accepted, rejected, approved, refused = aws_cli_outputs(commands, environment)

        # THEN the accepted and rejected examples end at once, and the handed-off one waits for
        # the external system (the user): approved with the example's answer, or rejected
        assert accepted[0] == "SUCCEEDED"
        assert rejected == ["FAILED", examples.rejected_error]
        assert approved == ["SUCCEEDED", json.dumps(examples.handed_off.answer)]
        assert refused == ["FAILED", "Rejected", "refused by the system"]

        # WHEN the approver's commands are given an input the work does not hand off
        export = commands.splitlines()[0]  # the credentials the commands sign with
        approver = export + "\n" + commands[commands.index("token_file=") : commands.index("# or")]
        handed_off_input = shlex.quote(json.dumps(examples.handed_off.input))
        not_handed_off = approver.replace(
            handed_off_input, shlex.quote(json.dumps(examples.accepted))
        )
        said: list[str] = []
        (ended,) = aws_cli_outputs(textwrap.dedent(not_handed_off), environment, said)

        # THEN they say so in one line, and show how the execution ended, answering nothing
        assert (
            said[0].strip() == "The work did not hand this task off: see how its execution ended."
        )
        assert ended[0] == "SUCCEEDED"

        # AND the deployed suite's hand-off test, which cannot answer for the team's system
        # (as on AWS), finds the task handed off and waiting, and stops it
        deployed = subprocess.run(
            [*MAKE, "test-deployed", f"WORK={HAND_OFF_WORK}", "PYTEST_ARGS=-k handed_off -rA"],
            cwd=ROOT,
            env=user_environment(DEPLOYED_OUTPUTS=str(served.outputs_file)),
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert "PASSED tests/deployed/test_deployment.py::test_the_handed_off_example" in (
            deployed.stdout
        )
        served.stop_with_ctrl_c()
    finally:
        if served.process.poll() is None:
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.wait()


def http_status(port: int, method: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """A raw request to 127.0.0.1:port, with exactly these headers: its status and headers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest(method, "/", skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(b"{}")
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def test_make_serve_answers_its_own_user_and_no_web_page(served: Served) -> None:
    port = int(served.outputs()["endpoint_url"].rsplit(":", 1)[1])
    own = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/x-amz-json-1.0"}
    call = {**own, "X-Amz-Target": "AWSStepFunctions.ListStateMachines"}

    # WHEN a web page of another origin sends the preflight of a StartExecution, or a request
    # with its Origin, and a host name of an attacker's that resolves to 127.0.0.1 (DNS
    # rebinding) names itself as the Host
    preflight = {
        **own,
        "Origin": "https://attacker.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target",
    }
    refused = [
        http_status(port, "OPTIONS", preflight),
        http_status(port, "POST", {**call, "Origin": "https://attacker.example"}),
        http_status(port, "POST", {**call, "Host": f"rebound.attacker.example:{port}"}),
    ]

    # THEN each is refused, with no CORS header that would let a page read an answer
    assert [status for status, _ in refused] == [403, 403, 403]
    for _, headers in refused:
        assert not [name for name in headers if name.lower().startswith("access-control-")]
    # AND its own user's AWS CLI and SDK, which send neither, are answered
    assert http_status(port, "POST", call)[0] == 200
    served.stop_with_ctrl_c()


def test_the_files_make_serve_writes_are_its_users_alone(served: Served) -> None:
    worker_log = Path(served.outputs()["worker_log_file"])

    modes = {path.name: path.stat().st_mode & 0o777 for path in (served.outputs_file, worker_log)}

    assert modes == {served.outputs_file.name: 0o600, worker_log.name: 0o600}
    served.stop_with_ctrl_c()


def test_make_serve_on_a_port_in_use_says_so_and_exits_non_zero() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = subprocess.run(
            [*MAKE, "serve", f"PORT={port}", "ARGS=--in-process --var max_receive_count=10"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in run.stderr
    # AND it has printed the warnings Terraform's check blocks give at plan, first
    warned = [line for line in run.stderr.splitlines() if line.startswith("Terraform warns")]
    assert [line for line in warned if "will end as CallbackTimedOut, not WorkerFailed" in line]


def test_make_test_deployed_without_a_deployment_skips_saying_how_to_give_one() -> None:
    if (ROOT / "terraform.tfstate").exists() or (ROOT / ".terraform").is_dir():
        pytest.skip("this folder holds a Terraform deployment: make test-deployed would test it")

    # WHEN make test-deployed runs with no DEPLOYED_OUTPUTS and no Terraform state
    run = subprocess.run(
        [*MAKE, "test-deployed"],
        cwd=ROOT,
        env=user_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # THEN it exits 0, having run nothing, with one line that says how to give a deployment
    assert run.returncode == 0, run.stdout + run.stderr
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    assert [line.endswith(HOW) for line in skipped] == [True], run.stdout
    assert re.search(r"=+ \d+ skipped in [\d.]+s =+$", run.stdout), run.stdout


@contextlib.contextmanager
def one_core_kept_busy() -> Iterator[None]:
    """A process that spins on one core, as other work on a user's laptop or a CI runner does."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def start_a_burst(served: Served, executions: int) -> None:
    outputs = served.outputs()
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=outputs["endpoint_url"],
        region_name=outputs["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for _ in range(executions):  # unnamed: each gets a name of its own, as on AWS
        sfn.start_execution(
            stateMachineArn=outputs["state_machine_arn"],
            input=json.dumps(WorkExamples.load().accepted),
        )


@pytest.mark.slow(seconds=35)
def test_ctrl_c_stops_make_serve_within_seconds_under_load_and_it_starts_again_on_the_same_port(
    tmp_path: Path,
) -> None:
    port = free_port()
    for attempt in range(5):
        # GIVEN make serve on the port the last one used, executions in flight, a core kept busy
        served = start_serve(port, tmp_path)
        assert f"The pattern is deployed on the emulator at http://127.0.0.1:{port}" in (
            served.printed()
        ), f"attempt {attempt}: {served.printed()}"
        start_a_burst(served, 20)

        # WHEN Ctrl-C is pressed
        with one_core_kept_busy():
            took = served.stop_with_ctrl_c()

        # THEN it stopped within seconds, with one line (no traceback, nothing from make), as
        # an interrupted command ends (make passes SIGINT on: the shell shows status 130),
        # leaving nothing running and no outputs file
        assert took < 10, f"attempt {attempt} took {took:.1f} s to stop"
        printed = served.printed()
        assert printed.rstrip().endswith("Ctrl-C stops the emulator.\nStopping ..."), printed
        assert served.process.returncode in (0, -signal.SIGINT), printed
        assert not served.outputs_file.exists()


@pytest.mark.slow
def test_two_serves_in_one_folder_keep_their_own_files(tmp_path: Path) -> None:
    # GIVEN two serves side by side, with the default files
    first, second = (start_serve(free_port(), tmp_path) for _ in range(2))
    try:
        assert first.outputs_file != second.outputs_file
        assert first.outputs()["worker_log_file"] != second.outputs()["worker_log_file"]

        # WHEN the first stops
        first.stop_with_ctrl_c()

        # THEN only its own outputs are gone
        assert not first.outputs_file.exists()
        assert second.outputs()["endpoint_url"].endswith(f":{second.outputs_file.name[6:-13]}")
    finally:
        for serving in (first, second):
            if serving.process.poll() is None:
                serving.stop_with_ctrl_c()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            "--var task_timout_seconds=10",
            "serve: variables.tf declares no variable named task_timout_seconds; "
            "did you mean task_timeout_seconds?",
        ),
        (
            "--var task_timeout_seconds=0",
            "serve: Invalid value for variable: task_timeout_seconds must be an integer from 2 "
            "to 31536000 (the task's heartbeat window, HeartbeatSeconds, is at least 1 s "
            "shorter). This was checked by the validation rule at variables.tf:",
        ),
        (
            '--var worker_environment={"K":"V"}',  # the recipe's shell takes the quotes
            "serve: --var worker_environment={K:V} is not JSON (the shell took its quotes?): "
            "quote it for the shell, make serve ARGS=\"--var 'worker_environment=",
        ),
    ],
    ids=["misspelled-name", "refused-value", "json-unquoted"],
)
def test_a_variable_make_serve_cannot_take_stops_it_with_one_line(args: str, line: str) -> None:
    run = subprocess.run(
        [*MAKE, "serve", f"PORT={free_port()}", f"ARGS={args}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 2
    (said,) = [text for text in run.stderr.splitlines() if text.startswith("serve:")]
    assert said.startswith(line)
    assert "Traceback" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("task_input", "refusal"),
    [
        (
            json.dumps({"orderId": "o" * 262_144}),
            "An error occurred (ValidationException) when calling the StartExecution operation: "
            "1 validation error detected: Value at 'input' failed to satisfy constraint: Member "
            "must have length less than or equal to 262144",
        ),
        (
            "{orderId: o-1}",
            "An error occurred (InvalidExecutionInput) when calling the StartExecution operation: "
            "Invalid State Machine Execution Input: ",
        ),
    ],
    ids=["over-256-kib", "not-json"],
)
def test_a_start_aws_would_refuse_is_refused_as_aws_refuses_it(
    served: Served, tmp_path: Path, task_input: str, refusal: str
) -> None:
    given = tmp_path / "input.json"
    given.write_text(task_input)
    outputs = served.outputs()

    run = subprocess.run(
        ["aws", "--endpoint-url", outputs["endpoint_url"], "--region", outputs["region"],
         "stepfunctions", "start-execution", "--state-machine-arn", outputs["state_machine_arn"],
         "--input", f"file://{given}"],
        env=user_environment(
            PATH=os.environ["PATH"], AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip

    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1].startswith(refusal)
    served.stop_with_ctrl_c()


def runbook_blocks() -> list[str]:
    """The runbook's bash blocks (docs/monitoring.md): the one that loads the outputs, the one for
    make serve, then the entries'."""
    page = (ROOT / "docs" / "monitoring.md").read_text()
    runbook = page[page.index("## Runbook") :]
    return re.findall(r"```bash\n(.*?)```", runbook, re.DOTALL)


@pytest.mark.slow
def test_every_runbook_command_runs_against_make_serve_or_says_aws_only(
    served: Served, tmp_path: Path
) -> None:
    # GIVEN the runbook's commands, and the outputs of make serve where the runbook says to take
    # them from
    load, on_serve, *entries = runbook_blocks()
    (tmp_path / "outputs.json").write_text(served.outputs_file.read_text())
    load = "\n".join(line for line in load.splitlines() if not line.startswith(("terraform", "cp")))
    aws_only = [block for block in entries if block.startswith("# AWS only")]
    runnable = [block for block in entries if block not in aws_only]
    assert len(runnable) >= 5
    assert aws_only

    # WHEN each runs in bash, as pasted
    for block in runnable:
        run = subprocess.run(
            ["bash", "-c", f"set -eo pipefail\n{load}\n{on_serve}\n{block}"],
            cwd=tmp_path,
            env=user_environment(PATH=os.environ["PATH"]),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        # THEN it works
        assert run.returncode == 0, f"{block}\n{run.stdout}{run.stderr}"
        assert "parameter null or not set" not in run.stderr
    served.stop_with_ctrl_c()


@pytest.mark.slow
def test_make_serve_prints_each_approval_requests_link_and_serves_its_page(
    tmp_path: Path,
) -> None:
    # GIVEN make serve whose worker asks the approval service for every task
    served = start_serve(free_port(), tmp_path, "--approval")
    try:
        outputs = served.outputs()
        assert served.printed().count(outputs["approval_page_url"]) == 1  # where it says so
        # (and its commands start a task to answer on the page, none that would end by itself)
        assert "the emulator's own work asks a person for every task" in served.printed()
        assert "an execution of the accepted example" not in served.printed()

        # WHEN an execution starts
        start_a_burst(served, 1)

        # THEN its request's link is printed, and the page at it shows the request and its form
        def printed_link() -> str | None:
            found = re.findall(rf"^  ({re.escape(outputs['approval_page_url'])}/\S+)$",
                               served.printed(), re.MULTILINE)  # fmt: skip
            return found[0] if found else None

        assert wait_for(lambda: printed_link() is not None, timeout=20), served.printed()
        with urllib.request.urlopen(printed_link(), timeout=10) as page:
            shown = page.read().decode()
        assert "A task to approve" in shown
        assert '<button name="decision" value="approve">Approve</button>' in shown
        served.stop_with_ctrl_c()
    finally:
        if served.process.poll() is None:
            os.killpg(served.process.pid, signal.SIGKILL)
            served.process.wait()
