# The roles of the worker and of the state machine, each allowed exactly its job, and the policy
# an external system needs to answer the tasks a work hands off.

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
    sid = "ConsumeTaskQueue"
    # ChangeMessageVisibility: the worker's proof that each record was received from this queue.
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
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
    for_each = module.approval[*].table_arn
    content {
      sid       = "PutApprovalRequests"
      actions   = ["dynamodb:PutItem"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = module.approval[*].topic_arn
    content {
      sid       = "PublishApprovalLinks"
      actions   = ["sns:Publish"]
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
      values   = ["arn:${data.aws_partition.current.partition}:states:${local.region}:${data.aws_caller_identity.current.account_id}:stateMachine:*"]
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
