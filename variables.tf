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
  description = "Tags applied to every resource (through the provider's default_tags)."
  type        = map(string)
  default     = {}
}

variable "task_timeout_seconds" {
  description = "How long the state machine waits for the worker's callback before it fails with CallbackTimedOut (TimeoutSeconds). An integer from 1 to 31536000 (one year, the longest a Standard execution runs)."
  type        = number
  default     = 300

  validation {
    condition     = var.task_timeout_seconds >= 1 && var.task_timeout_seconds <= 31536000 && floor(var.task_timeout_seconds) == var.task_timeout_seconds
    error_message = "task_timeout_seconds must be an integer from 1 to 31536000."
  }
}

variable "heartbeat_seconds" {
  description = "If set, the worker must call SendTaskHeartbeat at least this often or the task fails with CallbackTimedOut (HeartbeatSeconds). An integer of at least 1 and shorter than task_timeout_seconds, or null for no heartbeat."
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
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be from 1 to 1000."
  }
}

variable "message_retention_seconds" {
  description = "How long the task queue keeps a message, in seconds. From 60 to 1209600 (14 days); the dead-letter queue always keeps messages 14 days."
  type        = number
  default     = 345600
}

variable "worker_timeout_seconds" {
  description = "The worker Lambda's timeout, in seconds, from 1 to 900. The task queue's visibility timeout is six times this, as AWS advises for an SQS event source."
  type        = number
  default     = 30

  validation {
    condition     = var.worker_timeout_seconds >= 1 && var.worker_timeout_seconds <= 900
    error_message = "worker_timeout_seconds must be from 1 to 900."
  }
}

variable "worker_memory_mb" {
  description = "The worker Lambda's memory, in MB, from 128 to 10240. 256 because make bench measures a 48 MiB peak for a 10-record batch (room for the runtime and layer) and Lambda gives CPU in proportion to memory, which keeps the 0.2 s import short; the callback's network wait, not CPU, dominates each record."
  type        = number
  default     = 256
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
  description = "Release of the public Powertools for AWS Lambda (Python) layer, resolved through its public SSM parameter; \"latest\" follows new releases. The tests run against the same release."
  type        = string
  default     = "3.37.0"
}

variable "batch_size" {
  description = "Most task messages in one worker invocation, from 1 to 10000. Above 10 needs batching_window_seconds of at least 1."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be from 1 to 10000."
  }
}

variable "batching_window_seconds" {
  description = "Longest the event source mapping gathers messages before it invokes the worker, in seconds, from 0 to 300."
  type        = number
  default     = 0

  validation {
    condition     = var.batching_window_seconds >= 0 && var.batching_window_seconds <= 300 && (var.batch_size <= 10 || var.batching_window_seconds >= 1)
    error_message = "batching_window_seconds must be from 0 to 300, and at least 1 when batch_size is over 10."
  }
}

variable "maximum_concurrency" {
  description = "Most concurrent worker invocations the SQS event source mapping starts, from 2 to 1000."
  type        = number
  default     = 10

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000
    error_message = "maximum_concurrency must be from 2 to 1000."
  }
}

variable "log_level" {
  description = "The worker's application log level: DEBUG, INFO, WARN or ERROR."
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
  description = "Which execution events the state machine logs: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.state_machine_log_level)
    error_message = "state_machine_log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "include_execution_data" {
  description = "Whether the state machine's logs include execution input and output. Off by default: that data holds task tokens, and whoever holds a token can complete the task."
  type        = bool
  default     = false
}
