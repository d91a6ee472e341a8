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
    condition     = jsonencode(length(aws_dynamodb_table.idempotency)) == jsonencode(1)
    error_message = "idempotency_tables: want one idempotency table; got ${jsonencode(length(aws_dynamodb_table.idempotency))}."
  }

  assert {
    condition     = jsonencode(sort(keys(aws_cloudwatch_metric_alarm.this))) == jsonencode(["callback-timed-out", "dead-letter-queue", "records-retried", "tasks-not-sent", "tasks-waiting", "worker-errors", "worker-failed", "worker-throttled"])
    error_message = "alarms: want the eight alarms; got ${jsonencode(sort(keys(aws_cloudwatch_metric_alarm.this)))}."
  }

  assert {
    condition     = jsonencode(length(aws_cloudwatch_dashboard.this)) == jsonencode(1)
    error_message = "dashboards: want one dashboard; got ${jsonencode(length(aws_cloudwatch_dashboard.this))}."
  }

  assert {
    condition     = jsonencode(sort(keys(aws_cloudwatch_log_metric_filter.this))) == jsonencode(["CallbackTimedOut", "TaskNotSent"])
    error_message = "metric_filters: want the two metric filters; got ${jsonencode(sort(keys(aws_cloudwatch_log_metric_filter.this)))}."
  }

  assert {
    condition     = jsonencode(length(aws_lambda_layer_version.work_dependencies)) == jsonencode(0)
    error_message = "dependency_layers: want no dependency layer (the sample work has no dependency); got ${jsonencode(length(aws_lambda_layer_version.work_dependencies))}."
  }

  assert {
    condition     = jsonencode(length(aws_iam_role_policy.worker_work)) == jsonencode(0)
    error_message = "work_policies: want no work policy unless asked for; got ${jsonencode(length(aws_iam_role_policy.worker_work))}."
  }

  assert {
    condition     = jsonencode(aws_lambda_function.worker.layers) == jsonencode([var.powertools_layer])
    error_message = "function_layers: want the Powertools layer alone; got ${jsonencode(aws_lambda_function.worker.layers)}."
  }

  assert {
    condition     = jsonencode(aws_sfn_state_machine.this.type) == jsonencode("STANDARD")
    error_message = "state_machine_type: want a STANDARD state machine (Express workflows cannot wait for a token); got ${jsonencode(aws_sfn_state_machine.this.type)}."
  }

  assert {
    condition     = jsonencode(aws_lambda_function.worker.runtime) == jsonencode("python3.12")
    error_message = "function_runtime: want the python3.12 runtime; got ${jsonencode(aws_lambda_function.worker.runtime)}."
  }

  assert {
    condition     = jsonencode(aws_lambda_function.worker.handler) == jsonencode("worker.handler.lambda_handler")
    error_message = "function_handler: want the worker's handler; got ${jsonencode(aws_lambda_function.worker.handler)}."
  }

  assert {
    condition     = jsonencode(aws_lambda_function.worker.architectures) == jsonencode(["arm64"])
    error_message = "function_architectures: want arm64; got ${jsonencode(aws_lambda_function.worker.architectures)}."
  }

  assert {
    condition     = jsonencode(aws_lambda_function.worker.logging_config[0].log_format) == jsonencode("Text")
    error_message = "function_log_format: want the Text log format (Lambda filters no line of the worker's); got ${jsonencode(aws_lambda_function.worker.logging_config[0].log_format)}."
  }

  assert {
    condition     = jsonencode(aws_lambda_function.worker.tracing_config[0].mode) == jsonencode("PassThrough")
    error_message = "function_tracing: want no active tracing; got ${jsonencode(aws_lambda_function.worker.tracing_config[0].mode)}."
  }

  assert {
    condition     = jsonencode(aws_lambda_event_source_mapping.worker.scaling_config[0].maximum_concurrency) == jsonencode(10)
    error_message = "concurrency_cap: want a concurrency cap of 10; got ${jsonencode(aws_lambda_event_source_mapping.worker.scaling_config[0].maximum_concurrency)}."
  }

  assert {
    condition     = jsonencode(length(aws_lambda_event_source_mapping.worker.provisioned_poller_config)) == jsonencode(0)
    error_message = "provisioned_pollers: want no provisioned pollers; got ${jsonencode(length(aws_lambda_event_source_mapping.worker.provisioned_poller_config))}."
  }

  assert {
    condition     = jsonencode(aws_sfn_state_machine.this.logging_configuration[0].include_execution_data) == jsonencode(false)
    error_message = "execution_data: want no execution data in the logs (it holds task tokens); got ${jsonencode(aws_sfn_state_machine.this.logging_configuration[0].include_execution_data)}."
  }

  assert {
    condition     = jsonencode(aws_sfn_state_machine.this.logging_configuration[0].log_destination) == jsonencode("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/task-token-callback-a1b2c3:*")
    error_message = "state_machine_logs: want its own log group; got ${jsonencode(aws_sfn_state_machine.this.logging_configuration[0].log_destination)}."
  }

  assert {
    condition     = jsonencode(aws_sfn_state_machine.this.tracing_configuration[0].enabled) == jsonencode(false)
    error_message = "state_machine_tracing: want no tracing; got ${jsonencode(aws_sfn_state_machine.this.tracing_configuration[0].enabled)}."
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
    error_message = "Both queues are encrypted, and the DLQ keeps messages 14 days for the task queue alone. Got ${jsonencode([aws_sqs_queue.this.sqs_managed_sse_enabled, aws_sqs_queue.dlq.sqs_managed_sse_enabled, aws_sqs_queue.dlq.message_retention_seconds, jsondecode(aws_sqs_queue_redrive_allow_policy.dlq.redrive_allow_policy), ])}."
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
        ["DenyOtherReceivers", "Deny", ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:PurgeQueue", "sqs:ReceiveMessage"], [var.dlq_arn], [["*"]], [
          ["BoolIfExists", "aws:PrincipalIsAWSService", ["false"]],
        ]],
        ["DenyOtherSenders", "Deny", ["sqs:SendMessage"], [var.dlq_arn], [["*"]], [
          ["BoolIfExists", "aws:PrincipalIsAWSService", ["false"]],
        ]],
      ]
      tasks = [
        ["DenyInsecureTransport", "Deny", ["sqs:*"], [var.tasks_arn], [["*"]], [["Bool", "aws:SecureTransport", ["false"]]]],
        ["DenyOtherReceivers", "Deny", ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:PurgeQueue", "sqs:ReceiveMessage"], [var.tasks_arn], [["*"]], [
          ["ArnNotEquals", "aws:PrincipalArn", ["arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-worker"]],
          ["BoolIfExists", "aws:PrincipalIsAWSService", ["false"]],
        ]],
        ["DenyOtherSenders", "Deny", ["sqs:SendMessage"], [var.tasks_arn], [["*"]], [
          ["ArnNotEquals", "aws:PrincipalArn", ["arn:aws:iam::123456789012:role/task-token-callback-a1b2c3-states"]],
          ["BoolIfExists", "aws:PrincipalIsAWSService", ["false"]],
        ]],
      ]
    })
    error_message = "Each queue refuses requests without TLS; the task queue takes messages from the state machine's role alone and gives them to the worker's alone; the DLQ to no principal (AWS services moving messages aside). Got ${jsonencode({ for queue, document in data.aws_iam_policy_document.queue : queue => [for statement in document.statement : [statement.sid, statement.effect, statement.actions, statement.resources, statement.principals[*].identifiers, [for condition in statement.condition : [condition.test, condition.variable, condition.values]], ]] })}."
  }

  assert {
    condition     = jsonencode({ for queue, policy in aws_sqs_queue_policy.this : queue => policy.queue_url }) == jsonencode({ dlq = aws_sqs_queue.dlq.id, tasks = aws_sqs_queue.this.id })
    error_message = "Both queues must get their policy. Got ${jsonencode({ for queue, policy in aws_sqs_queue_policy.this : queue => policy.queue_url })}."
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
    error_message = "The operators' roles are excepted from both queues' denials, beside the pattern's own. Got ${jsonencode({ for queue, document in data.aws_iam_policy_document.queue : queue => { for statement in document.statement : statement.sid => flatten([for condition in statement.condition : condition.values if condition.variable == "aws:PrincipalArn"]) if statement.sid != "DenyInsecureTransport" } })}."
  }
}

