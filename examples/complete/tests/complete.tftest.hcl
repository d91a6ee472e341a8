# This example's plan with mock providers, as on a first `terraform apply`: no value that AWS
# computes is known, the charges table's ARN and name among them. The plan is the check: a count or
# for_each of the pattern that depended on the work's policy or settings would fail it.
# `make test-terraform` in the pattern's folder runs it, or `terraform test` here.

mock_provider "aws" {
  # What the provider reads at plan where the module checks it: the Region, and the Powertools
  # layer its public parameter names (the module refuses a layer that is not Powertools' own).
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }

  mock_data "aws_ssm_parameter" {
    defaults = { insecure_value = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:18" }
  }
}

mock_provider "archive" {}

mock_provider "random" {}

mock_provider "external" {}

run "plans_on_a_first_apply" {
  command = plan
}
