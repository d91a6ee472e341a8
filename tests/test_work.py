"""The sample work's own tests: the one test file a team rewrites with its work. Plain pytest,
no Terraform, moto or AWS: `pytest tests/test_work.py` runs in about a second. The pattern's tests
(tests/pattern/) run with a fake work of their own, and hold work_examples.json against whatever
work.py does (tests/pattern/test_work_examples.py)."""

from __future__ import annotations

from typing import Any

import pytest

from worker.contract import TaskError
from worker.work import do_work


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
        (["order-1"], "the execution input must be a JSON object, not array"),
        ("order-1", "the execution input must be a JSON object, not string"),
        (None, "the execution input must be a JSON object, not null"),
    ],
)
def test_anything_else_is_invalid_task_input_with_a_cause_that_says_why(
    task_input: Any, cause: str
) -> None:
    with pytest.raises(TaskError) as rejected:
        do_work(task_input, no_heartbeat)

    assert (rejected.value.error, rejected.value.cause) == ("InvalidTaskInput", cause)