run "without_snap_start_the_mapping_invokes_the_function_itself_and_nothing_is_published" {
  command = plan

  assert {
    condition     = !aws_lambda_function.worker.publish && length(aws_lambda_function.worker.snap_start) == 0 && length(aws_lambda_alias.worker) == 0
    error_message = "By default the worker publishes no version, has no SnapStart and no alias. Got publish = ${aws_lambda_function.worker.publish}, ${length(aws_lambda_alias.worker)} aliases."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.worker.function_name == "arn:aws:lambda:eu-west-1:123456789012:function:task-token-callback-a1b2c3-worker"
    error_message = "Without SnapStart the mapping invokes the function ($LATEST). Got ${aws_lambda_event_source_mapping.worker.function_name}."
  }
}

run "with_snap_start_the_mapping_invokes_the_published_version_through_its_alias" {
  command = plan

  variables {
    snap_start = true
  }

  override_resource {
    target          = aws_lambda_alias.worker
    override_during = plan
    values = {
      arn = "arn:aws:lambda:eu-west-1:123456789012:function:task-token-callback-a1b2c3-worker:live"
    }
  }

  assert {
    condition     = aws_lambda_function.worker.publish && one(aws_lambda_function.worker.snap_start).apply_on == "PublishedVersions"
    error_message = "With snap_start the worker publishes versions, with SnapStart on them. Got publish = ${aws_lambda_function.worker.publish}, ${jsonencode(aws_lambda_function.worker.snap_start)}."
  }

  assert {
    condition     = one(aws_lambda_alias.worker).name == "live" && one(aws_lambda_alias.worker).function_name == "task-token-callback-a1b2c3-worker"
    error_message = "The alias \"live\" names the worker's published version. Got ${jsonencode(aws_lambda_alias.worker)}."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.worker.function_name == "arn:aws:lambda:eu-west-1:123456789012:function:task-token-callback-a1b2c3-worker:live"
    error_message = "With snap_start the mapping invokes the alias, never $LATEST (which SnapStart does not start). Got ${aws_lambda_event_source_mapping.worker.function_name}."
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
    error_message = "The event source mapping must feed the task queue to the worker with partial batch responses. Got ${jsonencode({ source = aws_lambda_event_source_mapping.worker.event_source_arn, function = aws_lambda_event_source_mapping.worker.function_name, batch_size = aws_lambda_event_source_mapping.worker.batch_size, window = aws_lambda_event_source_mapping.worker.maximum_batching_window_in_seconds, response_types = aws_lambda_event_source_mapping.worker.function_response_types, concurrency = aws_lambda_event_source_mapping.worker.scaling_config[0].maximum_concurrency })}."
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
    error_message = "Provisioned pollers go to the mapping without a concurrency cap: Lambda takes one or the other. Got ${jsonencode([aws_lambda_event_source_mapping.worker.scaling_config, aws_lambda_event_source_mapping.worker.provisioned_poller_config[*].minimum_pollers, aws_lambda_event_source_mapping.worker.provisioned_poller_config[*].maximum_pollers, ])}."
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
        TimeoutSeconds   = 900
        HeartbeatSeconds = 899
        Catch            = [{ ErrorEquals = ["States.Timeout", "States.HeartbeatTimeout"], Next = "CallbackTimedOut" }]
    }])
    error_message = "One Task must send the token to the task queue, wait task_timeout_seconds (with a heartbeat window just under it), and catch only a timeout: ${aws_sfn_state_machine.this.definition}"
  }

  assert {
    condition = [
      for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : state.Error if state.Type == "Fail"
    ] == ["CallbackTimedOut"]
    error_message = "A timeout must end in a Fail state with the error CallbackTimedOut: ${aws_sfn_state_machine.this.definition}"
  }
}

