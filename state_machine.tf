# The state machine, rendered from the instance's workflow (workflow_path) or statemachine/callback.asl.json, and its log group.

resource "aws_cloudwatch_log_group" "state_machine" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest already; a customer-managed key adds cost and a key policy, and the logs hold no tokens.
  # The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small as log groups add up.
  name              = "/aws/vendedlogs/states/${local.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_sfn_state_machine" "this" {
  # checkov:skip=CKV_AWS_285:Execution data holds task tokens, so it is logged only when var.include_execution_data is set.
  name     = local.name
  role_arn = aws_iam_role.state_machine.arn
  type     = "STANDARD" # Express workflows do not support .waitForTaskToken

  definition = templatefile(local.state_machine_template, merge(local.state_machine_settings, {
    partition = data.aws_partition.current.partition
    queue_url = aws_sqs_queue.this.url
  }))

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = var.include_execution_data
    level                  = var.state_machine_log_level
  }

  # checkov:skip=CKV_AWS_284:X-Ray tracing is var.tracing, off by default: see its description.
  tracing_configuration {
    enabled = var.tracing
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.state_machine]
}
