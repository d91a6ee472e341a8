output "state_machine_arns" {
  description = "The state machine of each workflow: start executions of it."
  value       = { for key, callback in module.callback : key => callback.state_machine_arn }
}

output "worker_role_names" {
  description = "The worker role of each workflow, for policies of your own."
  value       = { for key, callback in module.callback : key => callback.worker_role_name }
}

output "orders" {
  description = "Every output of the orders instance, for `terraform output -json orders` (make test-deployed reads it)."
  value       = module.callback["orders"]
}

output "refunds" {
  description = "Every output of the refunds instance, for `terraform output -json refunds`."
  value       = module.callback["refunds"]
}