run "the_task_always_declares_a_heartbeat_window_just_under_its_timeout_unless_set" {
  command = plan

  variables {
    task_timeout_seconds = 3600
  }

  assert {
    condition     = one([for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : state.HeartbeatSeconds if state.Type == "Task"]) == 3599
    error_message = "Without heartbeat_seconds the Task's HeartbeatSeconds must be task_timeout_seconds - 1 (SendTaskHeartbeat is documented only for a task with a heartbeat clock). Got ${jsonencode(one([for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : state.HeartbeatSeconds if state.Type == "Task"]))}."
  }

  assert {
    condition     = aws_lambda_function.worker.environment[0].variables.HEARTBEAT_SECONDS == "3599"
    error_message = "The worker must be told the task's heartbeat window. Got ${aws_lambda_function.worker.environment[0].variables.HEARTBEAT_SECONDS}."
  }
}

run "a_heartbeat_set_is_the_tasks_heartbeat_window" {
  command = plan

  variables {
    task_timeout_seconds = 3600
    heartbeat_seconds    = 300
  }

  assert {
    condition     = one([for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : state.HeartbeatSeconds if state.Type == "Task"]) == 300
    error_message = "heartbeat_seconds must become the Task's HeartbeatSeconds. Got ${jsonencode(one([for state in values(jsondecode(aws_sfn_state_machine.this.definition).States) : state.HeartbeatSeconds if state.Type == "Task"]))}."
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
      ConsumeTaskQueue = { effect = "Allow", actions = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"], resources = [var.tasks_arn], conditions = 0 }
      RecordTaskAttempts = {
        effect     = "Allow"
        actions    = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        resources  = ["arn:aws:dynamodb:eu-west-1:123456789012:table/task-token-callback-a1b2c3-idempotency"]
        conditions = 0
      }
      WriteOwnLogs = { effect = "Allow", actions = ["logs:CreateLogStream", "logs:PutLogEvents"], resources = ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/task-token-callback-a1b2c3-worker:*"], conditions = 0 }
    })
    error_message = "The worker's policy must grant exactly these actions on exactly these resources. Got ${jsonencode({ for statement in data.aws_iam_policy_document.worker.statement : statement.sid => { effect = coalesce(statement.effect, "Allow"), actions = sort(statement.actions), resources = sort(statement.resources), conditions = length(statement.condition) } })}."
  }

  assert {
    condition = jsonencode([
      for statement in data.aws_iam_policy_document.callback.statement : [coalesce(statement.effect, "Allow"), sort(statement.actions), statement.resources, length(statement.condition)]
    ]) == jsonencode([["Allow", ["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"], [var.state_machine], 0]])
    error_message = "callback_policy_json must let an external system answer this state machine's tasks, and do nothing else. Got ${jsonencode([for statement in data.aws_iam_policy_document.callback.statement : [coalesce(statement.effect, "Allow"), sort(statement.actions), statement.resources, length(statement.condition)]])}."
  }

  assert {
    condition     = jsonencode(data.aws_iam_policy_document.lambda_assume.statement[*].principals) == jsonencode([[{ type = "Service", identifiers = ["lambda.amazonaws.com"] }]])
    error_message = "Only Lambda may assume the worker's role. Got ${jsonencode(data.aws_iam_policy_document.lambda_assume.statement[*].principals)}."
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
    error_message = "The state machine's policy must grant exactly these actions on exactly these resources. Got ${jsonencode({ for statement in data.aws_iam_policy_document.state_machine.statement : statement.sid => { actions = sort(statement.actions), resources = sort(statement.resources) } })}."
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
    error_message = "The state machines of this account and Region, and nothing else, may assume the role: the confused-deputy form of the Step Functions guide, as it writes it. Got ${jsonencode([for statement in data.aws_iam_policy_document.states_assume.statement : { principals = statement.principals, conditions = { for condition in statement.condition : condition.variable => [condition.test, condition.values] } }])}."
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
    error_message = "tracing = true must trace the state machine and the worker, with X-Ray's write actions (which take no narrower resource) and no more. Got ${jsonencode([aws_lambda_function.worker.tracing_config[0].mode, aws_sfn_state_machine.this.tracing_configuration[0].enabled, [for statement in data.aws_iam_policy_document.worker.statement : [sort(statement.actions), statement.resources] if statement.sid == "ActiveTracing"], [for statement in data.aws_iam_policy_document.state_machine.statement : [sort(statement.actions), statement.resources] if statement.sid == "Tracing"], ])}."
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
      HEARTBEAT_SECONDS            = "599"
      VISIBILITY_TIMEOUT_SECONDS   = "180"
      TASK_QUEUE_URL               = "https://sqs.eu-west-1.amazonaws.com/123456789012/task-token-callback-a1b2c3-tasks"
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
    error_message = "Powertools Idempotency writes its key to id and its expiry to expiration: the table must be keyed by the one and expire by the other. Got key ${aws_dynamodb_table.idempotency[0].hash_key}, TTL ${jsonencode(aws_dynamodb_table.idempotency[0].ttl)}."
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
    error_message = "idempotency = false must remove the table, its permission and its setting. Got ${jsonencode([length(aws_dynamodb_table.idempotency), contains(data.aws_iam_policy_document.worker.statement[*].sid, "RecordTaskAttempts"), contains(keys(aws_lambda_function.worker.environment[0].variables), "IDEMPOTENCY_TABLE_NAME"), ])}."
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
    error_message = "monitoring = false must remove every alarm, the dashboard and the metric filter. Got ${jsonencode([length(aws_cloudwatch_metric_alarm.this), length(aws_cloudwatch_dashboard.this), length(aws_cloudwatch_log_metric_filter.this), output.alarm_names, output.dashboard_url, ])}."
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
    error_message = "The work's policy must be a policy of its own on the worker's role, beside the pattern's. Got ${jsonencode([length(aws_iam_role_policy.worker_work), aws_iam_role_policy.worker_work[0].policy, aws_iam_role_policy.worker.name, ])}."
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
    error_message = "Each alarm must watch its metric, with the dimensions it is emitted with, at its threshold. Got ${jsonencode({ for key, alarm in aws_cloudwatch_metric_alarm.this : key => [alarm.namespace, alarm.metric_name, alarm.dimensions, alarm.statistic, alarm.threshold] })}."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this :
      alarm.alarm_actions == toset(var.alarm_actions) && alarm.ok_actions == toset(var.alarm_actions) && alarm.treat_missing_data == "notBreaching"
    ])
    error_message = "Every alarm must notify alarm_actions when it goes off and when it is OK again, and treat missing data as not breaching. Not so: ${jsonencode([for key, alarm in aws_cloudwatch_metric_alarm.this : key if !(alarm.alarm_actions == toset(var.alarm_actions) && alarm.ok_actions == toset(var.alarm_actions) && alarm.treat_missing_data == "notBreaching")])}."
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
    error_message = "Each count of the state machine's log must come from its events as Step Functions logs them (CallbackTimedOut: the Fail state's name, logged without execution data; TaskNotSent: the error of ExecutionFailed), into the deployment's namespace, where its alarm looks. Got ${jsonencode({ for metric, filter in aws_cloudwatch_log_metric_filter.this : metric => [filter.log_group_name, filter.pattern, filter.metric_transformation[0].namespace, filter.metric_transformation[0].name, ] })}."
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
    error_message = "Every alarm's metric must be on the dashboard. Missing: ${jsonencode([for key, alarm in aws_cloudwatch_metric_alarm.this : key if !anytrue([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : anytrue([for metric in try(widget.properties.metrics, []) : metric[0] == alarm.namespace && metric[1] == alarm.metric_name])])])}."
  }

  assert {
    condition = [
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.alarms
      if widget.type == "alarm"
    ] == [[for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]]
    error_message = "The dashboard must show the state of every alarm. Got ${jsonencode([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.alarms if widget.type == "alarm"])}."
  }

  # The worker's every outcome (src/worker/outcomes.py) and AWS's metrics of the flow.
  assert {
    condition     = length(setsubtract(toset(["TaskSucceeded", "TaskFailed", "WorkerFailed", "TaskHandedOff", "TokenNoLongerLive", "TaskInProgress", "RecordDeferred", "RecordRetried", "MessageRefused", "MessageMalformed", "ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible", "ApproximateAgeOfOldestMessage", "Invocations", "Errors", "Throttles", "ConcurrentExecutions", "Duration"]), toset(flatten([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for metric in try(widget.properties.metrics, []) : metric[1]]])))) == 0
    error_message = "The dashboard must show the worker's every outcome and the flow's AWS metrics. Missing: ${jsonencode(setsubtract(toset(["TaskSucceeded", "TaskFailed", "WorkerFailed", "TaskHandedOff", "TokenNoLongerLive", "TaskInProgress", "RecordDeferred", "RecordRetried", "MessageRefused", "MessageMalformed", "ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible", "ApproximateAgeOfOldestMessage", "Invocations", "Errors", "Throttles", "ConcurrentExecutions", "Duration"]), toset(flatten([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [for metric in try(widget.properties.metrics, []) : metric[1]]]))))}."
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
    error_message = "A name is longer than its service allows (queues and state machines 80, functions and roles 64, tables 255, log groups 512). Got lengths ${jsonencode([length(aws_sqs_queue.this.name), length(aws_sqs_queue.dlq.name), length(aws_sfn_state_machine.this.name), length(aws_lambda_function.worker.function_name), length(aws_iam_role.worker.name), length(aws_iam_role.state_machine.name), length(aws_dynamodb_table.idempotency[0].name), length(aws_cloudwatch_log_group.worker.name)])}."
  }

  assert {
    condition     = startswith(aws_sfn_state_machine.this.name, "${var.name}-a1b2c3")
    error_message = "Names must be var.name and the random suffix, so that two deployments never collide. Got ${aws_sfn_state_machine.this.name}."
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
    error_message = "Every resource that takes tags must get var.tags. Got ${jsonencode([aws_sqs_queue.this.tags, aws_sqs_queue.dlq.tags, aws_lambda_function.worker.tags, aws_lambda_event_source_mapping.worker.tags, aws_iam_role.worker.tags, aws_iam_role.state_machine.tags, aws_sfn_state_machine.this.tags, aws_cloudwatch_log_group.worker.tags, aws_cloudwatch_log_group.state_machine.tags, aws_dynamodb_table.idempotency[0].tags, aws_cloudwatch_metric_alarm.this["dead-letter-queue"].tags])}."
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
    error_message = "The outputs must name what was deployed. Got ${jsonencode([output.state_machine_arn, output.queue_arn, output.dead_letter_queue_arn, output.region, output.worker_role_arn, output.task_timeout_seconds, ])}."
  }

  assert {
    condition     = output.start_success_command == "aws stepfunctions start-execution --region eu-west-1 --state-machine-arn ${var.state_machine} --input '${jsonencode(jsondecode(file("src/work/work_examples.json")).accepted.input)}'"
    error_message = "start_success_command must start the work's accepted example: ${output.start_success_command}"
  }

  assert {
    condition     = output.start_hand_off_command == null
    error_message = "The sample work hands nothing off: no start_hand_off_command. Got ${jsonencode(output.start_hand_off_command)}."
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
    error_message = "The function must hold the work of work_source_path, not the sample's. Got work.py: ${substr(one([for source in data.archive_file.worker.source : source.content if source.filename == "work.py"]), 0, 200)}"
  }

  assert {
    condition     = output.start_hand_off_command == "aws stepfunctions start-execution --region eu-west-1 --state-machine-arn ${var.state_machine} --input '{\"amount\":2500}'"
    error_message = "start_hand_off_command must start the work's handed-off example: ${output.start_hand_off_command}"
  }
}

