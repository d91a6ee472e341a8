# The module's real plan, every expression of main.tf evaluated by Terraform, with mock providers:
# `make test-terraform` (or `terraform init -backend=false && terraform test`). Values the providers
# compute at apply (ARNs, URLs, the random suffix) are given below, so that the assertions can see
# them at plan.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/mocks/aws"
}

mock_provider "archive" {
  override_during = plan
}

mock_provider "random" {
  override_during = plan
}

mock_provider "external" {
  override_during = plan
}

override_resource {
  target          = random_id.suffix
  override_during = plan
  values          = { hex = "a1b2c3" }
}

override_resource {
  target          = aws_sqs_queue.this
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:task-token-callback-a1b2c3-tasks"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/task-token-callback-a1b2c3-tasks"
  }
}

override_resource {
  target          = aws_sqs_queue.dlq
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:task-token-callback-a1b2c3-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/task-token-callback-a1b2c3-dlq"
  }
}

override_resource {
  target          = aws_sfn_state_machine.this
  override_during = plan
  values          = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:task-token-callback-a1b2c3" }
}

override_resource {
  target          = aws_lambda_function.worker
  override_during = plan
  values          = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:task-token-callback-a1b2c3-worker" }
}

override_resource {
  target          = aws_iam_role.worker
  override_during = plan
  values          = { arn = "arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-worker" }
}

override_resource {
  target          = aws_iam_role.state_machine
  override_during = plan
  values          = { arn = "arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-states" }
}

override_resource {
  target          = aws_cloudwatch_log_group.worker
  override_during = plan
  values          = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/task-token-callback-a1b2c3-worker" }
}

override_resource {
  target          = aws_cloudwatch_log_group.state_machine
  override_during = plan
  values          = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/task-token-callback-a1b2c3" }
}

override_resource {
  target          = aws_dynamodb_table.idempotency
  override_during = plan
  values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/task-token-callback-a1b2c3-idempotency" }
}

override_resource {
  target          = aws_cloudwatch_metric_alarm.this
  override_during = plan
  values          = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:task-token-callback-a1b2c3" }
}

override_data {
  target          = data.external.work_dependencies
  override_during = plan
  values = {
    result = {
      path         = "build/work-dependencies-arm64-0123456789abcdef.zip"
      base64sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    }
  }
}

variables {
  # The ARNs the overrides above give, by what they name.
  tasks_arn        = "arn:aws:sqs:eu-west-1:123456789012:task-token-callback-a1b2c3-tasks"
  dlq_arn          = "arn:aws:sqs:eu-west-1:123456789012:task-token-callback-a1b2c3-dlq"
  state_machine    = "arn:aws:states:eu-west-1:123456789012:stateMachine:task-token-callback-a1b2c3"
  powertools_layer = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:18"
}

run "the_defaults_create_the_pattern_with_idempotency_and_monitoring" {
  command = plan

  assert {
    condition = jsonencode({
      idempotency_tables   = length(aws_dynamodb_table.idempotency)
      alarms               = sort(keys(aws_cloudwatch_metric_alarm.this))
      dashboards           = length(aws_cloudwatch_dashboard.this)
      metric_filters       = sort(keys(aws_cloudwatch_log_metric_filter.this))
      dependency_layers    = length(aws_lambda_layer_version.work_dependencies)
      work_policies        = length(aws_iam_role_policy.worker_work)
      function_layers      = aws_lambda_function.worker.layers
      state_machine_type   = aws_sfn_state_machine.this.type
      function_runtime     = aws_lambda_function.worker.runtime
      function_handler     = aws_lambda_function.worker.handler
      function_arch        = aws_lambda_function.worker.architectures
      function_log_format  = aws_lambda_function.worker.logging_config[0].log_format
      function_tracing     = aws_lambda_function.worker.tracing_config[0].mode
      concurrency_cap      = aws_lambda_event_source_mapping.worker.scaling_config[0].maximum_concurrency
      provisioned_pollers  = length(aws_lambda_event_source_mapping.worker.provisioned_poller_config)
      execution_data       = aws_sfn_state_machine.this.logging_configuration[0].include_execution_data
      state_machine_logs   = aws_sfn_state_machine.this.logging_configuration[0].log_destination
      state_machine_traced = aws_sfn_state_machine.this.tracing_configuration[0].enabled
      }) == jsonencode({
      idempotency_tables   = 1
      alarms               = ["callback-timed-out", "dead-letter-queue", "records-retried", "tasks-not-sent", "tasks-waiting", "worker-errors", "worker-failed", "worker-throttled"]
      dashboards           = 1
      metric_filters       = ["CallbackTimedOut", "TaskNotSent"]
      dependency_layers    = 0
      work_policies        = 0
      function_layers      = [var.powertools_layer]
      state_machine_type   = "STANDARD"
      function_runtime     = "python3.12"
      function_handler     = "worker.handler.lambda_handler"
      function_arch        = ["arm64"]
      function_log_format  = "Text"
      function_tracing     = "PassThrough"
      concurrency_cap      = 10
      provisioned_pollers  = 0
      execution_data       = false
      state_machine_logs   = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/task-token-callback-a1b2c3:*"
      state_machine_traced = false
    })
    error_message = "The defaults no longer plan the pattern as the README describes it."
  }
}

