# What the AWS provider would read at plan, for the terraform test suite (tests/*.tftest.hcl).

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
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
    arn            = "arn:aws:ssm:eu-west-1::parameter/aws/service/powertools/python/arm64/python3.12/3.37.0"
    insecure_value = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:18"
  }
}

# A policy document's JSON, as the provider renders one: the real provider refuses a role whose
# assume_role_policy is not a JSON policy (a mock's default is a random string).
mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}
