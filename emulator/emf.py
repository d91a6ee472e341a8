"""The worker's metric lines (CloudWatch's embedded metric format), read as CloudWatch reads them:
a JSON line whose `_aws` directive names the namespace, the dimension sets and the metrics."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


def metric_lines(output: str) -> Iterator[dict[str, Any]]:
    """The EMF objects among the lines the worker printed."""
    for line in output.splitlines():
        if line.startswith('{"_aws"'):
            yield json.loads(line)


def worker_metrics(output: str) -> dict[str, float]:
    """Each metric's total over the run."""
    totals: dict[str, float] = {}
    for blob in metric_lines(output):
        for directive in blob["_aws"]["CloudWatchMetrics"]:
            for definition in directive["Metrics"]:
                values = blob[definition["Name"]]
                total = sum(values) if isinstance(values, list) else values
                totals[definition["Name"]] = totals.get(definition["Name"], 0) + total
    return totals


def metrics_emitted(output: str) -> set[tuple[str, str, frozenset[str]]]:
    """(namespace, metric, dimension names) of every metric CloudWatch would store."""
    return {
        (directive["Namespace"], definition["Name"], frozenset(dimensions))
        for blob in metric_lines(output)
        for directive in blob["_aws"]["CloudWatchMetrics"]
        for dimensions in directive["Dimensions"]
        for definition in directive["Metrics"]
    }
