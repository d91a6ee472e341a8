"""The sample work's own tests: the one test file a team rewrites with its work. Plain pytest,
no Terraform, moto or AWS: `.venv/bin/pytest src/work` runs them in about a second."""

from __future__ import annotations

from typing import Any

import pytest

from work import do_work
from worker.contract import TaskError


def no_heartbeat() -> None:
    """The sample work is quick: it never needs to heartbeat."""


def test_an_order_is_accepted_with_its_order_id() -> None:
    assert do_work({"orderId": "order-7", "items": 2}, no_heartbeat) == {
        "orderId": "order-7",
        "status": "ACCEPTED",
    }


@pytest.mark.parametrize(
    ("task_input", "cause"),
    [
        ({"orderId": ""}, "orderId must be a non-empty string"),
        ({"orderId": "   "}, "orderId must be a non-empty string"),
        ({"orderId": 7}, "orderId must be a non-empty string"),
        ({"item": "book"}, "orderId must be a non-empty string"),
        (["order-1"], "the execution input must be a JSON object"),
        ("order-1", "the execution input must be a JSON object"),
        (None, "the execution input must be a JSON object"),
    ],
)
def test_anything_else_is_invalid_task_input_with_a_cause_that_says_why(
    task_input: Any, cause: str
) -> None:
    with pytest.raises(TaskError) as rejected:
        do_work(task_input, no_heartbeat)

    assert (rejected.value.error, rejected.value.cause) == ("InvalidTaskInput", cause)
