# The task queue the state machine sends each task to, its dead-letter queue, and who may use them.

resource "aws_sqs_queue" "this" {
  name                       = "${local.name}-tasks"
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = local.visibility_timeout_seconds
  message_retention_seconds  = var.message_retention_seconds
  max_message_size           = local.max_message_size

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
  max_message_size          = local.max_message_size

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
      DenyOtherReceivers = { actions = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:PurgeQueue"], allowed = concat(each.value.receivers, var.queue_operator_role_arns) }
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
