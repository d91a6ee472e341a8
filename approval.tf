# The optional approval service (var.approval): a page on which a person approves or rejects a task
# the work hands to it with worker.contract.request_approval (docs/hand-off.md).

module "approval" {
  source = "./modules/approval"
  count  = var.approval == null ? 0 : 1

  name                 = local.name
  state_machine_arn    = aws_sfn_state_machine.this.arn
  notify_email         = try(var.approval.notify_email, null)
  jwt                  = try(var.approval.jwt, null)
  throttle_per_second  = try(var.approval.throttle_per_second, 10)
  architecture         = var.architecture
  powertools_layer_arn = data.aws_ssm_parameter.powertools_layer.insecure_value
  log_retention_days   = var.log_retention_days
  tags                 = var.tags
}

locals {
  # What the worker needs to hand a task to the service: where requests go.
  approval_environment = var.approval == null ? {} : {
    APPROVAL_TABLE_NAME = module.approval[0].table_name
    APPROVAL_TOPIC_ARN  = module.approval[0].topic_arn
    APPROVAL_PAGE_URL   = module.approval[0].page_url
  }
}