run "the_queue_redrives_to_the_dlq_and_hides_a_message_six_worker_timeouts_and_the_window" {
  command = plan

  variables {
    worker_timeout_seconds  = 45
    batching_window_seconds = 20
    max_receive_count       = 2
  }

  assert {
    condition     = aws_sqs_queue.this.visibility_timeout_seconds == 6 * 45 + 20
    error_message = "The task queue's visibility timeout must be six worker timeouts plus the batching window (AWS's advice for an SQS event source): ${aws_sqs_queue.this.visibility_timeout_seconds}."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue.this.redrive_policy) == { deadLetterTargetArn = var.dlq_arn, maxReceiveCount = 2 }
    error_message = "The task queue must redrive to the DLQ after max_receive_count receives: ${aws_sqs_queue.this.redrive_policy}."
  }

  assert {
    condition = jsonencode([
      aws_sqs_queue.this.sqs_managed_sse_enabled,
      aws_sqs_queue.dlq.sqs_managed_sse_enabled,
      aws_sqs_queue.dlq.message_retention_seconds,
      jsondecode(aws_sqs_queue_redrive_allow_policy.dlq.redrive_allow_policy),
    ]) == jsonencode([true, true, 1209600, { redrivePermission = "byQueue", sourceQueueArns = [var.tasks_arn] }])
    error_message = "Both queues are encrypted, and the DLQ keeps messages 14 days for the task queue alone."
  }

}

run "only_the_state_machine_sends_tasks_and_only_the_worker_takes_them" {
  command = plan

  assert {
    condition = jsonencode({
      for queue, document in data.aws_iam_policy_document.queue : queue => [
        for statement in document.statement : [
          statement.sid, statement.effect, statement.actions, statement.resources, statement.principals[*].identifiers,
          [for condition in statement.condition : [condition.test, condition.variable, condition.values]],
        ]
      ]
      }) == jsonencode({
      dlq = [
        ["DenyInsecureTransport", "Deny", ["sqs:*"], [var.dlq_arn], [["*"]], [["Bool", "aws:SecureTransport", ["false"]]]],
        ["DenyOtherReceivers", "Deny", ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"], [var.dlq_arn], [["*"]], [
          ["BoolIfExists", "aws:PrincipalIsAWSService", ["false"]],
        ]],
        ["DenyOtherSenders", "Deny", ["sqs:SendMessage"], [var.dlq_arn], [["*"]], [
          ["BoolIfExists", "aws:PrincipalIsAWSService", ["false"]],
        ]],
      ]
      tasks = [
        ["DenyInsecureTransport", "Deny", ["sqs:*"], [var.tasks_arn], [["*"]], [["Bool", "aws:SecureTransport", ["false"]]]],
        ["DenyOtherReceivers", "Deny", ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"], [var.tasks_arn], [["*"]], [
          ["ArnNotEquals", "aws:PrincipalArn", ["arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-worker"]],
          ["BoolIfExists", "aws:PrincipalIsAWSService", ["false"]],
        ]],
        ["DenyOtherSenders", "Deny", ["sqs:SendMessage"], [var.tasks_arn], [["*"]], [
          ["ArnNotEquals", "aws:PrincipalArn", ["arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-states"]],
          ["BoolIfExists", "aws:PrincipalIsAWSService", ["false"]],
        ]],
      ]
    })
    error_message = "Each queue refuses requests without TLS; the task queue takes messages from the state machine's role alone and gives them to the worker's alone; the DLQ to no principal (AWS services moving messages aside)."
  }

  assert {
    condition     = jsonencode({ for queue, policy in aws_sqs_queue_policy.this : queue => policy.queue_url }) == jsonencode({ dlq = aws_sqs_queue.dlq.id, tasks = aws_sqs_queue.this.id })
    error_message = "Both queues must get their policy."
  }
}

