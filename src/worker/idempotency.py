"""One run of the work per task attempt, under SQS's at-least-once delivery: Powertools
Idempotency over a DynamoDB table.

The key is the SHA-256 hash of the task token, which Step Functions issues once per attempt of the
Task state: the raw token never reaches the table. A delivery that finds the attempt done gets the
stored result instead of a second run; one that finds it still running raises
IdempotencyAlreadyInProgressError (the record comes back later). The work raising stores nothing.
A stored result expires after the task timeout: the token is dead by then (and the handler does
not run the work for a message older than that).

worker.tf names the table in IDEMPOTENCY_TABLE_NAME unless var.idempotency is false; without it
every delivery runs the work and nothing here calls DynamoDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from worker.callback import CLIENT_CONFIG
from worker.settings import settings

if TYPE_CHECKING:
    from collections.abc import Callable

config = IdempotencyConfig(
    expires_after_seconds=settings.task_timeout_seconds, hash_function="sha256"
)
# A client of boto3's default session, as the Step Functions client is: they share its loaded
# service data, which a session of their own (Powertools' default) would load again at cold start.
persistence = (
    DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name,
        boto3_client=boto3.client("dynamodb", config=CLIENT_CONFIG),
    )
    if settings.idempotency_table_name
    else None
)


def idempotent_per_attempt[F: Callable[..., str | None]](function: F) -> F:
    """`function(*, attempt=<task token>, ...)`, run at most once per token (as it is without a
    table)."""
    if persistence is None:
        return function
    return idempotent_function(
        function,
        data_keyword_argument="attempt",
        persistence_store=persistence,
        config=config,
        key_prefix="task-attempt",
    )
