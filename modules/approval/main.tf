# The approval service: a work hands a task to it (worker.approval.request_approval), the link goes
# out through an SNS topic, and an approver answers on a page (src/approval/page.py) behind an
# HTTP API. The token waits in a table, under the SHA-256 of the link's ID, until it is answered
# or its task times out.

locals {
  # The page's code: its own package, and the worker's callback code it answers with.
  page_files = merge(
    {
      for file in fileset("${path.module}/../../src/approval", "*.py") :
      "approval/${file}" => "${path.module}/../../src/approval/${file}"
    },
    {
      for file in ["__init__.py", "approval.py", "callback.py", "handoff.py", "messages.py"] :
      "worker/${file}" => "${path.module}/../../src/worker/${file}"
    },
  )
  page_package_hash = sha256(join("\n", [for name, file in local.page_files : "${name} ${filesha256(file)}"]))
}

# The requests: encrypted at rest (DynamoDB's own key), each gone when its task's timeout has
# passed (TTL on expires_at).
resource "aws_dynamodb_table" "requests" {
  # checkov:skip=CKV_AWS_119:DynamoDB encrypts at rest with an AWS owned key; a customer-managed key adds cost and a key policy for items that live as long as a task.
  # checkov:skip=CKV_AWS_28:A restore would bring back tokens of ended tasks: no point-in-time recovery.
  name         = "${var.name}-approvals"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  tags = var.tags
}

resource "aws_sns_topic" "requests" {
  name              = "${var.name}-approvals"
  kms_master_key_id = "alias/aws/sns"

  tags = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.notify_email == null ? 0 : 1
  topic_arn = aws_sns_topic.requests.arn
  protocol  = "email"
  endpoint  = var.notify_email
}

data "archive_file" "page" {
  type        = "zip"
  output_path = "${path.module}/../../build/approval-page-${substr(local.page_package_hash, 0, 16)}.zip"

  dynamic "source" {
    for_each = local.page_files
    content {
      filename = source.key
      content  = file(source.value)
    }
  }
}

resource "aws_cloudwatch_log_group" "page" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest already; the logs hold no token or link.
  name              = "/aws/lambda/${var.name}-approval-page"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_lambda_function" "page" {
  # checkov:skip=CKV_AWS_117:The page calls only AWS APIs; a VPC would add NAT or endpoints and cost, not protection.
  # checkov:skip=CKV_AWS_272:Code signing needs a signing profile the pattern cannot assume; add it in your own pipeline.
  # checkov:skip=CKV_AWS_116:An API's function answers its caller: there is no asynchronous event to keep.
  # checkov:skip=CKV_AWS_115:The API's throttling bounds the page's concurrency.
  # checkov:skip=CKV_AWS_173:The environment holds settings, no secrets.
  # checkov:skip=CKV_AWS_50:The page adds no trace worth X-Ray's cost.
  function_name    = "${var.name}-approval-page"
  description      = "Shows approval requests and answers their tasks with the approver's decision."
  role             = aws_iam_role.page.arn
  runtime          = "python3.12"
  architectures    = [var.architecture]
  handler          = "approval.page.lambda_handler"
  filename         = data.archive_file.page.output_path
  source_code_hash = data.archive_file.page.output_base64sha256
  layers           = [var.powertools_layer_arn]
  memory_size      = 256
  # Longer than every call a POST makes can take, all of them at their worst (two attempts each:
  # src/approval/page.py), and shorter than a claim's lease, so that a claim never ends while its
  # answer is on its way. API Gateway answers the browser after 30 s whatever the function does.
  timeout = 150

  environment {
    variables = merge(
      {
        APPROVAL_TABLE_NAME     = aws_dynamodb_table.requests.name
        POWERTOOLS_SERVICE_NAME = "${var.name}-approval-page"
        AWS_CONFIG_FILE         = "/dev/null"
        # The answer's two attempts (botocore's standard retry mode takes it when the client's
        # configuration sets none): the page's time stays within the function's.
        AWS_MAX_ATTEMPTS = "2"
      },
      var.jwt == null ? {} : {
        APPROVERS      = jsonencode(var.jwt.approvers)
        APPROVER_CLAIM = var.jwt.claim
      },
    )
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.page.name
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.page]
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

resource "aws_iam_role" "page" {
  name               = "${var.name}-approval-page"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json

  tags = var.tags
}

data "aws_iam_policy_document" "page" {
  statement {
    sid       = "ReadAndSettleRequests"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.requests.arn]
  }

  statement {
    sid = "AnswerTaskTokens"
    # SendTaskHeartbeat: whether a task still waits, when an answer's fate is unknown.
    actions   = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]
    resources = [var.state_machine_arn]
  }

  # What became of an answer whose fate is unknown: the task's events. (The history holds the
  # tokens of the state machine's tasks, which this role may already answer.)
  statement {
    sid       = "ReadTheTasksEvents"
    actions   = ["states:GetExecutionHistory"]
    resources = ["${replace(var.state_machine_arn, ":stateMachine:", ":execution:")}:*"]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.page.arn}:*"]
  }
}

resource "aws_iam_role_policy" "page" {
  name   = "read-requests-answer-tasks-log"
  role   = aws_iam_role.page.id
  policy = data.aws_iam_policy_document.page.json
}
