# Every validation of variables.tf refuses a bad value at plan, and each check block warns where it
# should, in Terraform's own test framework. tests/pattern/test_variables.py holds the same
# validations, with more bad values each, and runs without providers in make test.

mock_provider "aws" {
  source = "./tests/mocks/aws"
}

mock_provider "archive" {}

mock_provider "random" {}

mock_provider "external" {}

run "refuses_a_work_folder_without_a_work" {
  command = plan

  variables {
    work_source_path = "src"
  }

  expect_failures = [var.work_source_path]
}

run "refuses_a_name_that_is_not_1_to_40_letters_digits_hyphens_or_underscores" {
  command = plan

  variables {
    name = "orders.prod"
  }

  expect_failures = [var.name]
}

run "refuses_tags_that_aws_refuses" {
  command = plan

  variables {
    tags = { "aws:owner" = "payments" }
  }

  expect_failures = [var.tags]
}

run "refuses_a_task_timeout_over_a_year" {
  command = plan

  variables {
    task_timeout_seconds = 31536001
  }

  expect_failures = [var.task_timeout_seconds]
}

run "refuses_a_heartbeat_not_shorter_than_the_task_timeout" {
  command = plan

  variables {
    task_timeout_seconds = 600
    heartbeat_seconds    = 600
  }

  expect_failures = [var.heartbeat_seconds]
}

run "refuses_a_max_receive_count_of_zero" {
  command = plan

  variables {
    max_receive_count = 0
  }

  expect_failures = [var.max_receive_count]
}

run "refuses_a_retention_over_14_days" {
  command = plan

  variables {
    message_retention_seconds = 1209601
  }

  expect_failures = [var.message_retention_seconds]
}

run "refuses_a_worker_timeout_over_15_minutes" {
  command = plan

  variables {
    worker_timeout_seconds = 901
  }

  expect_failures = [var.worker_timeout_seconds]
}

run "refuses_worker_memory_below_128_mb" {
  command = plan

  variables {
    worker_memory_mb = 127
  }

  expect_failures = [var.worker_memory_mb]
}

run "refuses_an_architecture_lambda_does_not_have" {
  command = plan

  variables {
    architecture = "amd64"
  }

  expect_failures = [var.architecture]
}

run "refuses_a_powertools_release_before_v3" {
  command = plan

  variables {
    powertools_version = "2.43.1"
  }

  expect_failures = [var.powertools_version]
}

run "refuses_a_batch_size_over_10000" {
  command = plan

  variables {
    batch_size              = 10001
    batching_window_seconds = 1
  }

  expect_failures = [var.batch_size]
}

run "refuses_a_batch_over_10_without_a_batching_window" {
  command = plan

  variables {
    batch_size              = 11
    batching_window_seconds = 0
  }

  expect_failures = [var.batching_window_seconds]
}

run "refuses_a_maximum_concurrency_of_one" {
  command = plan

  variables {
    maximum_concurrency = 1
  }

  expect_failures = [var.maximum_concurrency]
}

run "refuses_provisioned_pollers_below_two" {
  command = plan

  variables {
    provisioned_pollers = { minimum = 1, maximum = 10 }
  }

  expect_failures = [var.provisioned_pollers]
}

run "refuses_provisioned_pollers_with_a_concurrency_cap" {
  command = plan

  variables {
    provisioned_pollers = { minimum = 2, maximum = 10 }
    maximum_concurrency = 50
  }

  expect_failures = [var.provisioned_pollers]
}

run "refuses_a_log_level_powertools_does_not_know" {
  command = plan

  variables {
    log_level = "WARNING"
  }

  expect_failures = [var.log_level]
}

run "refuses_a_retention_cloudwatch_logs_does_not_offer" {
  command = plan

  variables {
    log_retention_days = 31
  }

  expect_failures = [var.log_retention_days]
}

run "refuses_a_state_machine_log_level_step_functions_does_not_know" {
  command = plan

  variables {
    state_machine_log_level = "DEBUG"
  }

  expect_failures = [var.state_machine_log_level]
}

run "refuses_alarm_actions_that_are_not_sns_topics" {
  command = plan

  variables {
    alarm_actions = ["arn:aws:sqs:eu-west-1:123456789012:on-call"]
  }

  expect_failures = [var.alarm_actions]
}

run "refuses_an_alarm_task_age_share_of_one" {
  command = plan

  variables {
    alarm_task_age_share = 1
  }

  expect_failures = [var.alarm_task_age_share]
}

run "refuses_a_negative_alarm_records_retried" {
  command = plan

  variables {
    alarm_records_retried = -1
  }

  expect_failures = [var.alarm_records_retried]
}

run "refuses_a_fractional_alarm_worker_errors" {
  command = plan

  variables {
    alarm_worker_errors = 0.5
  }

  expect_failures = [var.alarm_worker_errors]
}

run "refuses_a_negative_alarm_worker_throttles" {
  command = plan

  variables {
    alarm_worker_throttles = -1
  }

  expect_failures = [var.alarm_worker_throttles]
}

