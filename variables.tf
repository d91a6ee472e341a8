variable "name" {
  description = "Prefix of every resource name. A random suffix is added, so two deployments in one account never collide. 1 to 40 letters, digits, hyphens or underscores."
  type        = string
  default     = "task-token-callback"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.name))
    error_message = "name must be 1 to 40 letters, digits, hyphens or underscores."
  }
}

variable "tags" {
  description = "Tags set on every resource that takes tags (a caller's provider default_tags are added by the provider). At most 50, keys up to 128 and values up to 256 characters, no key starting with \"aws:\"."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(var.tags) <= 50 && alltrue([for key, value in var.tags : length(key) <= 128 && length(value) <= 256 && !startswith(lower(key), "aws:")])
    error_message = "tags must be at most 50, with keys up to 128 and values up to 256 characters, and no key may start with \"aws:\"."
  }
}

variable "work_source_path" {
  description = "The folder of the work the worker runs (work.py, work_examples.json, and work_requirements.txt if it has dependencies); null takes the sample, src/work. Its tests are not packaged."
  type        = string
  default     = null

  validation {
    condition     = var.work_source_path == null || try(fileexists("${var.work_source_path}/work.py") && fileexists("${var.work_source_path}/work_examples.json"), false)
    error_message = "work_source_path must be a folder that holds work.py and work_examples.json (the sample's is src/work)."
  }
}

variable "workflow_path" {
  description = "The state machine's ASL template: the callback task and any states of the team's around it (a saga's compensation, a Choice on the result: docs/make-it-yours.md), rendered with templatefile() and the variables partition, queue_url, task_timeout_seconds and heartbeat_seconds. null takes the module's own, statemachine/callback.asl.json. One per module instance."
  type        = string
  default     = null

  validation {
    condition     = var.workflow_path == null || try(endswith(var.workflow_path, ".json") && fileexists(var.workflow_path), false)
    error_message = "workflow_path must name an ASL template file that exists and ends in .json (the module's own is statemachine/callback.asl.json)."
  }
}

variable "task_timeout_seconds" {
  description = "How long the state machine waits for the callback before it fails with CallbackTimedOut (TimeoutSeconds), in seconds: an integer from 2 to 31536000 (one year)."
  type        = number
  default     = 600

  validation {
    condition     = var.task_timeout_seconds >= 2 && var.task_timeout_seconds <= 31536000 && floor(var.task_timeout_seconds) == var.task_timeout_seconds
    error_message = "task_timeout_seconds must be an integer from 2 to 31536000 (the task's heartbeat window, HeartbeatSeconds, is at least 1 s shorter)."
  }
}

variable "heartbeat_seconds" {
  description = "How often the worker must heartbeat, or the task fails with CallbackTimedOut (HeartbeatSeconds), in seconds: an integer from 1, shorter than task_timeout_seconds. null (the default): task_timeout_seconds - 1, a window no task without heartbeats outlives by more than a second, declared so that the worker's first heartbeat (its proof that the task waits) is one AWS documents."
  type        = number
  default     = null

  validation {
    condition     = var.heartbeat_seconds == null || (try(var.heartbeat_seconds >= 1 && var.heartbeat_seconds < var.task_timeout_seconds && floor(var.heartbeat_seconds) == var.heartbeat_seconds, false))
    error_message = "heartbeat_seconds must be null or an integer from 1 to task_timeout_seconds - 1."
  }
}

variable "max_receive_count" {
  description = "Receives of a task message before SQS moves it to the dead-letter queue. On the last one the worker fails the execution instead of retrying. An integer from 1 to 1000."
  type        = number
  default     = 3

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be an integer from 1 to 1000."
  }
}

variable "message_retention_seconds" {
  description = "How long the task queue keeps a message, in seconds. An integer from 60 to 1209600 (14 days); the dead-letter queue always keeps messages 14 days."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600 && floor(var.message_retention_seconds) == var.message_retention_seconds
    error_message = "message_retention_seconds must be an integer from 60 to 1209600 (14 days)."
  }
}

