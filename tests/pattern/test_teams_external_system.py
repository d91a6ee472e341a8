"""The checks test the team's own side of a hand-off: a work whose folder holds its own stand-in
for its external system (tests/pattern/batch_jobs: a job runner that heartbeats, answers, fails
or dies) runs every path in `make demo` and the pattern's tests with no process started by hand;
a hand-off that passes its token to nobody turns both red, by name; and work_examples.json that
is not as it must be is refused in one line naming the file and the line or the key."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.terraform import ROOT
from emulator.work_examples import WorkExamples, WorkExamplesInvalid
from tests.pattern.helpers import copy_of_the_project

BATCH_JOBS = Path(__file__).parent / "batch_jobs"  # hands every job to its runner


def demo(
    *args: str, work: Path | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """`make demo ARGS=...` in `cwd`, with `work` as its WORK where given."""
    return subprocess.run(
        [sys.executable, "-m", "emulator", "demo", *args],
        cwd=cwd,
        env={**os.environ, **({"WORK": str(work)} if work else {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def rows(printed: str) -> list[str]:
    return [line for line in printed.splitlines() if re.match(r"  \d+  ", line)]


def handing_off_to_nobody(tmp_path: Path) -> Path:
    """A copy of the batch-job work that returns HandedOff() before it posts the job."""
    work = tmp_path / "batch_jobs"
    shutil.copytree(BATCH_JOBS, work, ignore=shutil.ignore_patterns("__pycache__"))
    source = (work / "work.py").read_text()
    posting = '    runner = os.environ.get("JOB_RUNNER_URL")\n'
    mutated = source.replace(posting, "    return HandedOff()  # never posted\n" + posting)
    assert mutated != source
    (work / "work.py").write_text(mutated)
    return work


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [(), ("--var", "heartbeat_seconds=1")], ids=["defaults", "heartbeat-seconds"]
)
def test_make_demo_runs_every_path_of_a_work_with_its_own_stand_in(args: tuple[str, ...]) -> None:
    # GIVEN a work that hands jobs to its runner, whose stand-in is in its folder
    examples = WorkExamples.load(BATCH_JOBS)

    # WHEN make demo runs it (and with HeartbeatSeconds of 1 s, shorter than the longest job)
    run = demo(*args, work=BATCH_JOBS)

    # THEN every execution ended as its example says: accepted, rejected, and handed off then
    # answered after heartbeats (past heartbeat_seconds, where it is set), failed by the runner,
    # and silent (the runner died: with heartbeat_seconds, it ends at the first missed heartbeat)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "answered by your stand-in (work_stand_in.py)" in run.stdout
    ending = re.compile(r"\b(SUCCEEDED|FAILED)\b\s+\S+\s+(\w*)")  # status, state, error
    ended = [ending.findall(row)[-1] for row in rows(run.stdout)]  # (a title may say one)
    assert ended == [
        ("SUCCEEDED", ""),  # its output is the job's, whatever its keys' values
        ("FAILED", examples.rejected_error),
        ("SUCCEEDED", ""),
        ("FAILED", "JobFailed"),
        ("FAILED", "CallbackTimedOut"),
        ("FAILED", "CallbackTimedOut"),  # the worker stopped
    ], run.stdout
    assert "All outcomes as expected." in run.stdout


@pytest.mark.slow
def test_a_hand_off_to_nobody_turns_make_demo_red_and_names_it(tmp_path: Path) -> None:
    # GIVEN the work mutated to return HandedOff() without passing the token on
    work = handing_off_to_nobody(tmp_path)

    # WHEN make demo runs it
    run = demo(work=work)

    # THEN it fails, and each hand-off says it went to nobody
    assert run.returncode == 1, run.stdout
    handed = [row for row in rows(run.stdout) if "HandOffToNobody" in row]
    assert len(handed) == 4, run.stdout  # the accepted job and the three handed-off ones
    assert all("NO:" in row for row in handed)
    assert "4 hand-off(s) to nobody (HandOffToNobody)" in run.stdout


@pytest.mark.slow
def test_a_hand_off_to_nobody_turns_the_patterns_tests_red(tmp_path: Path) -> None:
    # GIVEN the same mutation
    work = handing_off_to_nobody(tmp_path)

    # WHEN the pattern's tests of the work's examples run with it (make test WORK=...)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "tests/pattern/test_work_examples.py"],
        env={**os.environ, "WORK": str(work)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip

    # THEN they fail, naming the hand-off to nobody
    assert run.returncode == 1, run.stdout
    assert "HandOffToNobody" in run.stdout
    assert re.search(r"4 failed", run.stdout), run.stdout


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"accepted": {"input": 1},\n "rejected": {"input": 2, "error": "E"},\n}',
         "work_examples.json, line 3 column 1: not JSON (Expecting property name"),
        ('{"accepted": {"input": 1}}', "work_examples.json: rejected is missing, or not an object"),
        ('{"accepted": {}, "rejected": {"input": 2, "error": "E"}}',
         "work_examples.json: accepted.input is missing"),
        ('{"accepted": {"input": 1}, "rejected": {"input": 2, "error": "E"},'
         ' "handed_off": [{"input": 3, "answer": 4}, {"input": 5}]}',
         "work_examples.json: handed_off[1] must say the external side's answer"),
        ('{"accepted": {"input": 1, "ends": {"status": "DONE"}},'
         ' "rejected": {"input": 2, "error": "E"}}',
         'work_examples.json: accepted.ends.status must be "SUCCEEDED" or "FAILED"'),
        ('{"acepted": {"input": 1}, "rejected": {"input": 2, "error": "E"}}',
         "work_examples.json: acepted: no such example"),
    ],
    ids=["trailing-comma", "no-rejected", "no-input", "no-answer", "bad-status", "misspelt"],
)  # fmt: skip
def test_work_examples_not_as_they_must_be_are_refused_in_one_line_naming_the_key(
    tmp_path: Path, text: str, said: str
) -> None:
    (tmp_path / "work_examples.json").write_text(text)

    with pytest.raises(WorkExamplesInvalid) as refused:
        WorkExamples.load(tmp_path)

    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path}/{said.split(':')[0]}")
    assert said in message


def test_a_handed_off_example_says_how_it_ends_only_with_the_teams_own_stand_in(
    tmp_path: Path,
) -> None:
    examples = {
        "accepted": {"input": 1},
        "rejected": {"input": 2, "error": "E"},
        "handed_off": {"input": 3, "ends": {"status": "FAILED", "error": "JobFailed"}},
    }
    (tmp_path / "work_examples.json").write_text(json.dumps(examples))

    with pytest.raises(WorkExamplesInvalid, match="only the team's own stand-in"):
        WorkExamples.load(tmp_path)
    (tmp_path / "work_stand_in.py").write_text("")
    (handed_off,) = WorkExamples.load(tmp_path).handed_offs
    assert (str(handed_off.ending), handed_off.answered_by_the_emulator) == (
        "FAILED JobFailed",
        False,
    )


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "emulator", "demo"],
        ["-m", "emulator", "serve", "--in-process", "--port", "1"],
        ["-m", "pytest", "-p", "no:cacheprovider", "tests/pattern/test_work_examples.py"],
    ],
    ids=["demo", "serve", "pytest"],
)
def test_make_demo_serve_and_test_refuse_examples_that_are_not_json_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    # GIVEN a work whose examples have a trailing comma
    work = tmp_path / "work"
    shutil.copytree(BATCH_JOBS, work, ignore=shutil.ignore_patterns("__pycache__"))
    text = (work / "work_examples.json").read_text()
    (work / "work_examples.json").write_text(text.replace('"InvalidJob"}', '"InvalidJob"},,'))

    # WHEN make demo, make serve or make test starts with it
    run = subprocess.run(
        [sys.executable, *command],
        env={**os.environ, "WORK": str(work)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # THEN it stops with one line naming the file and where in it
    said = [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]
    assert run.returncode == 2, run.stdout + run.stderr
    assert said == [f"{work}/work_examples.json, line 6 column 61: not JSON (Expecting property "
                    "name enclosed in double quotes)"] or said[-1].startswith(
        f"Exit: {work}/work_examples.json, line 6"), said  # fmt: skip


@pytest.mark.slow
def test_a_saga_whose_compensation_ends_in_success_turns_make_demo_red(tmp_path: Path) -> None:
    # GIVEN the project with the refunds' saga as its workflow, mutated: the compensation after a
    # timeout ends in a Succeed state, not in CallbackTimedOut
    copy = copy_of_the_project(tmp_path / "project")
    saga = (ROOT / "examples" / "complete" / "workflows" / "refunds.asl.json").read_text()
    mutated = saga.replace('"Next": "CallbackTimedOut"', '"Next": "Released"').replace(
        '"CallbackTimedOut": {', '"Released": {"Type": "Succeed"},\n    "CallbackTimedOut": {'
    )
    assert mutated.count('"Released"') == 2
    (copy / "statemachine" / "callback.asl.json").write_text(mutated)
    (copy / ".venv").symlink_to(ROOT / ".venv")

    # WHEN make demo runs it
    run = demo(cwd=copy)

    # THEN the timed-out executions, which ended SUCCEEDED, are not as expected
    assert run.returncode == 1, run.stdout + run.stderr
    stopped = next(row for row in rows(run.stdout) if "the worker is stopped" in row)
    assert "SUCCEEDED" in stopped
    assert "NO: ended SUCCEEDED, not FAILED" in stopped


@pytest.mark.slow
def test_make_demo_runs_an_instances_own_workflow_given_as_a_variable() -> None:
    # GIVEN examples/complete's refunds' saga, as the instance's workflow_path names it
    saga = "examples/complete/workflows/refunds.asl.json"

    # WHEN make demo runs with it (a path from where the user is)
    run = demo("--var", f"workflow_path={saga}")

    # THEN every execution ran through the saga: the rejected one failed in its own Fail state,
    # with the work's error, and the timed-out one through its compensation to CallbackTimedOut
    assert run.returncode == 0, run.stdout + run.stderr
    rejected, stopped = (
        next(row for row in rows(run.stdout) if title in row)
        for title in ("the rejected example", "the worker is stopped")
    )
    assert "RefundFailed" in rejected
    assert WorkExamples.load().rejected_error in rejected
    assert "CallbackTimedOut" in stopped
    assert "All outcomes as expected." in run.stdout