run "no_statement_allows_a_wildcard_action_and_only_x_ray_and_log_delivery_take_any_resource" {
  command = plan

  variables {
    tracing = true
  }

  assert {
    condition = length(flatten([
      for document in [data.aws_iam_policy_document.worker, data.aws_iam_policy_document.state_machine, data.aws_iam_policy_document.callback] : [
        for statement in document.statement : statement.sid if anytrue([for action in statement.actions : strcontains(action, "*")])
      ]
    ])) == 0
    error_message = "No Allow statement may grant a wildcard action. Got ${jsonencode(flatten([for document in [data.aws_iam_policy_document.worker, data.aws_iam_policy_document.state_machine, data.aws_iam_policy_document.callback] : [for statement in document.statement : statement.sid if anytrue([for action in statement.actions : strcontains(action, "*")])]]))}."
  }

  assert {
    condition = sort(flatten([
      for document in [data.aws_iam_policy_document.worker, data.aws_iam_policy_document.state_machine, data.aws_iam_policy_document.callback] : [
        for statement in document.statement : statement.sid if contains(coalesce(statement.resources, []), "*")
      ]
    ])) == tolist(["ActiveTracing", "DeliverExecutionLogs", "Tracing"])
    error_message = "Only X-Ray's write actions and log delivery, which AWS grants on no narrower resource, may take any resource. Got ${jsonencode(sort(flatten([for document in [data.aws_iam_policy_document.worker, data.aws_iam_policy_document.state_machine, data.aws_iam_policy_document.callback] : [for statement in document.statement : statement.sid if contains(coalesce(statement.resources, []), "*")]])))}."
  }
}

