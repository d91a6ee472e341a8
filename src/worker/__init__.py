"""The Lambda worker that answers Step Functions task tokens it receives through SQS."""
