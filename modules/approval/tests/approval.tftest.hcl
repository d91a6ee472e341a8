# The approval service's plan, with mock providers: what it creates with and without sign-in, and
# what each of its parts may do. `make test-terraform` runs it, or `terraform test` here.

mock_provider "aws" {
  override_during = plan

  # A policy document's JSON, as the provider renders one: the real provider refuses a role
  # whose assume_role_policy is not a JSON policy (a mock's default is a random string).
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
}

mock_provider "archive" {
  override_during = plan
}

override_resource {
  target          = aws_dynamodb_table.requests
  override_during = plan
  values          = { arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/cb-a1b2c3-approvals", name = "cb-a1b2c3-approvals" }
}

override_resource {
  target          = aws_cloudwatch_log_group.page
  override_during = plan
  values          = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/cb-a1b2c3-approval-page" }
}

variables {
  name                 = "cb-a1b2c3"
  state_machine_arn    = "arn:aws:states:eu-west-1:123456789012:stateMachine:cb-a1b2c3"
  architecture         = "arm64"
  powertools_layer_arn = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:18"
  log_retention_days   = 30
}

run "without_sign_in_the_link_is_the_credential" {
  command = plan

  assert {
    condition     = jsonencode({ for key, route in aws_apigatewayv2_route.page : route.route_key => route.authorization_type }) == jsonencode({ "GET /approvals/{id}" = "NONE", "POST /approvals/{id}" = "NONE" })
    error_message = "GET and POST of /approvals/{id}, and no other route. Got ${jsonencode({ for key, route in aws_apigatewayv2_route.page : route.route_key => route.authorization_type })}."
  }

  assert {
    condition     = length(aws_apigatewayv2_authorizer.jwt) == 0 && !contains(keys(aws_lambda_function.page.environment[0].variables), "APPROVERS")
    error_message = "Without var.jwt there is no authorizer and no approver list. Got ${jsonencode(aws_lambda_function.page.environment[0].variables)}."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "Without notify_email no one is subscribed. Got ${length(aws_sns_topic_subscription.email)} subscriptions."
  }
}

run "the_page_may_read_and_settle_requests_and_answer_and_read_this_state_machines_tasks_alone" {
  command = plan

  assert {
    condition = jsonencode({
      for statement in data.aws_iam_policy_document.page.statement : statement.sid => [sort(statement.actions), sort(statement.resources)]
      }) == jsonencode({
      AnswerTaskTokens      = [["states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"], [var.state_machine_arn]]
      ReadAndSettleRequests = [["dynamodb:GetItem", "dynamodb:UpdateItem"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/cb-a1b2c3-approvals"]]
      ReadTheTasksEvents    = [["states:GetExecutionHistory"], ["${replace(var.state_machine_arn, ":stateMachine:", ":execution:")}:*"]]
      WriteOwnLogs          = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/cb-a1b2c3-approval-page:*"]]
    })
    error_message = "The page's policy must grant exactly these actions on these resources. Got ${jsonencode({ for statement in data.aws_iam_policy_document.page.statement : statement.sid => [sort(statement.actions), sort(statement.resources)] })}."
  }

  assert {
    condition     = aws_lambda_permission.api.principal == "apigateway.amazonaws.com" && aws_lambda_permission.api.action == "lambda:InvokeFunction"
    error_message = "Only API Gateway may invoke the page. Got ${aws_lambda_permission.api.principal} ${aws_lambda_permission.api.action}."
  }
}

run "requests_are_encrypted_expire_and_the_link_stays_out_of_the_logs" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.requests.hash_key == "id" && one(aws_dynamodb_table.requests.ttl).attribute_name == "expires_at" && one(aws_dynamodb_table.requests.ttl).enabled
    error_message = "Requests are keyed by the link's hash and expire by expires_at. Got ${aws_dynamodb_table.requests.hash_key}, ${jsonencode(aws_dynamodb_table.requests.ttl)}."
  }

  assert {
    condition     = aws_sns_topic.requests.kms_master_key_id == "alias/aws/sns"
    error_message = "The topic carries links: it must be encrypted. Got ${jsonencode(aws_sns_topic.requests.kms_master_key_id)}."
  }

  assert {
    condition     = !strcontains(one(aws_apigatewayv2_stage.this.access_log_settings).format, "$context.path") && strcontains(one(aws_apigatewayv2_stage.this.access_log_settings).format, "$context.routeKey")
    error_message = "The access log names the route, never the path (which holds the link's ID). Got ${one(aws_apigatewayv2_stage.this.access_log_settings).format}."
  }

  assert {
    condition     = one(aws_apigatewayv2_stage.this.default_route_settings).throttling_rate_limit == 10 && one(aws_apigatewayv2_stage.this.default_route_settings).throttling_burst_limit == 20
    error_message = "The page's API is throttled. Got ${jsonencode(aws_apigatewayv2_stage.this.default_route_settings)}."
  }
}

run "with_sign_in_only_the_listed_approvers_get_through" {
  command = plan

  variables {
    notify_email = "approvers@example.com"
    jwt = {
      issuer    = "https://login.example.com/"
      audience  = ["approvals"]
      approvers = ["ana@example.com", "bo@example.com"]
      claim     = "email"
    }
  }

  assert {
    condition     = alltrue([for route in aws_apigatewayv2_route.page : route.authorization_type == "JWT"]) && one(aws_apigatewayv2_authorizer.jwt).authorizer_type == "JWT"
    error_message = "With var.jwt both routes need a valid JWT. Got ${jsonencode([for route in aws_apigatewayv2_route.page : route.authorization_type])}."
  }

  assert {
    condition     = one(one(aws_apigatewayv2_authorizer.jwt).jwt_configuration).issuer == "https://login.example.com/" && one(aws_apigatewayv2_authorizer.jwt).identity_sources == toset(["$request.header.Authorization"])
    error_message = "The authorizer checks the issuer's tokens. Got ${jsonencode(aws_apigatewayv2_authorizer.jwt)}."
  }

  assert {
    condition     = aws_lambda_function.page.environment[0].variables.APPROVERS == jsonencode(["ana@example.com", "bo@example.com"]) && aws_lambda_function.page.environment[0].variables.APPROVER_CLAIM == "email"
    error_message = "The page admits the listed approvers alone, by their claim. Got ${jsonencode(aws_lambda_function.page.environment[0].variables)}."
  }

  assert {
    condition     = one(aws_sns_topic_subscription.email).protocol == "email" && one(aws_sns_topic_subscription.email).endpoint == "approvers@example.com"
    error_message = "notify_email subscribes that address. Got ${jsonencode(aws_sns_topic_subscription.email)}."
  }
}