run "an_operators_roles_may_send_and_receive_on_both_queues" {
  command = plan

  variables {
    queue_operator_role_arns = ["arn:aws:iam::123456789012:role/operations/dlq-redrive"]
  }

  assert {
    condition = jsonencode({
      for queue, document in data.aws_iam_policy_document.queue : queue => {
        for statement in document.statement : statement.sid => flatten([
          for condition in statement.condition : condition.values if condition.variable == "aws:PrincipalArn"
        ]) if statement.sid != "DenyInsecureTransport"
      }
      }) == jsonencode({
      dlq = {
        DenyOtherReceivers = ["arn:aws:iam::123456789012:role/operations/dlq-redrive"]
        DenyOtherSenders   = ["arn:aws:iam::123456789012:role/operations/dlq-redrive"]
      }
      tasks = {
        DenyOtherReceivers = ["arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-worker", "arn:aws:iam::123456789012:role/operations/dlq-redrive"]
        DenyOtherSenders   = ["arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-states", "arn:aws:iam::123456789012:role/operations/dlq-redrive"]
      }
    })
    error_message = "The operators' roles are excepted from both queues' denials, beside the pattern's own."
  }
}

run "the_event_source_mapping_reports_batch_item_failures_with_the_variables_settings" {
  command = plan

  variables {
    batch_size              = 25
    batching_window_seconds = 2
    maximum_concurrency     = 50
  }

  assert {
    condition = jsonencode({
      source         = aws_lambda_event_source_mapping.worker.event_source_arn
      function       = aws_lambda_event_source_mapping.worker.function_name
      batch_size     = aws_lambda_event_source_mapping.worker.batch_size
      window         = aws_lambda_event_source_mapping.worker.maximum_batching_window_in_seconds
      response_types = aws_lambda_event_source_mapping.worker.function_response_types
      concurrency    = aws_lambda_event_source_mapping.worker.scaling_config[0].maximum_concurrency
      }) == jsonencode({
      source         = var.tasks_arn
      function       = "arn:aws:lambda:eu-west-1:123456789012:function:task-token-callback-a1b2c3-worker"
      batch_size     = 25
      window         = 2
      response_types = ["ReportBatchItemFailures"]
      concurrency    = 50
    })
    error_message = "The event source mapping must feed the task queue to the worker with partial batch responses."
  }
}

run "provisioned_pollers_replace_the_concurrency_cap" {
  command = plan

  variables {
    provisioned_pollers = { minimum = 2, maximum = 20 }
  }

  assert {
    condition = jsonencode([
      aws_lambda_event_source_mapping.worker.scaling_config,
      aws_lambda_event_source_mapping.worker.provisioned_poller_config[*].minimum_pollers,
      aws_lambda_event_source_mapping.worker.provisioned_poller_config[*].maximum_pollers,
    ]) == jsonencode([[], [2], [20]])
    error_message = "Provisioned pollers go to the mapping without a concurrency cap: Lambda takes one or the other."
  }
}