variable "worker_timeout_seconds" {
  description = "The worker Lambda's timeout, in seconds, an integer from 3 to 900 (Lambda takes 1; the worker starts a record only with at least a second of its invocation left, so 1 or 2 would leave it none). The task queue's visibility timeout is six times this plus batching_window_seconds, as AWS advises for an SQS event source."
  type        = number
  default     = 30

  validation {
    condition     = var.worker_timeout_seconds >= 3 && var.worker_timeout_seconds <= 900 && floor(var.worker_timeout_seconds) == var.worker_timeout_seconds
    error_message = "worker_timeout_seconds must be an integer from 3 to 900: the worker starts a record only with at least a second of its invocation left, which a shorter timeout would not leave."
  }
}

variable "worker_memory_mb" {
  description = "The worker Lambda's memory, in MB: an integer from 128 to 10240."
  type        = number
  default     = 256

  validation {
    condition     = var.worker_memory_mb >= 128 && var.worker_memory_mb <= 10240 && floor(var.worker_memory_mb) == var.worker_memory_mb
    error_message = "worker_memory_mb must be an integer from 128 to 10240."
  }
}

variable "architecture" {
  description = "The worker's instruction set: arm64 (cheaper per GB-second) or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "powertools_version" {
  description = "The Powertools for AWS Lambda (Python) layer's release, resolved through its public SSM parameter: a 3.x release such as \"3.37.0\", or \"latest\"."
  type        = string
  default     = "3.37.0"

  validation {
    condition     = can(regex("^(latest|3[.][0-9]+[.][0-9]+)$", var.powertools_version))
    error_message = "powertools_version must be \"latest\" or a 3.x release number such as \"3.37.0\" (the worker uses Powertools v3)."
  }
}

variable "batch_size" {
  description = "Most task messages in one worker invocation, an integer from 1 to 10000. Above 10 needs batching_window_seconds of at least 1."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be an integer from 1 to 10000."
  }
}

variable "batching_window_seconds" {
  description = "Longest the event source mapping gathers messages before it invokes the worker, in seconds, an integer from 0 to 300."
  type        = number
  default     = 0

  validation {
    condition     = var.batching_window_seconds >= 0 && var.batching_window_seconds <= 300 && floor(var.batching_window_seconds) == var.batching_window_seconds && (var.batch_size <= 10 || var.batching_window_seconds >= 1)
    error_message = "batching_window_seconds must be an integer from 0 to 300, and at least 1 when batch_size is over 10."
  }
}

variable "maximum_concurrency" {
  description = "Most concurrent worker invocations the SQS event source mapping starts, an integer from 2 to 1000; null (the default) means 10, or no cap when provisioned_pollers is set (Lambda takes one or the other)."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_concurrency == null || try(var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000 && floor(var.maximum_concurrency) == var.maximum_concurrency, false)
    error_message = "maximum_concurrency must be an integer from 2 to 1000, or null."
  }
}

variable "provisioned_pollers" {
  description = "Provisioned event pollers for the event source mapping, { minimum = 2 to 200, maximum = up to 2000 (the most hashicorp/aws accepts at plan, though Lambda allows more) }, billed by the hour; null lets Lambda scale the pollers. Not with maximum_concurrency."
  type = object({
    minimum = number
    maximum = number
  })
  default = null

  validation {
    condition = var.provisioned_pollers == null || try(
      var.provisioned_pollers.minimum >= 2 && var.provisioned_pollers.minimum <= 200 && floor(var.provisioned_pollers.minimum) == var.provisioned_pollers.minimum &&
      var.provisioned_pollers.maximum >= var.provisioned_pollers.minimum && var.provisioned_pollers.maximum <= 2000 && floor(var.provisioned_pollers.maximum) == var.provisioned_pollers.maximum,
      false
    )
    error_message = "provisioned_pollers must be null or { minimum = an integer from 2 to 200, maximum = an integer from minimum to 2000 }."
  }

  validation {
    condition     = var.provisioned_pollers == null || var.maximum_concurrency == null
    error_message = "provisioned_pollers and maximum_concurrency cannot both be set: Lambda scales an SQS event source mapping by one or the other."
  }
}

variable "log_level" {
  description = "The worker's log level (Powertools' POWERTOOLS_LOG_LEVEL): DEBUG, INFO, WARN or ERROR. Its metrics are written whatever the level: Lambda filters no log line of the worker (see logging_config in main.tf)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the worker's and the state machine's logs: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts."
  }
}

