variable "name" {
  description = "Prefix of the service's resource names: the pattern's name with its random suffix."
  type        = string
}

variable "state_machine_arn" {
  description = "The state machine whose tasks the approvers answer: the page may answer its tasks alone."
  type        = string
}

variable "notify_email" {
  description = "An e-mail address the topic sends each request's link to (it must confirm the subscription); null for none."
  type        = string
  default     = null
}

variable "jwt" {
  description = "Sign-in for the page: API Gateway admits only requests with a valid JWT of issuer for audience, and the page only the approvers, named by claim. null: the link is a bearer secret."
  type = object({
    issuer    = string
    audience  = list(string)
    approvers = list(string)
    claim     = string
  })
  default = null
}

variable "architecture" {
  description = "The page function's instruction set: arm64 or x86_64."
  type        = string
}

variable "powertools_layer_arn" {
  description = "The Powertools layer the page function runs with (the worker's)."
  type        = string
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the page function's and the API's logs."
  type        = number
}

variable "throttle_per_second" {
  description = "Requests a second the page's API serves, with a burst of twice that."
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags set on every resource that takes tags."
  type        = map(string)
  default     = {}
}
