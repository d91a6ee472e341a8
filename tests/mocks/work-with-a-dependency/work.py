"""A work with a third-party dependency, for tests/main.tftest.hcl's plan of its layer."""

import six  # noqa: F401


def do_work(task_input, heartbeat):
    return task_input
