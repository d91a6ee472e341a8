# Step Functions hands work to a Lambda worker through SQS and waits for its task-token callback.
#
#   start-execution -> state machine (STANDARD) -> SQS task queue -> Lambda worker
#                       ^                                               |
#                       +---- SendTaskSuccess / SendTaskFailure --------+

# No provider block: a caller's provider (or, applied on its own, Terraform's default one, which
# reads the region and credentials from the environment) deploys the pattern, so it can be called
# as a module with for_each, count and depends_on. Values derived from the variables alone are in
# locals.tf.

locals {
  name = "${var.name}-${random_id.suffix.hex}"

  # The function's code, path in the package => file: the worker's package, and the work's files
  # beside it at the package's root (its examples, requirements, tests and caches left out).
  worker_package_files = merge(
    {
      for file in fileset("${path.module}/src/worker", "**") :
      "worker/${file}" => "${path.module}/src/worker/${file}" if !strcontains(file, "__pycache__")
    },
    {
      for file in fileset(local.work_path, "**") : file => "${local.work_path}/${file}"
      if !anytrue([
        for left_out in ["__pycache__/", "tests/", "test_", "conftest.py", "work_examples.json", "work_requirements.txt"] :
        strcontains("/${file}", "/${left_out}")
      ])
    },
  )
  worker_package_hash = sha256(join("\n", [
    for name, file in local.worker_package_files : "${name} ${filesha256(file)}"
  ]))
}

resource "random_id" "suffix" {
  byte_length = 3
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

################################################################################
# Queues
################################################################################

resource "aws_sqs_queue" "this" {
  name                       = "${local.name}-tasks"
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = local.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.name}-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = local.dead_letter_retention_seconds

  tags = var.tags
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this.arn]
  })
}

# Who may put messages on each queue and take them off: the state machine sends tasks, the worker
# consumes them, the roles in var.queue_operator_role_arns may do both (a DLQ redrive, reading the
# DLQ); every other IAM principal of any account is denied, whatever its own policies grant. Only
# the message actions are denied, never the queue's configuration: an admin can always change this
# policy. AWS services acting as themselves (SQS moving a message to the DLQ) are left alone, as
# AWS's data perimeter policies leave them (aws:PrincipalIsAWSService). Queue tokens are bearer
# credentials: who may receive them may complete the tasks.
locals {
  queue_access = {
    tasks = { arn = aws_sqs_queue.this.arn, senders = [aws_iam_role.state_machine.arn], receivers = [aws_iam_role.worker.arn] }
    dlq   = { arn = aws_sqs_queue.dlq.arn, senders = [], receivers = [] }
  }
}

