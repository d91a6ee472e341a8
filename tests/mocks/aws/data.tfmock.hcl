# What the AWS provider would read at plan, for the terraform test suite (tests/*.tftest.hcl).

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

mock_data "aws_region" {
  defaults = {
    region = "eu-west-1"
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

# The public parameter's value as Powertools publishes it for arm64 (AWS's publishing account).
mock_data "aws_ssm_parameter" {
  defaults = {
    insecure_value = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:18"
  }
}
