# This example's plan with mock providers, as on a first `terraform apply`: no value that AWS
# computes is known, the charges table's ARN and name among them. The plan is the check: a count or
# for_each of the pattern that depended on the work's policy or settings would fail it.
# `make test-terraform` in the pattern's folder runs it, or `terraform test` here.

mock_provider "aws" {
  # What the provider reads at plan where the module checks it: the Powertools layer its public
  # parameter names, in the parameter's Region (the module refuses a layer that is not
  # Powertools' own), and the policy documents' JSON (the real provider refuses a role whose
  # policy is not JSON).
  mock_data "aws_ssm_parameter" {
    defaults = {
      arn            = "arn:aws:ssm:eu-west-1::parameter/aws/service/powertools/python/arm64/python3.12/3.37.0"
      insecure_value = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:18"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

mock_provider "archive" {}

mock_provider "random" {}

mock_provider "external" {}

run "plans_on_a_first_apply" {
  command = plan
}

run "each_instance_runs_its_own_work" {
  command = plan

  override_resource {
    target          = module.callback["orders"].aws_sfn_state_machine.this
    values          = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:cb-orders" }
    override_during = plan
  }

  override_resource {
    target          = module.callback["refunds"].aws_sfn_state_machine.this
    values          = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:cb-refunds" }
    override_during = plan
  }

  # The start commands name the Region, which the module reads from its task queue's ARN.
  override_resource {
    target          = module.callback["orders"].aws_sqs_queue.this
    values          = { arn = "arn:aws:sqs:eu-west-1:123456789012:cb-orders-tasks" }
    override_during = plan
  }

  override_resource {
    target          = module.callback["refunds"].aws_sqs_queue.this
    values          = { arn = "arn:aws:sqs:eu-west-1:123456789012:cb-refunds-tasks" }
    override_during = plan
  }

  assert {
    condition     = strcontains(module.callback["refunds"].start_hand_off_command, jsonencode({ amountCents = 90000, orderId = "order-3" }))
    error_message = "The refunds instance must run refunds/, whose handed-off example is its large refund. Got ${jsonencode(module.callback["refunds"].start_hand_off_command)}."
  }

  assert {
    condition     = module.callback["orders"].start_hand_off_command == null
    error_message = "The orders instance must run orders/, which hands nothing off. Got ${jsonencode(module.callback["orders"].start_hand_off_command)}."
  }

  assert {
    condition     = strcontains(module.callback["orders"].start_failure_command, "\"amountCents\":0")
    error_message = "The orders instance's rejected example is orders/'s: ${module.callback["orders"].start_failure_command}"
  }
}