run "the_state_machine_sends_the_token_and_routes_only_a_timeout" {
  command = plan

  variables {
    task_timeout_seconds = 900
  }

  # The callback task's contract, wherever it stands in the workflow (a team may put states of its
  # own before and after it): found by its resource.
  assert {
    condition = jsonencode([
      for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : {
        for field, value in state : field => value if !contains(["End", "Next", "Comment"], field)
      } if try(state.Resource, "") == "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
      ]) == jsonencode([{
        Type     = "Task"
        Resource = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
        Parameters = {
          QueueUrl    = "https://sqs.eu-west-1.amazonaws.com/123456789012/task-token-callback-a1b2c3-tasks"
          MessageBody = { "taskToken.$" = "$$.Task.Token", "executionArn.$" = "$$.Execution.Id", "input.$" = "$" }
        }
        TimeoutSeconds = 900
        Catch          = [{ ErrorEquals = ["States.Timeout", "States.HeartbeatTimeout"], Next = "CallbackTimedOut" }]
    }])
    error_message = "One Task must send the token to the task queue, wait task_timeout_seconds, and catch only a timeout: ${aws_sfn_state_machine.this.definition}"
  }

  assert {
    condition = [
      for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : state.Error if state.Type == "Fail"
    ] == ["CallbackTimedOut"]
    error_message = "A timeout must end in a Fail state with the error CallbackTimedOut: ${aws_sfn_state_machine.this.definition}"
  }
}

run "a_heartbeat_is_in_the_definition_only_when_set" {
  command = plan

  variables {
    task_timeout_seconds = 3600
    heartbeat_seconds    = 300
  }

  assert {
    condition     = one([for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : state.HeartbeatSeconds if state.Type == "Task"]) == 300
    error_message = "heartbeat_seconds must become the Task's HeartbeatSeconds."
  }
}

