output "page_url" {
  description = "The page's base URL: a request's link is <page_url>/<link ID>."
  value       = "${aws_apigatewayv2_stage.this.invoke_url}approvals"
}

output "table_arn" {
  description = "The requests' table: the worker puts each request there."
  value       = aws_dynamodb_table.requests.arn
}

output "table_name" {
  description = "The requests' table's name."
  value       = aws_dynamodb_table.requests.name
}

output "topic_arn" {
  description = "The topic each request's link is published to: subscribe a channel of your own."
  value       = aws_sns_topic.requests.arn
}

output "function_name" {
  description = "The page function's name."
  value       = aws_lambda_function.page.function_name
}
