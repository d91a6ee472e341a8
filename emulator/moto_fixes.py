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
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

MOTO_GET_EXECUTIONS = StepFunctionsParserBackend._get_executions


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


def apply() -> None:
    StepFunctionsParserBackend._get_executions = started_executions  # type: ignore[method-assign]
