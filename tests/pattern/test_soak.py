"""A small `make soak` in every test run, with the tests' own work and its examples: rejected
inputs, duplicate deliveries and poison messages, consumed by two worker processes at once, and
every execution accounted for (the 1,000-execution runs of the work's own examples, by 1, 2 and 4
processes, are `make soak`)."""

from __future__ import annotations

import pytest

from emulator.soak import run_soak
from emulator.work_examples import WorkExamples
from tests.pattern import fake_work


@pytest.mark.slow(seconds=20)
def test_every_execution_is_accounted_for_under_duplicates_and_poison() -> None:
    # GIVEN 100 executions, 10% with the input the work rejects, 5% of task messages delivered
    # twice, and 2% poison messages put on the queue directly, for two worker processes
    result = run_soak(
        100,
        WorkExamples.of(fake_work.EXAMPLES),
        consumers=2,
        work="tests.pattern.fake_work:do_work",
    )

    # THEN each ended as its input calls for, none by timing out
    assert result.succeeded == result.accepted_inputs
    assert result.failed_as_rejected == result.executions - result.accepted_inputs
    assert result.other_endings == 0
    # AND the malformed message is in the DLQ, the one with a forged token was done without its
    # work, every duplicate was absorbed, and one live SendTaskSuccess was made per accepted one
    assert result.malformed_in_dlq == result.malformed_sent == 1
    assert result.forged_sent == 1
    assert result.duplicates_sent > 0
    assert result.duplicates_absorbed == result.duplicates_sent
    assert result.live_successes == result.accepted_inputs
    # AND the work ran once per accepted execution, duplicates or not, across both processes
    assert result.work_runs_accepted == result.accepted_inputs
