"""`make serve` as a user runs it: the deployed suite (`make test-deployed`) passes against it,
the timeout check included; the AWS CLI commands it prints run verbatim, and again; Ctrl-C stops
it cleanly. And `make test-deployed` without a deployment skips, saying how to give one."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from emulator.server import free_port
from emulator.terraform import ROOT
from emulator.watch import wait_for
from emulator.work_examples import WorkExamples
from tests.deployed.conftest import HOW

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# The tests already run in .venv: make must never rebuild it under them.
MAKE = ["make", "--no-print-directory", "--assume-old=.venv/.installed"]
TASK_TIMEOUT_SECONDS = 5


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

    def stop_with_ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)  # as a terminal's Ctrl-C, to make and to serve
        self.process.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`make serve` on a free port with a short task timeout, its outputs and the worker's log in
    tmp_path; yields once it has written its outputs."""
    outputs = tmp_path / "outputs.json"
    args = (
        f"--outputs {outputs} --worker-log {tmp_path / 'worker.log'} "
        f"--var task_timeout_seconds={TASK_TIMEOUT_SECONDS}"
    )
    screen = tmp_path / "screen.txt"
    with screen.open("w") as out:
        process = subprocess.Popen(
            [*MAKE, "serve", f"PORT={free_port()}", f"ARGS={args}"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=user_environment(),
            start_new_session=True,
        )
    serving = Served(process, outputs, screen)
    try:
        wait_for(lambda: outputs.exists() or process.poll() is not None, timeout=90)
        assert process.poll() is None, serving.printed()
        assert outputs.exists(), serving.printed()
        yield serving
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_the_deployed_suite_passes_against_make_serve_and_ctrl_c_stops_it(served: Served) -> None:
    # GIVEN the outputs make serve wrote, as `terraform output -json` writes them: Terraform's
    # type names, and no output whose value is null (Terraform keeps none of those)
    outputs = json.loads(served.outputs_file.read_text())
    assert {output["type"] for output in outputs.values()} <= {"string", "number", "bool"}
    assert None not in [output["value"] for output in outputs.values()]

    # WHEN the deployed suite runs as README says, the timeout check included
    run = subprocess.run(
        [*MAKE, "test-deployed"],
        cwd=ROOT,
        env=user_environment(DEPLOYED_OUTPUTS=str(served.outputs_file), DEPLOYED_TIMEOUT_CHECK="1"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # THEN every one of its tests ran and passed
    suite = (ROOT / "tests" / "deployed" / "test_deployment.py").read_text()
    tests = len(re.findall(r"^def test_", suite, re.MULTILINE))
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(rf"=+ {tests} passed in [\d.]+s( \([\d:]+\))? =+", summary), run.stdout

    # AND Ctrl-C stops the emulator, which takes its outputs file away
    served.stop_with_ctrl_c()
    assert "Stopping ..." in served.printed()
    assert not served.outputs_file.exists()


def aws_cli_outputs(script: str, environment: dict[str, str]) -> list[Any]:
    """Run the commands in bash, stopping at the first that fails; the JSON documents they print."""
    run = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{script}"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    decoder, text, documents = json.JSONDecoder(), run.stdout.strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        documents.append(document)
        text = text[end:].lstrip()
    return documents


def test_the_commands_make_serve_prints_run_verbatim_and_again(served: Served) -> None:
    # GIVEN the commands as printed, from the export to the last
    printed = served.printed()
    commands = textwrap.dedent(
        printed[printed.index("  export AWS_ACCESS_KEY_ID") : printed.index("The worker's logs")]
    )
    first_start = commands[: commands.index("# an execution of the rejected example")]
    examples = WorkExamples.load()
    shell = user_environment(PATH=os.environ["PATH"])

    # WHEN a user pastes them into a shell
    (accepted, rejected, tasks, dead_letters, paused, timed_out, resumed) = aws_cli_outputs(
        commands, shell
    )

    # THEN each shows what its comment says
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


def test_make_serve_on_a_port_in_use_says_so_and_exits_non_zero() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = subprocess.run(
            [*MAKE, "serve", f"PORT={port}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in run.stderr


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
