# The page's HTTP API: GET shows a request, POST answers it, nothing else is routed. With var.jwt,
# API Gateway's JWT authorizer admits only requests with a valid token of the issuer.

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name}-approvals"
  protocol_type = "HTTP"
  description   = "The approval page: a request's link, shown on GET and answered on POST."

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "page" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.page.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count            = var.jwt == null ? 0 : 1
  api_id           = aws_apigatewayv2_api.this.id
  name             = "approvers"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt.issuer
    audience = var.jwt.audience
  }
}

resource "aws_apigatewayv2_route" "page" {
  # checkov:skip=CKV_AWS_309:Without var.jwt the link is the credential (a one-time secret of 256 bits); with it, the JWT authorizer guards both routes.
  for_each           = toset(["GET", "POST"])
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "${each.key} /approvals/{id}"
  target             = "integrations/${aws_apigatewayv2_integration.page.id}"
  authorization_type = var.jwt == null ? "NONE" : "JWT"
  authorizer_id      = var.jwt == null ? null : aws_apigatewayv2_authorizer.jwt[0].id
}

resource "aws_cloudwatch_log_group" "api" {
  # checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest already; the access log names routes, never a link's ID.
  name              = "/aws/vendedlogs/apigateway/${var.name}-approvals"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttle_per_second
    throttling_burst_limit = 2 * var.throttle_per_second
  }

  # The route key, not the path: a link's ID is a secret, and stays out of the logs.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api.arn
    format = jsonencode({
      requestId = "$context.requestId", routeKey = "$context.routeKey", status = "$context.status",
      sourceIp  = "$context.identity.sourceIp", requestTime = "$context.requestTime",
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowTheApprovalPageApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.page.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*"
}