data "aws_iam_policy_document" "queue" {
  for_each = local.queue_access

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [each.value.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = {
      DenyOtherSenders   = { actions = ["sqs:SendMessage"], allowed = concat(each.value.senders, var.queue_operator_role_arns) }
      DenyOtherReceivers = { actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"], allowed = concat(each.value.receivers, var.queue_operator_role_arns) }
    }
    content {
      sid       = statement.key
      effect    = "Deny"
      actions   = statement.value.actions
      resources = [each.value.arn]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      dynamic "condition" {
        for_each = length(statement.value.allowed) > 0 ? [statement.value.allowed] : []
        content {
          test     = "ArnNotEquals"
          variable = "aws:PrincipalArn"
          values   = condition.value
        }
      }

      condition {
        test     = "BoolIfExists"
        variable = "aws:PrincipalIsAWSService"
        values   = ["false"]
      }
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  for_each = { tasks = aws_sqs_queue.this.id, dlq = aws_sqs_queue.dlq.id }

  queue_url = each.value
  policy    = data.aws_iam_policy_document.queue[each.key].json
}

################################################################################
# Worker
################################################################################

# The zip's name is a hash of what it holds, so that two instances of the module (for_each)
# planning at once write the same bytes to the same file, never different ones.
data "archive_file" "worker" {
  type        = "zip"
  output_path = "${path.module}/build/worker-${substr(local.worker_package_hash, 0, 16)}.zip"

  dynamic "source" {
    for_each = local.worker_package_files
    content {
      filename = source.key
      content  = file(source.value)
    }
  }
}

# The work's own dependencies (work_requirements.txt in its folder), if it names any: built at plan
# for the worker's architecture and Python 3.12 (manylinux wheels, never the build machine's) into
# a reproducible zip, cached by the requirements' hash, and attached as a layer.
data "external" "work_dependencies" {
  count   = local.work_has_dependencies ? 1 : 0
  program = ["python3", "${path.module}/build_dependencies.py"]

  query = {
    requirements = abspath(local.work_requirements)
    architecture = var.architecture
    build_dir    = abspath("${path.module}/build")
  }
}

resource "aws_lambda_layer_version" "work_dependencies" {
  count                    = local.work_has_dependencies ? 1 : 0
  layer_name               = "${local.name}-work-dependencies"
  description              = "The dependencies of the work of ${local.name}-worker (its work_requirements.txt)."
  filename                 = data.external.work_dependencies[0].result.path
  source_code_hash         = data.external.work_dependencies[0].result.base64sha256
  compatible_runtimes      = ["python3.12"]
  compatible_architectures = [var.architecture]
}

# A public parameter that Powertools' release job writes: the layer it names is checked to be
# Powertools' own (the account Powertools publishes from, the layer for this runtime and
# architecture, in this Region) before the worker runs it with the worker's role.
data "aws_ssm_parameter" "powertools_layer" {
  name = "/aws/service/powertools/python/${var.architecture}/python3.12/${var.powertools_version}"

  lifecycle {
    postcondition {
      condition     = can(regex("^arn:aws:lambda:${data.aws_region.current.region}:${local.powertools_publisher}:layer:AWSLambdaPowertoolsPythonV3-python312-${var.architecture}:[0-9]+$", self.insecure_value))
      error_message = "${self.name} names ${self.insecure_value}, not a layer of Powertools' own: arn:aws:lambda:${data.aws_region.current.region}:${local.powertools_publisher}:layer:AWSLambdaPowertoolsPythonV3-python312-${var.architecture}:<version>. The worker would run it with its role: find out who changed the parameter before you deploy."
    }
  }
}

resource "aws_cloudwatch_log_group" "worker" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest already; a customer-managed key adds cost and a key policy, and the logs hold no tokens.
  name              = "/aws/lambda/${local.name}-worker"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_lambda_function" "worker" {
  # checkov:skip=CKV_AWS_117:The worker calls only AWS APIs; a VPC would add NAT or endpoints and cost, not protection.
  # checkov:skip=CKV_AWS_272:Code signing needs a signing profile the pattern cannot assume; add it in your own pipeline.
  # checkov:skip=CKV_AWS_116:An SQS-triggered function's failures go to the queue's own dead-letter queue.
  # checkov:skip=CKV_AWS_115:The event source mapping's maximum_concurrency (or provisioned pollers) bounds the worker; reserved concurrency fails to apply in accounts with a low limit.
  # checkov:skip=CKV_AWS_173:The environment holds settings, no secrets.
  function_name    = "${local.name}-worker"
  description      = "Answers the Step Functions task tokens it receives through ${aws_sqs_queue.this.name}."
  role             = aws_iam_role.worker.arn
  runtime          = "python3.12"
  architectures    = [var.architecture]
  handler          = "worker.handler.lambda_handler"
  filename         = data.archive_file.worker.output_path
  source_code_hash = data.archive_file.worker.output_base64sha256
  layers           = concat([data.aws_ssm_parameter.powertools_layer.insecure_value], aws_lambda_layer_version.work_dependencies[*].arn)
  memory_size      = var.worker_memory_mb
  timeout          = var.worker_timeout_seconds

  environment {
    variables = merge(
      local.worker_environment,
      {
        POWERTOOLS_SERVICE_NAME      = local.name
        POWERTOOLS_METRICS_NAMESPACE = local.name
      },
      var.idempotency ? { IDEMPOTENCY_TABLE_NAME = aws_dynamodb_table.idempotency[0].name } : {},
    )
  }

  # Text, so that Lambda filters no line: with JSON and an application log level, Lambda takes a
  # line without a "level" field as INFO, and Powertools' metric lines (EMF) have none, so WARN or
  # ERROR would drop every metric. Powertools writes JSON itself and filters at var.log_level
  # (POWERTOOLS_LOG_LEVEL), which it could not do below Lambda's level: AWS_LAMBDA_LOG_LEVEL
  # takes precedence over it.
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.worker.name
  }

  # checkov:skip=CKV_AWS_50:X-Ray tracing is var.tracing, off by default: see its description.
  tracing_config {
    mode = var.tracing ? "Active" : "PassThrough"
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.worker, aws_iam_role_policy.worker_work]
}

resource "aws_lambda_event_source_mapping" "worker" {
  event_source_arn                   = aws_sqs_queue.this.arn
  function_name                      = aws_lambda_function.worker.arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  # Lambda takes one or the other: a cap on concurrent invocations, or dedicated pollers.
  dynamic "scaling_config" {
    for_each = var.provisioned_pollers == null ? [local.maximum_concurrency] : []
    content {
      maximum_concurrency = scaling_config.value
    }
  }

  dynamic "provisioned_poller_config" {
    for_each = var.provisioned_pollers == null ? [] : [var.provisioned_pollers]
    content {
      minimum_pollers = provisioned_poller_config.value.minimum
      maximum_pollers = provisioned_poller_config.value.maximum
    }
  }

  tags = var.tags
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "worker" {
  name               = "${local.name}-worker"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "ConsumeTaskQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.this.arn]
  }

  statement {
    sid = "AnswerTaskTokens"
    # The Service Authorization Reference lists no resource type for SendTask*, so "*" would always
    # be accepted; for a token from a service integration the state machine's ARN is enough, and
    # it keeps the worker from answering other state machines' tasks (AWS CDK's grantTaskResponse
    # does the same).
    actions   = local.answer_task_actions
    resources = [aws_sfn_state_machine.this.arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.worker.arn}:*"]
  }

  dynamic "statement" {
    for_each = aws_dynamodb_table.idempotency[*].arn
    content {
      sid       = "RecordTaskAttempts"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.tracing ? ["*"] : []
    content {
      sid = "ActiveTracing"
      # X-Ray's trace-writing actions have no resource type: "*" is the only resource they accept.
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "answer-task-tokens"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}

# What a team's work needs beyond the pattern (var.worker_policy_json), in a policy of its own.
# A static switch decides whether it exists, not the policy: one built from resources of the same
# apply is unknown at plan, and Terraform must know the count then.
resource "aws_iam_role_policy" "worker_work" {
  count  = var.attach_worker_policy_json ? 1 : 0
  name   = "the-work"
  role   = aws_iam_role.worker.id
  policy = var.worker_policy_json
}

# One record per task attempt, so that the work runs once (src/worker/idempotency.py): keyed by a hash
# of the task token, expired by TTL after the task timeout.
resource "aws_dynamodb_table" "idempotency" {
  # checkov:skip=CKV_AWS_119:DynamoDB encrypts every table at rest (AWS owned key); a customer-managed key adds cost and a key policy for records that hold a hash and a result for minutes.
  # checkov:skip=CKV_AWS_28:Point-in-time recovery would restore records of task attempts whose tokens are dead; each lives only until the task timeout.
  count        = var.idempotency ? 1 : 0
  name         = "${local.name}-idempotency"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = local.idempotency_key_attribute

  attribute {
    name = local.idempotency_key_attribute
    type = "S"
  }

  ttl {
    attribute_name = local.idempotency_expiry_attribute
    enabled        = true
  }

  point_in_time_recovery {
    enabled = false
  }

  tags = var.tags
}

################################################################################
# State machine
################################################################################

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

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    # Only state machines of this account and Region may use the role: the confused-deputy
    # conditions exactly as "Prevent cross-service confused deputy issue" in the Step Functions
    # guide writes them. Not narrowed to this state machine: AWS does not say which ARN Step
    # Functions presents when CreateStateMachine checks the role, and a narrower one that does
    # not match would fail the apply.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:states:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:stateMachine:*"]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name               = "${local.name}-states"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json

  tags = var.tags
}

# What an external system needs to answer a task the work handed off (src/worker/handoff.py),
# and nothing else: the callback_policy_json output, for its role.
data "aws_iam_policy_document" "callback" {
  statement {
    sid       = "AnswerTaskTokens"
    actions   = local.answer_task_actions
    resources = [aws_sfn_state_machine.this.arn]
  }
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "SendTaskMessages"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]
  }

  statement {
    sid = "DeliverExecutionLogs"
    # Log delivery is set up through these account-level APIs, which accept no narrower resource.
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.tracing ? ["*"] : []
    content {
      sid = "Tracing"
      # X-Ray's actions have no resource type: "*" is the only resource they accept.
      actions = [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
      ]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "send-tasks-log-trace"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

################################################################################
# Monitoring: an alarm for each way the pattern goes wrong unseen, and a dashboard
################################################################################

# Executions the worker never answered, counted from the state machine's log: those that waited in
# vain for a callback (CallbackTimedOut), and those that Step Functions failed before their task
# reached the queue (an input too large to send, States.DataLimitExceeded; SQS refusing the message).
# A metric filter's metric takes no fixed dimension: the deployment's own namespace, the worker's
# too, keeps them apart.
resource "aws_cloudwatch_log_metric_filter" "this" {
  for_each       = var.monitoring ? local.execution_failures : {}
  name           = "${local.name}-${each.key}"
  log_group_name = aws_cloudwatch_log_group.state_machine.name
  pattern        = each.value

  metric_transformation {
    namespace = local.name
    name      = each.key
    value     = "1"
    unit      = "Count"
  }
}

locals {
  # The state machine's log events that count as each metric. CallbackTimedOut: the workflow
  # entering its CallbackTimedOut Fail state, by the event's type and the state's name, which
  # are no execution data (logged at ALL and ERROR). TaskNotSent: ExecutionFailed by its error
  # name (logged at ALL, ERROR and FATAL), which AWS does not document as kept without execution
  # data; no other event tells these executions apart.
  execution_failures = {
    CallbackTimedOut = "{ $.type = \"FailStateEntered\" && $.details.name = \"CallbackTimedOut\" }"
    TaskNotSent      = "{ $.type = \"ExecutionFailed\" && ($.details.error = \"States.*\" || $.details.error = \"SQS.*\") }"
  }

  # The worker's own metrics: the deployment's namespace, one dimension, service.
  worker_metrics = { namespace = local.name, dimensions = tomap({ service = local.name }) }

  alarms = {
    tasks-waiting = {
      description = "A task has waited in the queue longer than ${local.task_age_alarm_seconds} s (a share of the ${var.task_timeout_seconds} s task timeout): the worker is down or falling behind, and executions will soon time out."
      namespace   = "AWS/SQS"
      metric      = "ApproximateAgeOfOldestMessage"
      dimensions  = tomap({ QueueName = aws_sqs_queue.this.name })
      statistic   = "Maximum"
      period      = 60
      threshold   = local.task_age_alarm_seconds
    }
    dead-letter-queue = {
      description = "A message is in the dead-letter queue: it failed ${var.max_receive_count} receives (a malformed message, or a task still failing on its last receive)."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = tomap({ QueueName = aws_sqs_queue.dlq.name })
      statistic   = "Maximum"
      period      = 60
      threshold   = 0
    }
    worker-errors = {
      description = "Invocations of the worker failed as a whole (a timeout, out of memory, an import error): their whole batches come back."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = tomap({ FunctionName = aws_lambda_function.worker.function_name })
      statistic   = "Sum"
      period      = 300
      threshold   = var.alarm_worker_errors
    }
    worker-throttled = {
      description = "Invocations of the worker were throttled (the account's or the function's concurrency is used up): tasks wait longer."
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      dimensions  = tomap({ FunctionName = aws_lambda_function.worker.function_name })
      statistic   = "Sum"
      period      = 300
      threshold   = var.alarm_worker_throttles
    }
    records-retried = {
      description = "The worker sent more than ${var.alarm_records_retried} records back in 5 minutes (RecordRetried): their work or their callback keeps failing."
      namespace   = local.worker_metrics.namespace
      metric      = "RecordRetried"
      dimensions  = local.worker_metrics.dimensions
      statistic   = "Sum"
      period      = 300
      threshold   = var.alarm_records_retried
    }
    worker-failed = {
      description = "The worker failed executions as WorkerFailed: their work kept failing until the last allowed receive."
      namespace   = local.worker_metrics.namespace
      metric      = "WorkerFailed"
      dimensions  = local.worker_metrics.dimensions
      statistic   = "Sum"
      period      = 300
      threshold   = var.alarm_failed_executions
    }
    callback-timed-out = {
      description = "Executions ended as CallbackTimedOut: no callback came within the task timeout (or the heartbeat)."
      namespace   = local.name
      metric      = "CallbackTimedOut"
      dimensions  = tomap({})
      statistic   = "Sum"
      period      = 300
      threshold   = var.alarm_failed_executions
    }
    tasks-not-sent = {
      description = "Step Functions failed executions before their task reached the queue (States.DataLimitExceeded: an input too large to send with its token; an SQS error): the worker never saw them."
      namespace   = local.name
      metric      = "TaskNotSent"
      dimensions  = tomap({})
      statistic   = "Sum"
      period      = 300
      threshold   = var.alarm_failed_executions
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = { for name, alarm in local.alarms : name => alarm if var.monitoring }

  alarm_name          = "${local.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching" # no data: nothing happened (an idle queue publishes none)
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_dashboard" "this" {
  count          = var.monitoring ? 1 : 0
  dashboard_name = local.name

  dashboard_body = jsonencode({
    widgets = concat([
      for i, widget in [
        {
          title = "Executions"
          metrics = [
            for metric in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] :
            ["AWS/States", metric, "StateMachineArn", aws_sfn_state_machine.this.arn]
          ]
          stat = "Sum"
        },
        {
          title = "Ended without the work: CallbackTimedOut, TaskNotSent, WorkerFailed"
          metrics = [
            [local.name, "CallbackTimedOut"],
            [local.name, "TaskNotSent"],
            [local.name, "WorkerFailed", "service", local.name],
          ]
          stat = "Sum"
        },
        {
          title = "Task queue and dead-letter queue: messages"
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.this.name],
            ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", aws_sqs_queue.this.name],
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dlq.name, { label = "dead-letter queue" }],
          ]
          stat = "Maximum"
        },
        {
          title   = "Oldest task in the queue (seconds)"
          metrics = [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.this.name]]
          stat    = "Maximum"
        },
        {
          title = "Worker invocations"
          metrics = [
            for metric in ["Invocations", "Errors", "Throttles", "ConcurrentExecutions"] :
            ["AWS/Lambda", metric, "FunctionName", aws_lambda_function.worker.function_name, { stat = metric == "ConcurrentExecutions" ? "Maximum" : "Sum" }]
          ]
          stat = "Sum"
        },
        {
          title = "Worker duration (ms)"
          metrics = [
            for stat in ["Average", "p99", "Maximum"] :
            ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.worker.function_name, { stat = stat }]
          ]
          stat = "Average"
        },
        {
          title = "Outcomes of the worker's records"
          metrics = [
            for outcome in ["TaskSucceeded", "TaskFailed", "TaskHandedOff", "TokenNoLongerLive", "TaskInProgress", "RecordDeferred", "RecordRetried", "MessageRefused", "MessageMalformed"] :
            [local.name, outcome, "service", local.name]
          ]
          stat = "Sum"
        },
        ] : {
        type   = "metric"
        x      = 12 * (i % 2)
        y      = 6 * floor(i / 2)
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          metrics = widget.metrics
          stat    = widget.stat
          period  = 60
          region  = data.aws_region.current.region
          view    = "timeSeries"
        }
      }
      ], [{
        type   = "alarm"
        x      = 0
        y      = 24
        width  = 24
        height = 3
        properties = {
          title  = "Alarms (see the runbook, docs/monitoring.md)"
          alarms = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]
        }
    }])
  })
}
