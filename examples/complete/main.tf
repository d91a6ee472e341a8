# Two instances of the pattern (for_each), each with its own work (orders/ and refunds/: the
# refunds' asks a person, on the approval service's page, for its larger refunds), which writes to a table this configuration
# creates in the same apply: the work's permissions and settings are built from the table's ARN
# and name, which Terraform knows only at apply. The first `terraform apply` plans as it is.

provider "aws" {
  region = "eu-west-1"

  default_tags {
    tags = { team = "payments" }
  }
}

locals {
  workflows = toset(["orders", "refunds"])
}

# What the work records (its own data, not the pattern's).
resource "aws_dynamodb_table" "charges" {
  # checkov:skip=CKV_AWS_119:The example keeps DynamoDB's default encryption at rest (an AWS owned key); use a customer-managed key where your data calls for one.
  name         = "example-charges"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
}

data "aws_iam_policy_document" "charges" {
  statement {
    sid       = "RecordCharges"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.charges.arn]
  }
}

module "callback" {
  source   = "../.."
  for_each = local.workflows

  name                 = "cb-${each.key}"
  work_source_path     = "${path.module}/${each.key}"
  task_timeout_seconds = 900
  tags                 = { workflow = each.key }

  # The refunds' workflow is a saga of its own (workflows/refunds.asl.json): a hold on the refund
  # before the callback task, released when it fails or times out. The orders' is the module's.
  workflow_path = each.key == "refunds" ? "${path.module}/workflows/refunds.asl.json" : null

  attach_worker_policy_json = true
  worker_policy_json        = data.aws_iam_policy_document.charges.json
  worker_environment        = { CHARGES_TABLE = aws_dynamodb_table.charges.name }

  # The refunds' larger refunds go to a person, on the approval service's page.
  approval = each.key == "refunds" ? { notify_email = "refund-approvers@example.com" } : null
}
