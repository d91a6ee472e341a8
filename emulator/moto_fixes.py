"""Where moto's behaviour differs from AWS's in a way the pattern would show, the narrowest
correction, applied by `emulator.pattern.deploy` before any execution starts. Each names the
moto release it was found in; tests/test_moto_fixes.py fails as soon as moto no longer needs it.

1. moto 5.2.5: SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat look for the token in
   every execution of the region, and read each one's interpreter environment. An execution that
   is still starting has none yet (it is made on the execution's own thread, after
   StartExecution has returned), so the callback fails with AttributeError for every token,
   live ones included, while any execution is starting. On AWS a callback reaches its
   execution whatever else is starting. The correction: executions whose interpreter has not
   started are skipped, as they hold no task token (nor map run) yet.

2. moto 5.2.5: a conditional PutItem reads the item, checks the condition and writes the item in
   three steps with no lock, so two requests at once (two worker processes on `make serve`'s or
   the soak's server) can both pass `attribute_not_exists` and both write. DynamoDB's conditional
   writes are atomic: one of them fails with ConditionalCheckFailedException, which is what makes
   the worker run the work once. The correction: one PutItem at a time in moto.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.models.table import Table
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

MOTO_GET_EXECUTIONS = StepFunctionsParserBackend._get_executions
MOTO_PUT_ITEM = Table.put_item
_ONE_PUT_AT_A_TIME = threading.Lock()


def started_executions(self: StepFunctionsParserBackend, execution_status: Any = None) -> list:
    """moto's `_get_executions`, without the executions whose interpreter has not started."""
    return [
        execution
        for state_machine in self.state_machines
        for execution in state_machine.executions
        if execution.exec_worker is not None
        and execution.exec_worker.env is not None
        and (execution_status is None or execution_status == execution.status)
    ]


def atomic_put_item(self: Table, *args: Any, **kwargs: Any) -> Any:
    """moto's PutItem, its condition checked and the item written with no other PutItem between."""
    with _ONE_PUT_AT_A_TIME:
        return MOTO_PUT_ITEM(self, *args, **kwargs)


def apply() -> None:
    StepFunctionsParserBackend._get_executions = started_executions  # type: ignore[method-assign]
    Table.put_item = atomic_put_item  # type: ignore[method-assign]