run "refuses_a_negative_alarm_failed_executions" {
  command = plan

  variables {
    alarm_failed_executions = -1
  }

  expect_failures = [var.alarm_failed_executions]
}

run "refuses_a_worker_policy_that_is_not_a_policy_document" {
  command = plan

  variables {
    attach_worker_policy_json = true
    worker_policy_json        = "{\"Version\": \"2012-10-17\"}"
  }

  expect_failures = [var.worker_policy_json]
}

run "refuses_a_worker_policy_without_attach_worker_policy_json" {
  command = plan

  variables {
    worker_policy_json = "{\"Statement\": []}"
  }

  expect_failures = [var.worker_policy_json]
}

run "refuses_attach_worker_policy_json_without_a_policy" {
  command = plan

  variables {
    attach_worker_policy_json = true
  }

  expect_failures = [var.worker_policy_json]
}

run "refuses_a_worker_environment_that_sets_the_patterns_own_names" {
  command = plan

  variables {
    worker_environment = { MAX_RECEIVE_COUNT = "9" }
  }

  expect_failures = [var.worker_environment]
}

run "refuses_a_worker_environment_that_sets_powertools" {
  command = plan

  variables {
    worker_environment = { POWERTOOLS_LOGGER_LOG_EVENT = "true" }
  }

  expect_failures = [var.worker_environment]
}

run "refuses_a_worker_environment_that_redirects_the_workers_aws_calls" {
  command = plan

  variables {
    worker_environment = { AWS_ENDPOINT_URL_SFN = "https://example.com" }
  }

  expect_failures = [var.worker_environment]
}

run "refuses_a_worker_environment_that_sets_a_proxy_in_lower_case" {
  command = plan

  variables {
    worker_environment = { https_proxy = "http://proxy.example.com:3128" }
  }

  expect_failures = [var.worker_environment]
}

run "refuses_a_worker_environment_that_changes_the_code_python_runs" {
  command = plan

  variables {
    worker_environment = { PYTHONPATH = "/tmp" }
  }

  expect_failures = [var.worker_environment]
}

run "refuses_queue_operators_that_are_not_iam_roles" {
  command = plan

  variables {
    queue_operator_role_arns = ["arn:aws:iam::123456789012:user/alice"]
  }

  expect_failures = [var.queue_operator_role_arns]
}

run "a_task_timeout_shorter_than_the_last_receive_warns" {
  command = plan

  # 2 receives 180 s apart, then 30 s of work: 390 s, more than the task timeout.
  variables {
    task_timeout_seconds = 300
  }

  expect_failures = [check.failing_work_ends_as_worker_failed]
}

run "a_heartbeat_shorter_than_the_visibility_timeout_warns" {
  command = plan

  # A retry waits out the 180 s visibility timeout with no heartbeat.
  variables {
    heartbeat_seconds = 60
  }

  expect_failures = [check.failing_work_ends_as_worker_failed]
}

run "latest_powertools_warns_that_the_worker_changes_untested" {
  command = plan

  variables {
    powertools_version = "latest"
  }

  expect_failures = [check.the_worker_runs_the_powertools_release_it_was_tested_with]
}

run "refuses_a_powertools_layer_that_is_not_powertools_own" {
  command = plan

  # The parameter rewritten to name a layer of another account.
  override_data {
    target = data.aws_ssm_parameter.powertools_layer
    values = { insecure_value = "arn:aws:lambda:eu-west-1:111122223333:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:18" }
  }

  expect_failures = [data.aws_ssm_parameter.powertools_layer]
}

run "refuses_a_powertools_layer_for_another_architecture" {
  command = plan

  variables {
    architecture = "x86_64"
  }

  # The mock parameter names the arm64 layer.
  expect_failures = [data.aws_ssm_parameter.powertools_layer]
}

run "takes_powertools_own_layer_for_the_architecture" {
  command = plan

  variables {
    architecture = "x86_64"
  }

  override_data {
    target = data.aws_ssm_parameter.powertools_layer
    values = { insecure_value = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:18" }
  }

  assert {
    condition     = jsonencode(aws_lambda_function.worker.layers) == jsonencode(["arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:18"])
    error_message = "Powertools' own x86_64 layer must be the worker's."
  }
}

run "refuses_a_state_machine_log_level_that_blinds_the_callback_timed_out_alarm" {
  command = plan

  # FailStateEntered, which the callback-timed-out alarm's metric filter counts, is logged at ALL
  # and ERROR alone.
  variables {
    state_machine_log_level = "FATAL"
  }

  expect_failures = [var.state_machine_log_level]
}

run "without_monitoring_the_state_machine_may_log_less" {
  command = plan

  variables {
    monitoring              = false
    state_machine_log_level = "OFF"
  }
}

run "refuses_tz_in_the_worker_environment" {
  command = plan

  variables {
    worker_environment = { TZ = "Europe/Paris" }
  }

  expect_failures = [var.worker_environment]
}
