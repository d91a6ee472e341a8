# Step Functions hands work to a Lambda worker through SQS and waits for its task-token callback.
#
#   start-execution -> state machine (STANDARD) -> SQS task queue -> Lambda worker
#                       ^                                               |
#                       +---- SendTaskSuccess / SendTaskFailure --------+

# No provider block: a caller's provider (or, applied on its own, Terraform's default one, which
# reads the region and credentials from the environment) deploys the pattern, so it can be called
# as a module with for_each, count and depends_on. Values derived from the variables alone are in
# locals.tf; the resources, by concern, in queues.tf, package.tf, worker.tf, state_machine.tf,
# iam.tf and monitoring.tf.

locals {
  name = "${var.name}-${random_id.suffix.hex}"

  # The Region, read from an ARN of the module's own (arn:<partition>:sqs:<region>:...): the
  # aws_region data source names it `name` on provider 5.x and `region` on 6.x, which deprecates
  # `name`, so neither works on both lines without an error or a warning.
  region = split(":", aws_sqs_queue.this.arn)[3]
}

resource "random_id" "suffix" {
  byte_length = 3
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
