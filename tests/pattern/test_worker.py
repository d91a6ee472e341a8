"""The worker's handler against moto's SQS and Step Functions, one batch at a time.

GIVEN executions waiting on their task tokens, WHEN the worker's lambda_handler gets their
messages as an SQS event, THEN each execution ends as the contract says and the batch response
lists exactly the records that must come back.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from emulator.deployment import Settings, worker_environment
from emulator.emf import worker_metrics
from emulator.terraform import ROOT, evaluate, work_folder
from tests.pattern.fake_work import crashes, rejects, result, sleeps, succeeds
from tests.pattern.helpers import CallbackSpy, failed_ids, with_receive_count
from worker import callback, handler
from worker.messages import (
    MAX_CAUSE_CHARS,
    MAX_ERROR_CHARS,
    MAX_OUTPUT_BYTES,
    TaskError,
    parse_task_message,
)
from worker.settings import Settings as WorkerSettings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.pattern.helpers import Pattern


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> CallbackSpy:
    spy = CallbackSpy(callback.client())
    monkeypatch.setattr(callback, "client", lambda: spy)
    return spy


def execution_of(message: dict[str, Any]) -> str:
    """The execution a task message belongs to, or "malformed"."""
    try:
        return json.loads(message["Body"])["executionArn"]
    except ValueError:
        return "malformed"


def test_a_full_batch_of_ten_is_answered_record_by_record(pattern: Pattern) -> None:
    # GIVEN ten executions waiting for the worker
    executions = [pattern.start(succeeds(f"task-{i}")) for i in range(10)]
    messages = pattern.receive(10)

    # WHEN one invocation gets all ten records
    response = pattern.invoke(messages)

    # THEN nothing comes back and every execution succeeded with its own task's result
    assert response == {"batchItemFailures": []}
    for i, execution in enumerate(executions):
        outcome = pattern.wait(execution)
        assert outcome["status"] == "SUCCEEDED"
        assert json.loads(outcome["output"]) == result(f"task-{i}")
    assert pattern.queue_depth() == 10  # the event source mapping, not the handler, deletes


def test_records_that_could_outlast_the_invocation_are_left_for_a_later_receive(
    pattern: Pattern, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a batch whose first record's work takes 1.5 s, in an invocation that times out 2 s
    # after it starts: a record after it could not be done in time
    slow = pattern.start(sleeps("slow", 1.5), name="slow")
    others = [pattern.start(succeeds(f"task-{i}")) for i in range(3)]
    messages = sorted(pattern.receive(4), key=lambda m: '"slow"' not in m["Body"])
    capsys.readouterr()

    # WHEN the worker handles it
    response = pattern.invoke(messages, timeout_seconds=2)

    # THEN the slow record is answered; the others are not started (the invocation's timeout
    # would have brought back the whole batch, the answered record too) and come back
    assert failed_ids(response) == {m["MessageId"] for m in messages[1:]}
    assert worker_metrics(capsys.readouterr().out) == {"TaskSucceeded": 1, "RecordDeferred": 3}
    assert pattern.wait(slow)["status"] == "SUCCEEDED"
    assert [pattern.status(execution) for execution in others] == ["RUNNING"] * 3

    # WHEN they come back, in an invocation with time enough THEN they are answered
    again = [with_receive_count(message, 2) for message in messages[1:]]
    assert pattern.invoke(again) == {"batchItemFailures": []}
    assert [pattern.wait(execution)["status"] for execution in others] == ["SUCCEEDED"] * 3


def test_an_invocation_with_under_a_second_left_starts_no_record(pattern: Pattern) -> None:
    # GIVEN a record WHEN the worker gets it with half a second left in its invocation
    execution = pattern.start(succeeds("late"))
    (message,) = pattern.receive(1)
    response = pattern.invoke([message], timeout_seconds=0.5)

    # THEN it comes back, unstarted
    assert failed_ids(response) == {message["MessageId"]}
    assert pattern.status(execution) == "RUNNING"


def test_a_mixed_batch_gets_exactly_the_right_callbacks(
    pattern: Pattern, spy: CallbackSpy, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a good task, a task with invalid input, a task already answered, and a malformed message
    good = pattern.start(succeeds("good"))
    invalid = pattern.start(rejects("no such customer"))
    answered = pattern.start(succeeds("answered"))
    pattern.send_raw("this is not JSON")
    messages = {execution_of(m): m for m in pattern.receive(4)}
    stale_token = json.loads(messages[answered]["Body"])["taskToken"]
    pattern.aws.sfn.send_task_success(taskToken=stale_token, output='{"by": "someone else"}')
    pattern.wait(answered)
    capsys.readouterr()

    # WHEN they arrive in one batch
    response = pattern.invoke(list(messages.values()))

    # THEN only the malformed record comes back
    assert failed_ids(response) == {messages["malformed"]["MessageId"]}
    # AND the good task succeeded, the invalid one failed with a named error and cause, and the
    # answered execution kept the answer it had: Step Functions said so before its work ran
    assert json.loads(pattern.wait(good)["output"]) == result("good")
    assert pattern.wait(invalid)["status"] == "FAILED"
    assert pattern.wait(invalid)["error"] == "Rejected"
    assert json.loads(pattern.wait(answered)["output"]) == {"by": "someone else"}
    assert sorted(spy.operations()) == ["send_task_failure", "send_task_success"]
    failure = dict(spy.calls)["send_task_failure"]
    assert failure["cause"] == "no such customer"
    # AND each outcome was counted once
    assert worker_metrics(capsys.readouterr().out) == {
        "TaskSucceeded": 1,
        "TaskFailed": 1,
        "TokenNoLongerLive": 1,
        "MessageMalformed": 1,
    }


def test_an_unexpected_error_retries_until_the_last_receive_then_fails_the_execution(
    pattern: Pattern, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a task whose work crashes
    execution = pattern.start(crashes("the order service is down"))
    (message,) = pattern.receive(1)
    max_receives = pattern.deployment.settings.max_receive_count
    capsys.readouterr()

    # WHEN the record arrives before its last allowed receive
    for count in range(1, max_receives):
        response = pattern.invoke([with_receive_count(message, count)])
        # THEN it comes back and the execution keeps waiting
        assert failed_ids(response) == {message["MessageId"]}
        assert pattern.status(execution) == "RUNNING"

    # WHEN it arrives on its last allowed receive
    response = pattern.invoke([with_receive_count(message, max_receives)])

    # THEN it is done, and the execution fails now instead of waiting out its timeout
    assert response == {"batchItemFailures": []}
    outcome = pattern.wait(execution)
    assert (outcome["status"], outcome["error"]) == ("FAILED", "WorkerFailed")
    # AND the metrics count the retries, the failure, and that the worker ended the execution
    assert worker_metrics(capsys.readouterr().out) == {
        "RecordRetried": max_receives - 1,
        "TaskFailed": 1,
        "WorkerFailed": 1,
    }


@pytest.mark.parametrize(
    ("refused", "error"),
    [
        ({"id": "o", "blob": "x" * MAX_OUTPUT_BYTES}, "TaskOutputTooLarge"),
        ({"id": "o", "when": object()}, "InvalidTaskOutput"),
        ({"id": "o", "ratio": float("nan")}, "InvalidTaskOutput"),
    ],
    ids=["too-large", "not-serialisable", "nan"],
)
def test_a_result_step_functions_would_refuse_fails_the_execution_with_a_named_error(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch, refused: Any, error: str
) -> None:
    monkeypatch.setattr(handler, "do_work", lambda task_input, heartbeat: refused)
    execution = pattern.start(succeeds("o"))

    response = pattern.invoke(pattern.receive(1))

    assert response == {"batchItemFailures": []}
    outcome = pattern.wait(execution)
    assert (outcome["status"], outcome["error"]) == ("FAILED", error)


def test_error_and_cause_are_cut_to_the_api_limits(
    pattern: Pattern, spy: CallbackSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reject(task_input: Any, heartbeat: Any) -> dict[str, Any]:
        raise TaskError("E" * 1_000, "c" * 100_000)

    monkeypatch.setattr(handler, "do_work", reject)
    execution = pattern.start(succeeds("o"))

    pattern.invoke(pattern.receive(1))

    (operation, params) = spy.calls[0]
    assert operation == "send_task_failure"
    assert (len(params["error"]), len(params["cause"])) == (MAX_ERROR_CHARS, MAX_CAUSE_CHARS)
    assert pattern.wait(execution)["error"] == "E" * MAX_ERROR_CHARS


def test_a_callback_that_keeps_failing_brings_the_record_back_unanswered(
    pattern: Pattern, spy: CallbackSpy
) -> None:
    # GIVEN Step Functions throttles every callback, even after botocore's retries
    spy.fail_with = "ThrottlingException"
    execution = pattern.start(succeeds("task-1"))
    (message,) = pattern.receive(1)

    # WHEN the record is handled
    response = pattern.invoke([message])

    # THEN it comes back and the execution still waits
    assert failed_ids(response) == {message["MessageId"]}
    assert pattern.status(execution) == "RUNNING"

    # WHEN it comes back after Step Functions recovers THEN it is answered once
    spy.fail_with = None
    assert pattern.invoke([with_receive_count(message, 2)]) == {"batchItemFailures": []}
    assert pattern.wait(execution)["status"] == "SUCCEEDED"
    assert spy.operations() == ["send_task_success", "send_task_success"]


@dataclass
class EveryOutcome:
    """A batch whose records end in every outcome: TaskSucceeded, TaskFailed, TokenNoLongerLive,
    RecordRetried (the work crashes) and MessageMalformed."""

    messages: list[dict[str, Any]]
    executions: list[str]
    tokens: list[str]
    counts = {  # noqa: RUF012 (what the worker's metrics must count for this batch)
        "TaskSucceeded": 1,
        "TaskFailed": 1,
        "TokenNoLongerLive": 1,
        "RecordRetried": 1,
        "MessageMalformed": 1,
    }


@pytest.fixture
def every_outcome(pattern: Pattern) -> EveryOutcome:
    inputs = [succeeds("ok"), rejects(), succeeds("stale"), crashes()]
    executions = [pattern.start(task_input) for task_input in inputs]
    messages = pattern.receive(4)
    tokens = [json.loads(m["Body"])["taskToken"] for m in messages]
    stale = next(m for m in messages if '"stale"' in m["Body"])
    pattern.aws.sfn.send_task_success(taskToken=json.loads(stale["Body"])["taskToken"], output="{}")
    pattern.send_raw(json.dumps({"taskToken": 42, "input": {}}))
    messages += pattern.receive(1)
    return EveryOutcome(messages, executions, tokens)


def test_no_log_line_holds_a_task_token(
    pattern: Pattern, every_outcome: EveryOutcome, worker_logs: io.StringIO
) -> None:
    # GIVEN every outcome in one batch WHEN the worker handles it
    response = pattern.invoke(every_outcome.messages)

    # THEN the logs say what happened, naming the executions, and no token appears
    logs = worker_logs.getvalue()
    assert len(failed_ids(response)) == 2
    assert all(execution in logs for execution in every_outcome.executions)
    assert not [token for token in every_outcome.tokens if token in logs]


def test_the_work_may_log_its_heartbeat_and_the_task_message_and_no_token_is_written(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch, worker_logs: io.StringIO
) -> None:
    # GIVEN a work that logs the heartbeat it is given, and the task message it came in, every
    # way a log call or an error reporter prints an object (repr, str, an extra field)
    def do_work(task_input: Any, heartbeat: Any) -> Any:
        message = parse_task_message(body)
        for thing in (heartbeat, message):
            handler.logger.info("%r %s", thing, thing, extra={"thing": thing})
        heartbeat()
        return result(task_input["id"])

    monkeypatch.setattr(handler, "do_work", do_work)
    execution = pattern.start(succeeds("logged"))
    (message,) = pattern.receive(1)
    body, token = message["Body"], json.loads(message["Body"])["taskToken"]

    # WHEN the worker runs it
    assert pattern.invoke([message]) == {"batchItemFailures": []}

    # THEN the log lines name the execution, and hold no token
    assert pattern.wait(execution)["status"] == "SUCCEEDED"
    logs = worker_logs.getvalue()
    assert f"CallbackHandle.heartbeat of CallbackHandle(execution_arn='{execution}')>" in logs
    assert f"TaskMessage(execution_arn='{execution}'" in logs
    assert token not in logs


@pytest.fixture
def debug_lines() -> Iterator[logging.StreamHandler[io.StringIO]]:
    """A handler for every line of every logger, for a work to add (taken away afterwards, and
    the levels it sets restored)."""
    root, sdk = logging.getLogger(), logging.getLogger("botocore")
    levels = (root.level, sdk.level)
    every_line = logging.StreamHandler(io.StringIO())
    yield every_line
    root.removeHandler(every_line)
    root.setLevel(levels[0])
    sdk.setLevel(levels[1])


def test_a_work_that_turns_debug_logging_on_everywhere_gets_no_token_logged(
    pattern: Pattern,
    monkeypatch: pytest.MonkeyPatch,
    debug_lines: logging.StreamHandler[io.StringIO],
) -> None:
    # GIVEN a work that, as it runs, logs every line of every logger at DEBUG, the AWS SDK's
    # included (botocore writes whole requests there), then heartbeats
    def do_work(task_input: Any, heartbeat: Any) -> Any:
        logging.getLogger().addHandler(debug_lines)
        logging.getLogger().setLevel(logging.DEBUG)
        logging.getLogger("botocore").setLevel(logging.DEBUG)
        logging.getLogger("a_library_of_the_work").debug("working on %s", task_input["id"])
        heartbeat()
        return result(task_input["id"])

    monkeypatch.setattr(handler, "do_work", do_work)
    execution = pattern.start(succeeds("verbose"))
    (message,) = pattern.receive(1)
    token = json.loads(message["Body"])["taskToken"]

    # WHEN the worker runs it: a heartbeat, then the callback, each a request with the token
    assert pattern.invoke([message]) == {"batchItemFailures": []}

    # THEN the work's own DEBUG line was written, and no line holds the token
    assert pattern.wait(execution)["status"] == "SUCCEEDED"
    lines = debug_lines.stream.getvalue()
    assert "working on verbose" in lines
    assert token not in lines


LAMBDA_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
# The function's logging_config, as tests/main.tftest.hcl holds worker.tf to it: the Text format,
# no application log level, so that Lambda filters no line (metric lines carry no "level").
WORKER_LOGGING_CONFIG = {"log_format": "Text"}


def lambda_keeps(line: str, logging_config: dict[str, Any], log_level: str) -> bool:
    """Lambda's documented log-level filtering: only with the JSON log format and an application
    log level; a line whose "level" is missing or not a level counts as INFO."""
    if logging_config["log_format"] != "JSON" or "application_log_level" not in logging_config:
        return True
    try:
        level = str(json.loads(line).get("level", "INFO")).upper()
    except ValueError:
        level = "INFO"
    level = {"WARNING": "WARN", "CRITICAL": "FATAL"}.get(level, level)
    if level not in LAMBDA_LEVELS:
        level = "INFO"
    threshold = logging_config["application_log_level"]
    return LAMBDA_LEVELS.index(level) >= LAMBDA_LEVELS.index(threshold)


@pytest.mark.parametrize("log_level", ["DEBUG", "INFO", "WARN", "ERROR"])
def test_every_metric_survives_lambdas_log_filter_at_every_log_level(
    pattern: Pattern,
    every_outcome: EveryOutcome,
    worker_logs: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    log_level: str,
) -> None:
    # GIVEN the worker configured as Terraform configures it for this log level
    evaluation = evaluate({"log_level": log_level})
    environment = evaluation.derived["worker_environment"]
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", environment["POWERTOOLS_LOG_LEVEL"])
    handler.logger.setLevel(None)  # Powertools' own order: ALC, then the code, then the variable
    logging_config = WORKER_LOGGING_CONFIG
    capsys.readouterr()

    # WHEN it handles a batch with every outcome, and Lambda filters what it wrote
    pattern.invoke(every_outcome.messages)
    written = (capsys.readouterr().out + worker_logs.getvalue()).splitlines()
    kept = [line for line in written if lambda_keeps(line, logging_config, log_level)]

    # THEN every metric line reaches CloudWatch: each outcome counted once
    metric_lines = [line for line in written if line.startswith('{"_aws"')]
    assert [line for line in kept if line.startswith('{"_aws"')] == metric_lines
    assert worker_metrics("\n".join(kept)) == every_outcome.counts
    # AND the log lines are those at or above the level asked for, fewer as the level rises
    levels = [json.loads(line)["level"] for line in kept if not line.startswith('{"_aws"')]
    rank = ["DEBUG", "INFO", "WARNING", "ERROR"]
    asked = rank.index({"WARN": "WARNING"}.get(log_level, log_level))
    assert all(rank.index(level) >= asked for level in levels)
    expected_lines = {"DEBUG": 5, "INFO": 4, "WARN": 2, "ERROR": 0}
    assert len(levels) == expected_lines[log_level]


def test_the_settings_main_tf_gives_are_read_at_import_and_a_missing_one_is_named() -> None:
    # GIVEN the environment main.tf gives the worker, and the same without two of its settings
    environment = worker_environment(Settings.from_terraform(max_receive_count=5))
    read = WorkerSettings.from_environment(environment)
    assert (read.max_receive_count, read.task_timeout_seconds) == (5, 600)
    assert read.idempotency_table_name == environment["IDEMPOTENCY_TABLE_NAME"]
    missing = ("MAX_RECEIVE_COUNT", "TASK_TIMEOUT_SECONDS")
    incomplete = {k: v for k, v in os.environ.items() if k not in missing}

    # WHEN the worker is imported without them, as Lambda would import it
    run = subprocess.run(
        [sys.executable, "-c", "import worker.handler"],
        env={**incomplete, "PYTHONPATH": os.pathsep.join(map(str, (work_folder(), ROOT / "src")))},
        capture_output=True,
        text=True,
        check=False,
    )

    # THEN the import fails, naming both, rather than run with a default Terraform did not set
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        "worker.settings.MissingSetting: TASK_TIMEOUT_SECONDS, MAX_RECEIVE_COUNT not set: the "
        "module sets these on the worker function (worker.tf)"
    )
