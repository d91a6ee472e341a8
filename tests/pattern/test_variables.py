"""The variables, run by real Terraform offline: every validation refuses what AWS would refuse at
apply (or what cannot work), with its message, and lets a good value through; the check block
warns where a failing task would no longer end as WorkerFailed; derived values are computed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.terraform import ROOT, TerraformError, evaluate, load_hcl
from tests.pattern.helpers import copy_of_the_project, settings_warnings

# variable -> (a good value, [(a bad value, a phrase of the message it gets), ...])
VALIDATIONS: dict[str, tuple[Any, list[tuple[Any, str]]]] = {
    "work_source_path": (
        str(ROOT / "tests" / "pattern" / "expenses"),
        [(str(ROOT / "src"), "holds work.py and work_examples.json")],
    ),
    "workflow_path": (
        str(ROOT / "examples" / "complete" / "workflows" / "refunds.asl.json"),
        [
            (str(ROOT / "README.md"), "ends in .json"),
            (str(ROOT / "statemachine" / "no-such.asl.json"), "that exists"),
        ],
    ),
    "approval": (
        {"notify_email": "approvers@example.com", "throttle_per_second": 10, "jwt": None},
        [
            ({"notify_email": "approvers"}, "must be an e-mail address"),
            ({"throttle_per_second": 0}, "from 1 to 5000"),
            (
                {
                    "jwt": {
                        "issuer": "http://login.example.com",
                        "audience": ["a"],
                        "approvers": ["b"],
                    }
                },
                "https:// issuer",
            ),
            (
                {
                    "jwt": {
                        "issuer": "https://login.example.com",
                        "audience": ["a"],
                        "approvers": [],
                    }
                },
                "at least one approver",
            ),
        ],
    ),
    "name": ("orders-prod_2", [("", "1 to 40"), ("a" * 41, "1 to 40"), ("my.queue", "letters")]),
    "tags": (
        {"team": "payments"},
        [
            ({"aws:owner": "x"}, "aws:"),
            ({"k" * 129: "v"}, "128"),
            ({"k": "v" * 257}, "256"),
            ({f"k{i}": "v" for i in range(51)}, "at most 50"),
        ],
    ),
    "task_timeout_seconds": (
        31536000,
        [(1, "from 2 to 31536000"), (31536001, "31536000"), (2.5, "an integer")],
    ),
    "heartbeat_seconds": (60, [(0, "from 1"), (600, "task_timeout_seconds - 1"), (2.5, "integer")]),
    "max_receive_count": (5, [(0, "from 1 to 1000"), (1001, "1000"), (2.5, "an integer")]),
    "message_retention_seconds": (
        60,
        [(59, "from 60 to 1209600"), (1209601, "1209600"), (60.5, "an integer")],
    ),
    "worker_timeout_seconds": (
        3,
        [(2, "from 3 to 900"), (1, "at least a second"), (901, "900"), (3.5, "an integer")],
    ),
    "worker_memory_mb": (10240, [(127, "128 to 10240"), (10241, "10240"), (256.5, "an integer")]),
    "architecture": ("x86_64", [("amd64", "arm64 or x86_64")]),
    "powertools_version": ("latest", [("2.43.1", "3.x"), ("3.37", "3.x"), ("v3.37.0", "3.x")]),
    "batch_size": (10000, [(0, "from 1 to 10000"), (10001, "10000"), (1.5, "an integer")]),
    "batching_window_seconds": (300, [(-1, "from 0 to 300"), (301, "300"), (0.5, "an integer")]),
    "maximum_concurrency": (1000, [(1, "from 2 to 1000"), (1001, "1000"), (2.5, "an integer")]),
    "provisioned_pollers": (
        {"minimum": 2, "maximum": 2000},
        [
            ({"minimum": 1, "maximum": 10}, "minimum = an integer from 2 to 200"),
            ({"minimum": 201, "maximum": 300}, "from 2 to 200"),
            ({"minimum": 10, "maximum": 5}, "from minimum to 2000"),
            ({"minimum": 2, "maximum": 2001}, "2000"),
            ({"minimum": 2.5, "maximum": 10}, "an integer"),
        ],
    ),
    "log_level": ("WARN", [("WARNING", "DEBUG, INFO, WARN or ERROR"), ("debug", "DEBUG")]),
    "log_retention_days": (30, [(0, "CloudWatch Logs accepts"), (31, "CloudWatch Logs accepts")]),
    "state_machine_log_level": (
        "ERROR",
        [
            ("DEBUG", "ALL, ERROR, FATAL or OFF"),
            ("FATAL", "FailStateEntered events, which Step Functions logs at those levels alone"),
            ("OFF", "must be ALL or ERROR with monitoring = true"),
        ],
    ),
    "alarm_actions": (
        ["arn:aws:sns:eu-west-1:123456789012:on-call"],
        [
            (["arn:aws:sqs:eu-west-1:123456789012:q"], "SNS topic ARNs"),
            ([f"arn:aws:sns:eu-west-1:123456789012:t{i}" for i in range(6)], "at most 5"),
        ],
    ),
    "alarm_task_age_share": (0.9, [(0, "above 0 and below 1"), (1, "above 0 and below 1")]),
    "alarm_records_retried": (0, [(-1, "at least 0"), (2.5, "an integer")]),
    "alarm_worker_errors": (3, [(-1, "at least 0"), (0.5, "an integer")]),
    "alarm_worker_throttles": (5, [(-1, "at least 0"), (0.5, "an integer")]),
    "alarm_failed_executions": (1, [(-1, "at least 0"), (1.5, "an integer")]),
    "worker_policy_json": (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", '
        '"Resource": "arn:aws:s3:::my-bucket/*"}]}',
        [("not json", "IAM policy document in JSON"), ('{"Version": "2012-10-17"}', "Statement")],
    ),
    "worker_environment": (
        {"PAYMENTS_API_URL": "https://payments.example.com", "RETRIES": "3"},
        [
            ({"MAX_RECEIVE_COUNT": "9"}, "may not set"),
            ({"POWERTOOLS_LOGGER_LOG_EVENT": "true"}, "POWERTOOLS_"),
            ({"AWS_REGION": "eu-west-1"}, "AWS_REGION"),
            ({"TZ": "Europe/Paris"}, "TZ"),
            ({"_HANDLER": "x.y"}, "_HANDLER"),
            ({"IDEMPOTENCY_TABLE_NAME": "x"}, "the pattern's own IDEMPOTENCY_TABLE_NAME"),
            ({"HOME": "/tmp"}, "HOME would point the AWS SDK at another configuration"),
            ({"SSLKEYLOGFILE": "/tmp/keys"}, "writes its TLS keys to a file"),
            ({"OPENSSL_CONF": "/tmp/openssl.cnf"}, "OPENSSL_CONF"),
            ({"AWS_ENDPOINT_URL_SFN": "https://example.com"}, "task tokens and all"),
            ({"AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrapper"}, "run other code at start"),
            ({"https_proxy": "http://proxy.example.com:3128"}, "https_proxy"),
            ({"REQUESTS_CA_BUNDLE": "/tmp/ca.pem"}, "proxies, CA bundles and OPENSSL_*"),
            ({"PYTHONPATH": "/tmp"}, "change the code Python loads"),
            ({"LD_PRELOAD": "/tmp/x.so"}, "LD_PRELOAD"),
            ({"1ST": "x"}, "starting with a letter"),
            ({"MY-SETTING": "x"}, "letters, digits and underscores"),
        ],
    ),
    "queue_operator_role_arns": (
        ["arn:aws:iam::123456789012:role/operations/dlq-redrive"],
        [
            (["arn:aws:iam::123456789012:user/alice"], "IAM role ARNs"),
            ([f"arn:aws:iam::123456789012:role/r{i}" for i in range(21)], "at most 20"),
        ],
    ),
}
# Values that only work together: a good value of one may need another set.
TOGETHER = {
    "batch_size": {"batching_window_seconds": 1},
    "batching_window_seconds": {"batch_size": 10},
    "heartbeat_seconds": {"task_timeout_seconds": 600},
    "worker_policy_json": {"attach_worker_policy_json": True},
}


def validated_variables() -> set[str]:
    return {
        name
        for block in load_hcl("variables.tf")["variable"]
        for name, variable in block.items()
        if variable.get("validation")
    }


def test_every_validated_variable_is_in_the_table() -> None:
    assert set(VALIDATIONS) == validated_variables()


@pytest.mark.parametrize("variable", sorted(VALIDATIONS))
def test_a_good_value_plans(variable: str) -> None:
    good, _ = VALIDATIONS[variable]

    evaluation = evaluate({variable: good, **TOGETHER.get(variable, {})})

    assert evaluation.variables[variable] == good


BAD = [
    (variable, bad, phrase) for variable, (_, bads) in VALIDATIONS.items() for bad, phrase in bads
]


@pytest.mark.parametrize(
    ("variable", "bad", "phrase"), BAD, ids=[f"{v}={str(b)[:20]}" for v, b, _ in BAD]
)
def test_a_bad_value_fails_at_plan_with_its_message(variable: str, bad: Any, phrase: str) -> None:
    with pytest.raises(TerraformError) as refused:
        evaluate({variable: bad, **TOGETHER.get(variable, {})})

    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.startswith("Invalid value for variable")
    assert phrase in diagnostic
    assert variable in diagnostic.split(":", 1)[1]  # the message names the variable


@pytest.mark.parametrize(
    "variables",
    [{"worker_policy_json": '{"Statement": []}'}, {"attach_worker_policy_json": True}],
    ids=["policy-without-attach", "attach-without-policy"],
)
def test_a_work_policy_and_its_attach_switch_go_together(variables: dict[str, Any]) -> None:
    with pytest.raises(TerraformError, match="goes with attach_worker_policy_json = true"):
        evaluate(variables)


def test_an_approval_with_a_heartbeat_window_warns_that_approvers_get_only_that_window() -> None:
    evaluation = evaluate({"approval": {}, "task_timeout_seconds": 86400, "heartbeat_seconds": 600})

    (warning,) = settings_warnings(evaluation.warnings)
    assert "a person cannot heartbeat" in warning
    assert "heartbeat_seconds = 600" in warning
    assert (
        settings_warnings(evaluate({"approval": {}, "task_timeout_seconds": 86400}).warnings) == []
    )


def test_a_workflow_without_heartbeat_seconds_warns_that_the_workers_proof_rests_on_it(
    tmp_path: Path,
) -> None:
    template = (ROOT / "statemachine" / "callback.asl.json").read_text()
    workflow = tmp_path / "no-heartbeat.asl.json"
    workflow.write_text(template.replace('"HeartbeatSeconds": ${heartbeat_seconds},', ""))

    (warning,) = settings_warnings(evaluate({"workflow_path": str(workflow)}).warnings)

    assert "declares no HeartbeatSeconds" in warning
    assert settings_warnings(evaluate().warnings) == []


def test_an_approval_service_needs_the_idempotency_layer() -> None:
    # Without it a duplicate delivery of one task sends a second link, and the page that answers
    # second would record as expired a task the first one answered.
    with pytest.raises(TerraformError, match="approval needs idempotency = true"):
        evaluate({"approval": {}, "idempotency": False})


def test_a_batch_over_ten_needs_a_batching_window() -> None:
    with pytest.raises(TerraformError, match="at least 1 when batch_size is over 10"):
        evaluate({"batch_size": 11, "batching_window_seconds": 0})


def test_the_defaults_let_a_failing_task_end_as_worker_failed() -> None:
    evaluation = evaluate()

    assert settings_warnings(evaluation.warnings) == []
    derived = evaluation.derived
    assert derived["last_receive_done_seconds"] <= evaluation.variables["task_timeout_seconds"]


@pytest.mark.parametrize(
    ("variables", "phrase"),
    [
        ({"task_timeout_seconds": 300}, "done 390 s after the first"),
        ({"max_receive_count": 5}, "done 750 s after the first"),
        ({"worker_timeout_seconds": 60}, "done 780 s after the first"),
        ({"heartbeat_seconds": 60}, "180 s visibility timeout, longer than heartbeat_seconds = 60"),
    ],
)
def test_values_that_let_a_failing_task_time_out_instead_warn_at_plan(
    variables: dict[str, Any], phrase: str
) -> None:
    evaluation = evaluate(variables)

    (warning,) = settings_warnings(evaluation.warnings)
    assert warning.startswith("Check block assertion failed: A task whose work")
    assert "CallbackTimedOut" in warning
    assert phrase in warning


def test_without_monitoring_the_state_machine_may_log_less() -> None:
    for level in ("FATAL", "OFF"):
        evaluation = evaluate({"state_machine_log_level": level, "monitoring": False})
        assert settings_warnings(evaluation.warnings) == []


def test_dependencies_without_hashes_warn_at_plan_that_pip_checks_nothing(tmp_path: Path) -> None:
    # GIVEN a work with a dependency listed as a name and a version, and the same with its hash
    plain, locked = copy_of_the_project(tmp_path / "plain"), copy_of_the_project(tmp_path / "lock")
    requirements = Path("src") / "work" / "work_requirements.txt"
    (plain / requirements).write_text("six==1.17.0\n")
    (locked / requirements).write_text(f"six==1.17.0 \\\n    --hash=sha256:{'4' * 64}\n")
    commented = copy_of_the_project(tmp_path / "commented")
    (commented / requirements).write_text("six==1.17.0  # pin it with --hash=sha256:... later\n")

    # THEN Terraform warns at plan for the first alone: pip would check nothing it downloads
    for unhashed in (plain, commented):  # a comment that names --hash= puts pip in no hash mode
        (warning,) = evaluate(root=unhashed).warnings
        assert "without hashes: pip checks nothing it downloads" in warning
    assert evaluate(root=locked).warnings == []


def test_latest_powertools_warns_at_plan_that_the_worker_changes_untested() -> None:
    (warning,) = settings_warnings(evaluate({"powertools_version": "latest"}).warnings)
    assert 'powertools_version = "latest"' in warning
    assert "never tested with" in warning
    assert settings_warnings(evaluate({"powertools_version": "3.37.0"}).warnings) == []


def test_provisioned_pollers_and_maximum_concurrency_are_one_or_the_other() -> None:
    provisioned = {"provisioned_pollers": {"minimum": 2, "maximum": 20}}

    with pytest.raises(TerraformError, match="cannot both be set"):
        evaluate({**provisioned, "maximum_concurrency": 50})

    assert evaluate(provisioned).derived["maximum_concurrency"] is None
    assert evaluate().derived["maximum_concurrency"] == 10  # the cap when neither is set
    assert evaluate({"maximum_concurrency": 50}).derived["maximum_concurrency"] == 50


def test_the_tasks_waiting_alarm_goes_off_at_a_share_of_the_task_timeout() -> None:
    derived = evaluate({"task_timeout_seconds": 900, "alarm_task_age_share": 0.25}).derived

    assert derived["task_age_alarm_seconds"] == 225


def test_the_visibility_timeout_is_six_worker_timeouts_plus_the_batching_window() -> None:
    derived = evaluate({"worker_timeout_seconds": 45, "batching_window_seconds": 20}).derived

    assert derived["visibility_timeout_seconds"] == 6 * 45 + 20
