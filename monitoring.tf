# Monitoring: an alarm for each way the pattern goes wrong unseen, and a dashboard

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
          region  = local.region
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
