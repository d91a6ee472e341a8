# Values derived from the variables and the work's files alone, and the warnings Terraform gives
# at plan about them (check blocks). The locals that need a resource are beside their resources.
#
# Nothing here uses a resource, a data source or a provider: with variables.tf, this file plans
# offline, in milliseconds, and gives every setting the module deploys with.

locals {
  # AWS advises a visibility timeout of at least six times the function timeout plus the batching
  # window for an SQS event source, so that a message is not handed out again while its batch is
  # still being gathered, worked on, or retried after a throttled invocation.
  visibility_timeout_seconds = 6 * var.worker_timeout_seconds + var.batching_window_seconds

  # On a record's last allowed receive the worker turns an unexpected error into WorkerFailed. That
  # receive comes (max_receive_count - 1) visibility timeouts after the first at the earliest, and
  # its work may run for up to the worker's timeout.
  last_receive_done_seconds = (var.max_receive_count - 1) * local.visibility_timeout_seconds + var.worker_timeout_seconds

  # The ASL template (the instance's own, or the module's) and its templatefile() variables,
  # except partition and queue_url (from AWS).
  state_machine_template = coalesce(var.workflow_path, "${path.module}/statemachine/callback.asl.json")
  state_machine_settings = {
    task_timeout_seconds = var.task_timeout_seconds
    heartbeat_seconds    = local.heartbeat_seconds
  }
  # The callback task's HeartbeatSeconds, always declared: SendTaskHeartbeat, the worker's proof
  # that a task still waits, is documented only for a task with a heartbeat clock to reset. Left
  # unset, a window just under the timeout: the worker's first heartbeat restarts it, so it ends
  # no task the timeout would not (but one nothing reaches, a second before its timeout).
  heartbeat_seconds = coalesce(var.heartbeat_seconds, var.task_timeout_seconds - 1)
  # Whether the workflow declares it, read from the template rendered with stand-ins for the
  # values only AWS knows (known at plan, unlike the state machine's own definition).
  workflow_declares_heartbeat = strcontains(templatefile(local.state_machine_template, merge(local.state_machine_settings, {
    partition = "aws"
    queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/tasks"
  })), "\"HeartbeatSeconds\"")

  # The worker's environment (src/worker/settings.py reads it), but for the names main.tf adds from
  # the deployment's resources: the pattern's own settings, with var.worker_environment merged
  # under them (its validations refuse the pattern's names).
  worker_settings = {
    MAX_RECEIVE_COUNT          = tostring(var.max_receive_count)
    TASK_TIMEOUT_SECONDS       = tostring(var.task_timeout_seconds)
    HEARTBEAT_SECONDS          = tostring(local.heartbeat_seconds)
    VISIBILITY_TIMEOUT_SECONDS = tostring(local.visibility_timeout_seconds)
    POWERTOOLS_LOG_LEVEL       = var.log_level
    # No AWS configuration file, wherever HOME points: one could set endpoint_url for the worker's
    # clients and send every callback, task token and all, to another host.
    AWS_CONFIG_FILE = "/dev/null"
  }
  worker_environment       = merge(var.worker_environment, local.worker_settings)
  worker_environment_names = concat(keys(local.worker_settings), ["POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "TASK_QUEUE_URL", "IDEMPOTENCY_TABLE_NAME", "APPROVAL_TABLE_NAME", "APPROVAL_TOPIC_ARN", "APPROVAL_PAGE_URL"])

  # The largest task message: Step Functions sends none larger (a Task whose input after
  # Parameters is over 256 KiB fails with States.DataLimitExceeded). Set, not left to a default:
  # SQS has taken messages up to 1 MiB since August 2025, and the provider's default differs by
  # release.
  max_message_size = 262144

  # The dead-letter queue keeps a message as long as SQS allows (14 days): time to read and redrive.
  dead_letter_retention_seconds = 1209600

  # The idempotency table's key and expiry attributes: Powertools Idempotency's defaults.
  idempotency_key_attribute    = "id"
  idempotency_expiry_attribute = "expiration"

  # What var.worker_environment may not set, in any case: Lambda's reserved names (AWS_*, LAMBDA_*,
  # TZ) and those that would redirect the worker's calls or change the code it runs.
  worker_environment_refused = {
    prefixes = ["AWS_", "POWERTOOLS_", "PYTHON", "LD_", "LAMBDA_", "OPENSSL_"]
    names = [
      "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR",
      "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSLKEYLOGFILE", "HOME", "PATH", "LANG", "TZ",
    ]
    why = "AWS_* and LAMBDA_* are Lambda's or redirect the worker's AWS calls, task tokens and all (AWS_ENDPOINT_URL*), or run other code at start (AWS_LAMBDA_EXEC_WRAPPER); POWERTOOLS_* could log task tokens (POWERTOOLS_LOGGER_LOG_EVENT); PYTHON* and LD_* change the code Python loads; proxies, CA bundles and OPENSSL_* can read every callback, and SSLKEYLOGFILE writes its TLS keys to a file; HOME would point the AWS SDK at another configuration; PATH, LANG and TZ are Lambda's to set."
  }

  # The work's folder: var.work_source_path, or the sample work of this module.
  work_path = coalesce(var.work_source_path, "${path.module}/src/work")

  # The work's examples (work_examples.json in its folder), each input quoted for a POSIX shell,
  # for the start commands in outputs.tf (of a list of handed-off examples, the first).
  work_examples = jsondecode(file("${local.work_path}/work_examples.json"))
  work_example_inputs_quoted = {
    for name, example in local.work_examples :
    name => "'${replace(jsonencode(try(example.input, example[0].input)), "'", "'\\''")}'"
  }

  # The event source mapping's cap on concurrent invocations, unless it has provisioned pollers.
  maximum_concurrency = var.provisioned_pollers == null ? coalesce(var.maximum_concurrency, 10) : null

  # The tasks-waiting alarm's threshold, in seconds.
  task_age_alarm_seconds = floor(var.alarm_task_age_share * var.task_timeout_seconds)

  # What answers a task token: the worker's role may, and an external system's, given
  # callback_policy_json.
  answer_task_actions = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]

  # The AWS account Powertools publishes its Lambda layers from, in the commercial Regions
  # (https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer).
  powertools_publisher = "017000801446"

  # The work's third-party dependencies, if its folder has a requirements file that names any (a
  # line that is not blank or a comment): terraform apply then builds a layer of them (main.tf).
  work_requirements      = "${local.work_path}/work_requirements.txt"
  work_requirements_text = fileexists(local.work_requirements) ? file(local.work_requirements) : ""
  work_has_dependencies  = length(regexall("(?m)^[[:space:]]*[^#[:space:]]", local.work_requirements_text)) > 0
  # Hashes put pip in its hash-checking mode, for every package: without any, it checks none.
  # A comment that names one does not: pip reads nothing after a "#".
  work_dependencies_hashed = length(regexall("(?m)^[^#\n]*--hash=", local.work_requirements_text)) > 0
}

# A warning, not a validation: such values deploy and work, but a task whose work keeps failing
# then waits out its timeout instead of failing on its last receive, as the docs promise.
check "failing_work_ends_as_worker_failed" {
  assert {
    condition     = local.last_receive_done_seconds <= var.task_timeout_seconds
    error_message = "A task whose work keeps failing will end as CallbackTimedOut, not WorkerFailed: its last receive (max_receive_count = ${var.max_receive_count}, ${local.visibility_timeout_seconds} s apart) is done ${local.last_receive_done_seconds} s after the first, later than task_timeout_seconds = ${var.task_timeout_seconds}. Raise task_timeout_seconds, or lower max_receive_count or worker_timeout_seconds."
  }

  assert {
    condition     = var.heartbeat_seconds == null || try(var.heartbeat_seconds > local.visibility_timeout_seconds, true)
    error_message = "A task whose work fails once will end as CallbackTimedOut (States.HeartbeatTimeout), not be retried: no heartbeat comes while its message waits out the ${local.visibility_timeout_seconds} s visibility timeout, longer than heartbeat_seconds = ${coalesce(var.heartbeat_seconds, 0)}. Raise heartbeat_seconds above the visibility timeout, or accept that a failed attempt ends the execution."
  }
}

# A warning, not a refusal: a team may want approvals answered within the heartbeat window.
check "approvers_have_the_whole_task_timeout" {
  assert {
    condition     = var.approval == null || var.heartbeat_seconds == null
    error_message = "approval with heartbeat_seconds = ${coalesce(var.heartbeat_seconds, 0)}: a person cannot heartbeat, so an approval task ends heartbeat_seconds after the worker hands it to the service, not after task_timeout_seconds = ${var.task_timeout_seconds} (its page says it expired then). Leave heartbeat_seconds null for approvals, or accept the shorter window."
  }
}

# A warning, not a refusal: a list without hashes installs, but pip then takes whatever the index
# serves, at plan time, with the plan's credentials in its environment.
check "the_works_dependencies_are_pinned_with_hashes" {
  assert {
    condition     = !local.work_has_dependencies || local.work_dependencies_hashed
    error_message = "${local.work_requirements} lists the work's dependencies without hashes: pip checks nothing it downloads for the worker's layer. Write it as a lock file with hashes (pip-compile --generate-hashes, or uv pip compile --generate-hashes)."
  }
}

# A warning, not a refusal: following Powertools' releases is a choice some teams make on purpose.
check "the_worker_runs_the_powertools_release_it_was_tested_with" {
  assert {
    condition     = var.powertools_version != "latest"
    error_message = "powertools_version = \"latest\": each apply after a Powertools release gives the worker a layer it was never tested with, chosen by a parameter Powertools' release job rewrites. Pin a release (\"3.37.0\") and change it when you choose to."
  }
}

# A warning, not a refusal: a team's workflow (workflow_path) may leave HeartbeatSeconds out. The
# worker's first call for every record is SendTaskHeartbeat, its proof that the task still waits,
# and AWS documents that call only for a task with a heartbeat clock to reset.
check "the_callback_task_declares_its_heartbeat_window" {
  assert {
    condition     = local.workflow_declares_heartbeat
    error_message = "The workflow (${local.state_machine_template}) declares no HeartbeatSeconds: the worker proves each task still waits with SendTaskHeartbeat, which AWS documents only for a task with HeartbeatSeconds. Keep \"HeartbeatSeconds\": $${heartbeat_seconds} in the callback task, as statemachine/callback.asl.json does."
  }
}