variable "state_machine_log_level" {
  description = "Which execution events the state machine logs: ALL, ERROR, FATAL or OFF. With monitoring, ALL or ERROR: the callback-timed-out alarm counts events logged at those levels alone."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.state_machine_log_level)
    error_message = "state_machine_log_level must be ALL, ERROR, FATAL or OFF."
  }

  validation {
    condition     = !var.monitoring || !contains(["FATAL", "OFF"], var.state_machine_log_level)
    error_message = "state_machine_log_level must be ALL or ERROR with monitoring = true: the callback-timed-out alarm counts the state machine's FailStateEntered events, which Step Functions logs at those levels alone, so at FATAL or OFF it could never go off. Set monitoring = false to log less."
  }
}

variable "include_execution_data" {
  description = "Whether the state machine's logs include execution input and output. Off by default: that data holds task tokens, and whoever holds a token can complete the task."
  type        = bool
  default     = false
}

variable "tracing" {
  description = "Whether Step Functions and Lambda write X-Ray traces. Off by default."
  type        = bool
  default     = false
}

variable "snap_start" {
  description = "Whether the worker starts from a Lambda SnapStart snapshot: each apply that changes it publishes a version, which the event source mapping invokes through the alias \"live\". Python SnapStart is billed for the snapshot's cache and for each restore (docs/cost.md); it takes no provisioned concurrency or EFS. Off by default."
  type        = bool
  default     = false
}

variable "idempotency" {
  description = "Whether the worker runs the work at most once per task attempt, recorded in a DynamoDB table. On by default; off for work that is idempotent itself."
  type        = bool
  default     = true
}

variable "attach_worker_policy_json" {
  description = "Whether to attach worker_policy_json to the worker's role (known at plan, whatever the policy's own values)."
  type        = bool
  default     = false
}

variable "worker_policy_json" {
  description = "Extra permissions for the work: an IAM policy document in JSON, attached to the worker's role beside the pattern's when attach_worker_policy_json is true. At most 10,240 characters."
  type        = string
  default     = null

  validation {
    condition     = var.worker_policy_json == null || can(jsondecode(var.worker_policy_json).Statement)
    error_message = "worker_policy_json must be null or an IAM policy document in JSON, with a Statement."
  }

  validation {
    condition     = var.attach_worker_policy_json == (var.worker_policy_json != null)
    error_message = "worker_policy_json goes with attach_worker_policy_json = true, and only with it: set both, or neither."
  }
}

variable "worker_environment" {
  description = "Extra environment variables for the work's own settings: names of letters, digits and underscores, starting with a letter. The pattern's own names, and names that would redirect the worker's AWS calls or change its code (AWS_*, POWERTOOLS_*, PYTHON*, proxies and others: docs/security.md), are refused."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.worker_environment) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", name))])
    error_message = "worker_environment's names must be letters, digits and underscores, starting with a letter, unlike ${join(", ", sort([for name in keys(var.worker_environment) : name if !can(regex("^[A-Za-z][A-Za-z0-9_]*$", name))]))}."
  }

  validation {
    condition     = length(setintersection(keys(var.worker_environment), local.worker_environment_names)) == 0
    error_message = "worker_environment may not set the pattern's own ${join(", ", sort(setintersection(keys(var.worker_environment), local.worker_environment_names)))}: the pattern sets them from its variables (${join(", ", sort(local.worker_environment_names))})."
  }

  validation {
    condition = alltrue([
      for name in keys(var.worker_environment) :
      !anytrue([for prefix in local.worker_environment_refused.prefixes : startswith(upper(name), prefix)]) && !contains(local.worker_environment_refused.names, upper(name))
    ])
    error_message = "worker_environment may not set ${join(", ", sort([for name in keys(var.worker_environment) : name if anytrue([for prefix in local.worker_environment_refused.prefixes : startswith(upper(name), prefix)]) || contains(local.worker_environment_refused.names, upper(name))]))}: ${local.worker_environment_refused.why}"
  }
}

