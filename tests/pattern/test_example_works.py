"""examples/complete's two works, one per instance of the module (its orders/ and refunds/, which
work_source_path names): each does what its examples say, against the charges table the example
creates (moto's), and records a charge or a refund once however often its message is delivered."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from emulator.terraform import ROOT
from emulator.work_examples import WorkExamples
from worker.handoff import CallbackHandle, HandedOff, call_work
from worker.messages import TaskError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

EXAMPLE = ROOT / "examples" / "complete"
TABLE = "example-charges"
NO_TASK = CallbackHandle("a-token-of-no-task", "")


def the_work(name: str) -> ModuleType:
    """The instance's work.py, imported under a name of its own (both are `work` on Lambda)."""
    spec = importlib.util.spec_from_file_location(f"complete_{name}", EXAMPLE / name / "work.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def charges(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The example's charges table, as the module creates it, named by CHARGES_TABLE."""
    with mock_aws():
        monkeypatch.setenv("CHARGES_TABLE", TABLE)
        table = boto3.resource("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield table


@pytest.mark.parametrize("name", ["orders", "refunds"])
def test_the_accepted_example_is_recorded_once_however_often_it_is_delivered(
    charges: Any, name: str
) -> None:
    work, examples = the_work(name), WorkExamples.load(EXAMPLE / name)

    first = call_work(work.do_work, examples.accepted, NO_TASK)
    again = call_work(work.do_work, examples.accepted, NO_TASK)  # a redelivery

    assert first == again
    (item,) = charges.scan()["Items"]
    assert item["amountCents"] == examples.accepted["amountCents"]


@pytest.mark.parametrize("name", ["orders", "refunds"])
def test_the_rejected_example_fails_with_its_error_and_records_nothing(
    charges: Any, name: str
) -> None:
    work, examples = the_work(name), WorkExamples.load(EXAMPLE / name)

    with pytest.raises(TaskError) as rejected:
        call_work(work.do_work, examples.rejected, NO_TASK)

    assert rejected.value.error == examples.rejected_error
    assert charges.scan()["Items"] == []


def test_the_instances_differ_refunds_alone_hands_off_its_large_refund(charges: Any) -> None:
    orders, refunds = WorkExamples.load(EXAMPLE / "orders"), WorkExamples.load(EXAMPLE / "refunds")
    assert orders.handed_off is None
    assert refunds.handed_off is not None

    handed_off = call_work(the_work("refunds").do_work, refunds.handed_off.input, NO_TASK)

    assert isinstance(handed_off, HandedOff)
    assert charges.scan()["Items"] == []  # the person who approves it refunds it
