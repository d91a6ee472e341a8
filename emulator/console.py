"""What the emulator shows a person: the worker's logs out of the way, results as tables."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
from typing import TYPE_CHECKING, Any, TextIO

from emulator.terraform import ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

WORKER_LOG = ROOT / "build" / "emulator-worker.log"


@contextlib.contextmanager
def worker_output(
    show_logs: bool, transcript: io.StringIO | None = None, log_file: Path = WORKER_LOG
) -> Iterator[TextIO]:
    """Send what the worker prints (Powertools' JSON logs and metrics) to stderr or to
    `log_file`, and to `transcript` if given; yield the stream for the emulator's own output."""
    logging.getLogger("moto").setLevel(logging.CRITICAL)  # the ASL interpreter logs every Fail
    screen = sys.stdout
    if show_logs:
        sink: TextIO = sys.stderr
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        sink = log_file.open("w")
    sys.stdout = _Tee(sink, transcript) if transcript is not None else sink
    try:
        yield screen
    finally:
        sys.stdout = screen
        if sink is not sys.stderr:
            sink.close()


class _Tee(io.TextIOBase):
    def __init__(self, *streams: TextIO) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join(
        ("  " + "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True))).rstrip()
        for line in lines
    )


def history(events: list[dict[str, Any]]) -> str:
    """An execution's event history as a timeline: elapsed time, event, the state or error."""
    start = events[0]["timestamp"]
    rows = []
    for event in events:
        details = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
        note = details.get("name") or details.get("error") or ""
        if details.get("cause"):
            note += f" ({shorten(details['cause'], 60)})"
        elapsed = (event["timestamp"] - start).total_seconds()
        rows.append([f"+{elapsed:6.2f} s", event["type"], note])
    return table(rows, ["time", "event", "state / error"])


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
