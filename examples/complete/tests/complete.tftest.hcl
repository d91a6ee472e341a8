# This example's plan with mock providers, as on a first `terraform apply`: no value that AWS
# computes is known, the charges table's ARN and name among them. The plan is the check: a count or
# for_each of the pattern that depended on the work's policy or settings would fail it.
# `make test-terraform` in the pattern's folder runs it, or `terraform test` here.

mock_provider "aws" {}

mock_provider "archive" {}

mock_provider "random" {}

mock_provider "external" {}

run "plans_on_a_first_apply" {
  command = plan
}