run "the_worker_may_do_exactly_its_job" {
  command = plan

  assert {
    condition = jsonencode({
      for statement in data.aws_iam_policy_document.worker.statement : statement.sid => {
        effect     = coalesce(statement.effect, "Allow")
        actions    = sort(statement.actions)
        resources  = sort(statement.resources)
        conditions = length(statement.condition)
      }
      }) == jsonencode({
      AnswerTaskTokens = { effect = "Allow", actions = ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"], resources = [var.state_machine], conditions = 0 }
      ConsumeTaskQueue = { effect = "Allow", actions = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"], resources = [var.tasks_arn], conditions = 0 }
      RecordTaskAttempts = {
        effect     = "Allow"
        actions    = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources  = ["arn:aws:dynamodb:eu-west-1:123456789012:table/task-token-callback-a1b2c3-idempotency"]
        conditions = 0
      }
      WriteOwnLogs = { effect = "Allow", actions = ["logs:CreateLogStream", "logs:PutLogEvents"], resources = ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/task-token-callback-a1b2c3-worker:*"], conditions = 0 }
    })
    error_message = "The worker's policy must grant exactly these actions on exactly these resources."
  }

  assert {
    condition = jsonencode([
      for statement in data.aws_iam_policy_document.callback.statement : [coalesce(statement.effect, "Allow"), sort(statement.actions), statement.resources, length(statement.condition)]
    ]) == jsonencode([["Allow", ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"], [var.state_machine], 0]])
    error_message = "callback_policy_json must let an external system answer this state machine's tasks, and do nothing else."
  }

  assert {
    condition     = jsonencode(data.aws_iam_policy_document.lambda_assume.statement[*].principals) == jsonencode([[{ type = "Service", identifiers = ["lambda.amazonaws.com"] }]])
    error_message = "Only Lambda may assume the worker's role."
  }
}

run "the_state_machine_may_do_exactly_its_job_and_only_it_may_use_its_role" {
  command = plan

  assert {
    condition = jsonencode({
      for statement in data.aws_iam_policy_document.state_machine.statement : statement.sid => {
        actions   = sort(statement.actions)
        resources = sort(statement.resources)
      }
      }) == jsonencode({
      DeliverExecutionLogs = {
        actions   = ["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery"]
        resources = ["*"]
      }
      SendTaskMessages = { actions = ["sqs:SendMessage"], resources = [var.tasks_arn] }
    })
    error_message = "The state machine's policy must grant exactly these actions on exactly these resources."
  }

  assert {
    condition = jsonencode([
      for statement in data.aws_iam_policy_document.states_assume.statement : {
        principals = statement.principals
        conditions = { for condition in statement.condition : condition.variable => [condition.test, condition.values] }
      }
      ]) == jsonencode([{
        principals = [{ type = "Service", identifiers = ["states.amazonaws.com"] }]
        conditions = {
          "aws:SourceAccount" = ["StringEquals", ["123456789012"]]
          "aws:SourceArn"     = ["ArnLike", ["arn:aws:states:eu-west-1:123456789012:stateMachine:*"]]
        }
    }])
    error_message = "The state machines of this account and Region, and nothing else, may assume the role: the confused-deputy form of the Step Functions guide, as it writes it."
  }
}

run "tracing_turns_on_x_ray_in_both_and_grants_it_its_write_actions" {
  command = plan

  variables {
    tracing = true
  }

  assert {
    condition = jsonencode([
      aws_lambda_function.worker.tracing_config[0].mode,
      aws_sfn_state_machine.this.tracing_configuration[0].enabled,
      [for statement in data.aws_iam_policy_document.worker.statement : [sort(statement.actions), statement.resources] if statement.sid == "ActiveTracing"],
      [for statement in data.aws_iam_policy_document.state_machine.statement : [sort(statement.actions), statement.resources] if statement.sid == "Tracing"],
      ]) == jsonencode([
      "Active",
      true,
      [[["xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]]],
      [[["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"], ["*"]]],
    ])
    error_message = "tracing = true must trace the state machine and the worker, with X-Ray's write actions (which take no narrower resource) and no more."
  }
}

run "the_worker_gets_the_patterns_settings_and_the_teams_own" {
  command = plan

  variables {
    log_level          = "WARN"
    max_receive_count  = 2
    worker_environment = { PAYMENTS_API_URL = "https://payments.example.com" }
  }

  assert {
    condition = aws_lambda_function.worker.environment[0].variables == tomap({
      PAYMENTS_API_URL             = "https://payments.example.com"
      MAX_RECEIVE_COUNT            = "2"
      TASK_TIMEOUT_SECONDS         = "600"
      POWERTOOLS_LOG_LEVEL         = "WARN"
      POWERTOOLS_METRICS_NAMESPACE = "task-token-callback-a1b2c3"
      POWERTOOLS_SERVICE_NAME      = "task-token-callback-a1b2c3"
      AWS_CONFIG_FILE              = "/dev/null"
      IDEMPOTENCY_TABLE_NAME       = "task-token-callback-a1b2c3-idempotency"
    })
    error_message = "The worker's environment: ${jsonencode(aws_lambda_function.worker.environment[0].variables)}"
  }
}

run "the_idempotency_table_is_keyed_and_expired_as_powertools_reads_it" {
  command = plan

  assert {
    condition = (
      aws_dynamodb_table.idempotency[0].hash_key == "id" &&
      one(aws_dynamodb_table.idempotency[0].attribute) == { name = "id", type = "S" } &&
      one(aws_dynamodb_table.idempotency[0].ttl).attribute_name == "expiration" &&
      one(aws_dynamodb_table.idempotency[0].ttl).enabled
    )
    error_message = "Powertools Idempotency writes its key to id and its expiry to expiration: the table must be keyed by the one and expire by the other."
  }
}

run "without_idempotency_there_is_no_table_no_permission_and_no_setting" {
  command = plan

  variables {
    idempotency = false
  }

  assert {
    condition = jsonencode([
      length(aws_dynamodb_table.idempotency),
      contains(data.aws_iam_policy_document.worker.statement[*].sid, "RecordTaskAttempts"),
      contains(keys(aws_lambda_function.worker.environment[0].variables), "IDEMPOTENCY_TABLE_NAME"),
    ]) == jsonencode([0, false, false])
    error_message = "idempotency = false must remove the table, its permission and its setting."
  }
}

run "without_monitoring_there_are_no_alarms_no_dashboard_and_no_metric_filter" {
  command = plan

  variables {
    monitoring = false
  }

  assert {
    condition = jsonencode([
      length(aws_cloudwatch_metric_alarm.this),
      length(aws_cloudwatch_dashboard.this),
      length(aws_cloudwatch_log_metric_filter.this),
      output.alarm_names,
      output.dashboard_url,
    ]) == jsonencode([0, 0, 0, {}, null])
    error_message = "monitoring = false must remove every alarm, the dashboard and the metric filter."
  }
}

run "a_work_policy_is_attached_beside_the_patterns_when_asked_for" {
  command = plan

  variables {
    attach_worker_policy_json = true
    worker_policy_json        = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::orders/*\"}]}"
  }

  assert {
    condition = jsonencode([
      length(aws_iam_role_policy.worker_work),
      aws_iam_role_policy.worker_work[0].policy,
      aws_iam_role_policy.worker.name,
    ]) == jsonencode([1, var.worker_policy_json, "answer-task-tokens"])
    error_message = "The work's policy must be a policy of its own on the worker's role, beside the pattern's."
  }
}

run "the_alarms_watch_the_metrics_the_worker_and_aws_emit" {
  command = plan

  variables {
    alarm_worker_errors     = 2
    alarm_worker_throttles  = 4
    alarm_records_retried   = 7
    alarm_failed_executions = 1
    alarm_task_age_share    = 0.25
    alarm_actions           = ["arn:aws:sns:eu-west-1:123456789012:on-call"]
  }

  assert {
    condition = jsonencode({
      for key, alarm in aws_cloudwatch_metric_alarm.this : key => [alarm.namespace, alarm.metric_name, alarm.dimensions, alarm.statistic, alarm.threshold]
      }) == jsonencode({
      callback-timed-out = ["task-token-callback-a1b2c3", "CallbackTimedOut", {}, "Sum", 1]
      dead-letter-queue  = ["AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName = "task-token-callback-a1b2c3-dlq" }, "Maximum", 0]
      records-retried    = ["task-token-callback-a1b2c3", "RecordRetried", { service = "task-token-callback-a1b2c3" }, "Sum", 7]
      tasks-not-sent     = ["task-token-callback-a1b2c3", "TaskNotSent", {}, "Sum", 1]
      tasks-waiting      = ["AWS/SQS", "ApproximateAgeOfOldestMessage", { QueueName = "task-token-callback-a1b2c3-tasks" }, "Maximum", 150]
      worker-errors      = ["AWS/Lambda", "Errors", { FunctionName = "task-token-callback-a1b2c3-worker" }, "Sum", 2]
      worker-failed      = ["task-token-callback-a1b2c3", "WorkerFailed", { service = "task-token-callback-a1b2c3" }, "Sum", 1]
      worker-throttled   = ["AWS/Lambda", "Throttles", { FunctionName = "task-token-callback-a1b2c3-worker" }, "Sum", 4]
    })
    error_message = "Each alarm must watch its metric, with the dimensions it is emitted with, at its threshold."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this :
      alarm.alarm_actions == toset(var.alarm_actions) && alarm.ok_actions == toset(var.alarm_actions) && alarm.treat_missing_data == "notBreaching"
    ])
    error_message = "Every alarm must notify alarm_actions when it goes off and when it is OK again."
  }

  assert {
    condition = jsonencode({
      for metric, filter in aws_cloudwatch_log_metric_filter.this : metric => [
        filter.log_group_name, filter.pattern, filter.metric_transformation[0].namespace, filter.metric_transformation[0].name,
      ]
      }) == jsonencode({
      CallbackTimedOut = ["/aws/vendedlogs/states/task-token-callback-a1b2c3", "{ $.type = \"FailStateEntered\" && $.details.name = \"CallbackTimedOut\" }", "task-token-callback-a1b2c3", "CallbackTimedOut"]
      TaskNotSent      = ["/aws/vendedlogs/states/task-token-callback-a1b2c3", "{ $.type = \"ExecutionFailed\" && ($.details.error = \"States.*\" || $.details.error = \"SQS.*\") }", "task-token-callback-a1b2c3", "TaskNotSent"]
    })
    error_message = "Each count of the state machine's log must come from its events as Step Functions logs them (CallbackTimedOut: the Fail state's name, logged without execution data; TaskNotSent: the error of ExecutionFailed), into the deployment's namespace, where its alarm looks."
  }
}

run "the_dashboard_shows_every_alarms_metric_and_the_alarms" {
  command = plan

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this : anytrue([
        for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : anytrue([
          for metric in try(widget.properties.metrics, []) :
          metric[0] == alarm.namespace && metric[1] == alarm.metric_name
        ])
      ])
    ])
    error_message = "Every alarm's metric must be on the dashboard."
  }

  assert {
    condition = [
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.alarms
      if widget.type == "alarm"
    ] == [[for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]]
    error_message = "The dashboard must show the state of every alarm."
  }
}

run "every_name_takes_var_name_and_fits_its_service_at_the_longest_name" {
  command = plan

  variables {
    name = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" # 40 characters, the longest allowed
  }

  assert {
    condition = alltrue([
      length(aws_sqs_queue.this.name) <= 80,
      length(aws_sqs_queue.dlq.name) <= 80,
      length(aws_sfn_state_machine.this.name) <= 80,
      length(aws_lambda_function.worker.function_name) <= 64,
      length(aws_iam_role.worker.name) <= 64,
      length(aws_iam_role.state_machine.name) <= 64,
      length(aws_dynamodb_table.idempotency[0].name) <= 255,
      length(aws_cloudwatch_log_group.worker.name) <= 512,
    ])
    error_message = "A name is longer than its service allows (queues and state machines 80, functions and roles 64)."
  }

  assert {
    condition     = startswith(aws_sfn_state_machine.this.name, "${var.name}-a1b2c3")
    error_message = "Names must be var.name and the random suffix, so that two deployments never collide."
  }
}

run "every_taggable_resource_gets_var_tags" {
  command = plan

  variables {
    tags = { team = "payments", cost-center = "42" }
  }

  assert {
    condition = alltrue([
      for tags in [
        aws_sqs_queue.this.tags, aws_sqs_queue.dlq.tags, aws_lambda_function.worker.tags,
        aws_lambda_event_source_mapping.worker.tags, aws_iam_role.worker.tags,
        aws_iam_role.state_machine.tags, aws_sfn_state_machine.this.tags,
        aws_cloudwatch_log_group.worker.tags, aws_cloudwatch_log_group.state_machine.tags,
        aws_dynamodb_table.idempotency[0].tags, aws_cloudwatch_metric_alarm.this["dead-letter-queue"].tags,
      ] : tags == tomap(var.tags)
    ])
    error_message = "Every resource that takes tags must get var.tags."
  }
}

run "the_outputs_name_the_deployment_and_its_commands" {
  command = plan

  assert {
    condition = jsonencode([
      output.state_machine_arn, output.queue_arn, output.dead_letter_queue_arn, output.region,
      output.worker_role_arn, output.task_timeout_seconds,
      ]) == jsonencode([
      var.state_machine, var.tasks_arn, var.dlq_arn, "eu-west-1",
      "arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-worker", 600,
    ])
    error_message = "The outputs must name what was deployed."
  }

  assert {
    condition     = output.start_success_command == "aws stepfunctions start-execution --region eu-west-1 --state-machine-arn ${var.state_machine} --input '${jsonencode(jsondecode(file("src/work/work_examples.json")).accepted.input)}'"
    error_message = "start_success_command must start the work's accepted example: ${output.start_success_command}"
  }

  assert {
    condition     = output.start_hand_off_command == null
    error_message = "The sample work hands nothing off: no start_hand_off_command."
  }
}

run "the_function_is_built_from_the_worker_and_the_sample_work" {
  command = plan

  assert {
    condition     = jsonencode(sort([for source in data.archive_file.worker.source : source.filename if !startswith(source.filename, "worker/")])) == jsonencode(["work.py"])
    error_message = "The sample work's module goes beside the worker's package, its examples, requirements and tests left out: ${jsonencode(sort(data.archive_file.worker.source[*].filename))}"
  }

  assert {
    condition     = contains(data.archive_file.worker.source[*].filename, "worker/handler.py")
    error_message = "The worker's package goes into the function: ${jsonencode(sort(data.archive_file.worker.source[*].filename))}"
  }
}

run "a_work_of_its_own_is_built_from_its_folder" {
  command = plan

  variables {
    work_source_path = "tests/pattern/expenses"
  }

  assert {
    condition     = jsonencode(sort([for source in data.archive_file.worker.source : source.filename if !startswith(source.filename, "worker/")])) == jsonencode(["work.py"])
    error_message = "The work's module goes beside the worker's package: ${jsonencode(sort(data.archive_file.worker.source[*].filename))}"
  }

  assert {
    condition     = strcontains(one([for source in data.archive_file.worker.source : source.content if source.filename == "work.py"]), "handed off to an approver")
    error_message = "The function must hold the work of work_source_path, not the sample's."
  }

  assert {
    condition     = output.start_hand_off_command == "aws stepfunctions start-execution --region eu-west-1 --state-machine-arn ${var.state_machine} --input '{\"amount\":2500}'"
    error_message = "start_hand_off_command must start the work's handed-off example: ${output.start_hand_off_command}"
  }
}