variable "queue_operator_role_arns" {
  description = "ARNs of IAM roles that, beside the pattern's own, may send to and receive from both queues (an operator's DLQ redrive). At most 20; empty by default."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.queue_operator_role_arns) <= 20 && alltrue([for arn in var.queue_operator_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "queue_operator_role_arns must be at most 20 IAM role ARNs (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "approval" {
  description = "The optional approval service, a page on which a person approves or rejects a task the work hands to it (docs/hand-off.md): { notify_email, throttle_per_second, jwt = { issuer, audience, approvers, claim } }, each optional. throttle_per_second: requests a second the page's API serves (10, bursts of twice that), for all callers together. claim names the approvers: sub (the default), or email, taken only with email_verified true. Needs idempotency = true. null (the default) deploys none."
  type = object({
    notify_email        = optional(string)
    throttle_per_second = optional(number, 10)
    jwt = optional(object({
      issuer    = string
      audience  = list(string)
      approvers = list(string)
      claim     = optional(string, "sub")
    }))
  })
  default = null

  validation {
    condition     = var.approval == null || try(var.approval.notify_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.approval.notify_email)), false)
    error_message = "approval.notify_email must be an e-mail address, or null."
  }

  validation {
    condition     = try(var.approval.jwt == null, true) || try(startswith(var.approval.jwt.issuer, "https://") && length(var.approval.jwt.audience) > 0 && length(var.approval.jwt.approvers) > 0, false)
    error_message = "approval.jwt needs an https:// issuer, at least one audience and at least one approver (the values of its claim that may decide)."
  }

  validation {
    condition     = try(var.approval.jwt == null, true) || try(length(var.approval.jwt.claim) > 0, false)
    error_message = "approval.jwt.claim must name the JWT claim the approvers are listed by: sub (the default), or email (taken only where email_verified is true)."
  }

  validation {
    condition     = try(var.approval.throttle_per_second >= 1 && var.approval.throttle_per_second <= 5000, true)
    error_message = "approval.throttle_per_second must be from 1 to 5000 (requests a second; the burst is twice that)."
  }

  validation {
    condition     = var.approval == null || var.idempotency
    error_message = "approval needs idempotency = true: without it a second delivery of a task's message sends a second link for it, and whichever page is answered second records as expired a task the first one answered."
  }
}

variable "monitoring" {
  description = "Whether to create the CloudWatch alarms, the dashboard and the metric filter that counts executions ending in CallbackTimedOut. On by default."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "ARNs of the SNS topics to notify when an alarm goes off and when it is OK again, at most 5. Empty by default: the alarms show in CloudWatch but notify no one."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.alarm_actions) <= 5 && alltrue([for arn in var.alarm_actions : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", arn))])
    error_message = "alarm_actions must be at most 5 SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>)."
  }
}

variable "alarm_task_age_share" {
  description = "Share of task_timeout_seconds the task queue's oldest message may reach before the tasks-waiting alarm goes off: a number above 0 and below 1."
  type        = number
  default     = 0.5

  validation {
    condition     = var.alarm_task_age_share > 0 && var.alarm_task_age_share < 1
    error_message = "alarm_task_age_share must be above 0 and below 1."
  }
}

variable "alarm_records_retried" {
  description = "Records the worker may send back for a retry in 5 minutes before the records-retried alarm goes off: an integer from 0."
  type        = number
  default     = 10

  validation {
    condition     = var.alarm_records_retried >= 0 && floor(var.alarm_records_retried) == var.alarm_records_retried
    error_message = "alarm_records_retried must be an integer of at least 0."
  }
}

variable "alarm_worker_errors" {
  description = "Worker invocations that may fail as a whole (timeout, memory, import error) in 5 minutes before the worker-errors alarm goes off: an integer from 0."
  type        = number
  default     = 0

  validation {
    condition     = var.alarm_worker_errors >= 0 && floor(var.alarm_worker_errors) == var.alarm_worker_errors
    error_message = "alarm_worker_errors must be an integer of at least 0."
  }
}

variable "alarm_worker_throttles" {
  description = "Worker invocations that may be throttled in 5 minutes before the worker-throttled alarm goes off: an integer from 0."
  type        = number
  default     = 0

  validation {
    condition     = var.alarm_worker_throttles >= 0 && floor(var.alarm_worker_throttles) == var.alarm_worker_throttles
    error_message = "alarm_worker_throttles must be an integer of at least 0."
  }
}

variable "alarm_failed_executions" {
  description = "Executions that may end in CallbackTimedOut, fail before their task is sent, or end as WorkerFailed in 5 minutes before their alarm goes off: an integer from 0."
  type        = number
  default     = 0

  validation {
    condition     = var.alarm_failed_executions >= 0 && floor(var.alarm_failed_executions) == var.alarm_failed_executions
    error_message = "alarm_failed_executions must be an integer of at least 0."
  }
}
