# The worker: the Lambda function, its log group, the event source mapping that feeds it the
# task queue's records, and the table that makes each task attempt's work run once.

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
  # SnapStart works on published versions only: with it, each change publishes one.
  publish = var.snap_start

  dynamic "snap_start" {
    for_each = var.snap_start ? ["PublishedVersions"] : []
    content {
      apply_on = snap_start.value
    }
  }

  environment {
    variables = merge(
      local.worker_environment,
      {
        POWERTOOLS_SERVICE_NAME      = local.name
        POWERTOOLS_METRICS_NAMESPACE = local.name
        # The queue whose receipts prove a record came from it (src/worker/receipts.py).
        TASK_QUEUE_URL = aws_sqs_queue.this.url
      },
      var.idempotency ? { IDEMPOTENCY_TABLE_NAME = aws_dynamodb_table.idempotency[0].name } : {},
      local.approval_environment,
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

# With SnapStart, what the event source mapping invokes: the version just published, whose
# snapshot Lambda took when it was published.
resource "aws_lambda_alias" "worker" {
  count            = var.snap_start ? 1 : 0
  name             = "live"
  description      = "The worker's published version, started from its SnapStart snapshot."
  function_name    = aws_lambda_function.worker.function_name
  function_version = aws_lambda_function.worker.version
}

resource "aws_lambda_event_source_mapping" "worker" {
  event_source_arn                   = aws_sqs_queue.this.arn
  function_name                      = var.snap_start ? aws_lambda_alias.worker[0].arn : aws_lambda_function.worker.arn
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