run "the_package_is_written_under_build" {
  command = plan

  assert {
    condition     = strcontains(data.archive_file.worker.output_path, "/build/worker-")
    error_message = "The worker's zip goes under build/, which git ignores. Got ${data.archive_file.worker.output_path}."
  }
}

run "a_work_with_dependencies_gets_its_layer_after_powertools" {
  command = plan

  variables {
    work_source_path = "tests/mocks/work-with-a-dependency"
  }

  assert {
    condition     = length(aws_lambda_layer_version.work_dependencies) == 1 && aws_lambda_layer_version.work_dependencies[0].compatible_architectures == toset(["arm64"])
    error_message = "A work whose requirements name a dependency gets one layer, for the worker's architecture. Got ${jsonencode(aws_lambda_layer_version.work_dependencies)}."
  }

  assert {
    condition     = length(aws_lambda_function.worker.layers) == 2 && aws_lambda_function.worker.layers[0] == var.powertools_layer
    error_message = "The function takes the Powertools layer, then the work's. Got ${jsonencode(aws_lambda_function.worker.layers)}."
  }
}

run "without_approval_there_is_no_service_no_permission_and_no_setting" {
  command = plan

  assert {
    condition     = length(module.approval) == 0
    error_message = "approval = null (the default) deploys no approval service. Got ${length(module.approval)}."
  }

  assert {
    condition     = length([for name in keys(aws_lambda_function.worker.environment[0].variables) : name if startswith(name, "APPROVAL_")]) == 0 && length([for statement in data.aws_iam_policy_document.worker.statement : statement.sid if strcontains(statement.sid, "Approval")]) == 0
    error_message = "Without the approval service the worker gets neither its settings nor its permissions. Got ${jsonencode(keys(aws_lambda_function.worker.environment[0].variables))}."
  }
}

run "with_approval_the_worker_may_put_requests_and_publish_their_links_alone" {
  command = plan

  variables {
    approval = {}
  }

  assert {
    condition     = length(module.approval) == 1
    error_message = "approval = {} deploys the approval service. Got ${length(module.approval)}."
  }

  assert {
    condition = jsonencode({
      for statement in data.aws_iam_policy_document.worker.statement : statement.sid => sort(statement.actions) if strcontains(statement.sid, "Approval")
    }) == jsonencode({ PublishApprovalLinks = ["sns:Publish"], PutApprovalRequests = ["dynamodb:PutItem"] })
    error_message = "The worker may put a request in the service's table and publish its link, nothing more. Got ${jsonencode({ for statement in data.aws_iam_policy_document.worker.statement : statement.sid => sort(statement.actions) if strcontains(statement.sid, "Approval") })}."
  }

  assert {
    condition     = alltrue([for name in ["APPROVAL_TABLE_NAME", "APPROVAL_TOPIC_ARN", "APPROVAL_PAGE_URL"] : contains(keys(aws_lambda_function.worker.environment[0].variables), name)])
    error_message = "The worker gets the service's table, topic and page. Got ${jsonencode(keys(aws_lambda_function.worker.environment[0].variables))}."
  }
}
