output "region" {
  description = "The AWS Region the pattern is deployed in."
  value       = local.region
}

output "task_timeout_seconds" {
  description = "How long an execution waits for the worker's callback, in seconds (TimeoutSeconds)."
  value       = var.task_timeout_seconds
}

output "state_machine_arn" {
  description = "ARN of the state machine: start executions of it."
  value       = aws_sfn_state_machine.this.arn
}

output "queue_url" {
  description = "URL of the task queue the state machine sends task tokens to."
  value       = aws_sqs_queue.this.url
}

output "queue_arn" {
  description = "ARN of the task queue (the destination of a DLQ redrive: aws sqs start-message-move-task)."
  value       = aws_sqs_queue.this.arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue (the source of a redrive: aws sqs start-message-move-task)."
  value       = aws_sqs_queue.dlq.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue: task messages that failed max_receive_count times."
  value       = aws_sqs_queue.dlq.url
}

output "worker_function_name" {
  description = "Name of the worker Lambda function."
  value       = aws_lambda_function.worker.function_name
}

output "worker_role_name" {
  description = "Name of the worker's IAM role, for policies of your own beside attach_worker_policy_json (aws_iam_role_policy_attachment)."
  value       = aws_iam_role.worker.name
}

output "worker_role_arn" {
  description = "ARN of the worker's IAM role."
  value       = aws_iam_role.worker.arn
}

output "callback_policy_json" {
  description = "An IAM policy document for an external system that answers the tasks a work hands off (src/worker/handoff.py): SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat on this state machine, nothing else. Attach it to that system's role."
  value       = data.aws_iam_policy_document.callback.json
}

output "event_source_mapping_uuid" {
  description = "UUID of the queue-to-worker event source mapping (disable it to see an execution time out)."
  value       = aws_lambda_event_source_mapping.worker.uuid
}

output "idempotency_table_name" {
  description = "DynamoDB table of the task attempts the worker has run (null when var.idempotency is false)."
  value       = one(aws_dynamodb_table.idempotency[*].name)
}

output "worker_log_group_name" {
  description = "CloudWatch log group of the worker."
  value       = aws_cloudwatch_log_group.worker.name
}

output "state_machine_log_group_name" {
  description = "CloudWatch log group of the state machine's execution events."
  value       = aws_cloudwatch_log_group.state_machine.name
}

output "start_success_command" {
  description = "An AWS CLI command that starts an execution with the work's accepted example (its work_examples.json): it SUCCEEDS with the work's result."
  value       = "aws stepfunctions start-execution --region ${local.region} --state-machine-arn ${aws_sfn_state_machine.this.arn} --input ${local.work_example_inputs_quoted.accepted}"
}

output "start_failure_command" {
  description = "An AWS CLI command that starts an execution with the work's rejected example (its work_examples.json): it FAILS with the example's error."
  value       = "aws stepfunctions start-execution --region ${local.region} --state-machine-arn ${aws_sfn_state_machine.this.arn} --input ${local.work_example_inputs_quoted.rejected}"
}

output "start_hand_off_command" {
  description = "An AWS CLI command that starts an execution with the work's handed-off example (its work_examples.json's handed_off): the work hands the task off, and the execution waits for your external system's answer. null when the examples name none."
  value       = contains(keys(local.work_examples), "handed_off") ? "aws stepfunctions start-execution --region ${local.region} --state-machine-arn ${aws_sfn_state_machine.this.arn} --input ${local.work_example_inputs_quoted.handed_off}" : null
}

output "alarm_names" {
  description = "The CloudWatch alarms, by what they watch (empty when var.monitoring is false): the runbook (docs/monitoring.md) has an entry for each."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "dashboard_url" {
  description = "The CloudWatch dashboard of the flow (null when var.monitoring is false)."
  value       = var.monitoring ? "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${local.name}" : null
}

output "approval_page_url" {
  description = "The approval page's base URL (a request's link is <url>/<link ID>); null without var.approval."
  value       = one(module.approval[*].page_url)
}

output "approval_topic_arn" {
  description = "The SNS topic each approval request's link is published to: subscribe a channel of your own. null without var.approval."
  value       = one(module.approval[*].topic_arn)
}
