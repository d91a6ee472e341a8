"""The pattern's tests' own work that hands every job to a job runner, as a data team's would: it
posts the job, with the task's token, to the runner (JOB_RUNNER_URL), which heartbeats while the
job runs and answers with the token when it ends; a job it cannot take is rejected at once. Its
runner, in the checks, is work_stand_in.py beside it."""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from worker.contract import CallbackHandle, HandedOff, Heartbeat, TaskError


def do_work(task_input: Any, heartbeat: Heartbeat, callback: CallbackHandle) -> Any:
    job = task_input.get("job") if isinstance(task_input, dict) else None
    if not isinstance(job, str) or not job:
        raise TaskError("InvalidJob", "job must name the job to run, a non-empty string")
    runner = os.environ.get("JOB_RUNNER_URL")
    if not runner:
        raise TaskError("RunnerNotConfigured", "JOB_RUNNER_URL is not set (worker_environment)")
    submission = {"job": job, "arguments": task_input.get("arguments", {}),
                  "taskToken": callback.token}  # fmt: skip
    request = urllib.request.Request(
        f"{runner}/jobs",
        data=json.dumps(submission).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # an error: retried
        response.read()
    return HandedOff()
