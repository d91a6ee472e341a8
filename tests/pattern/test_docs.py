"""The docs name what is there: every relative link leads to a file of the project (and to a
heading of it, where it names one), every path in backquotes that names a file or folder of the
project exists, and the counts they give of the pattern's alarms and outcomes are its own."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from emulator.terraform import ROOT, load_hcl
from worker.outcomes import Outcome

if TYPE_CHECKING:
    from pathlib import Path

DOCS = sorted(
    [ROOT / "README.md", ROOT / "examples" / "complete" / "README.md", *ROOT.glob("docs/*.md")]
)
# Files the docs ask their reader to write.
THE_READERS = {"backend.tf"}
# A path in backquotes, of the project's own top-level folders and files.
PROJECT_PATH = re.compile(
    r"`((?:src|docs|tests|emulator|examples|statemachine|requirements)/[\w./-]*"
    r"|[\w-]+\.(?:tf|py|json|md|hcl|sh|toml|txt))`"
)
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", page.read_text(), re.MULTILINE)}


@pytest.mark.parametrize("page", DOCS, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_are_there(page: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        ):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", DOCS, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_project_path_a_page_names_is_there(page: Path) -> None:
    named = set(PROJECT_PATH.findall(page.read_text())) - THE_READERS
    missing = [
        path
        for path in named
        if not (ROOT / path).exists()
        and not (page.parent / path).exists()
        and not list(ROOT.glob(f"**/{path}"))  # a file named by its name alone
    ]
    assert missing == []


def count_of(text: str, noun: str) -> set[int]:
    found = re.findall(rf"\b(\d+|{'|'.join(NUMBERS)}) {noun}\b", text)
    return {int(n) if n.isdigit() else NUMBERS[n] for n in found}


def test_the_counts_of_alarms_and_outcomes_the_docs_give_are_the_patterns() -> None:
    text = "\n".join(page.read_text() for page in DOCS)
    (alarms,) = [b["alarms"] for b in load_hcl("monitoring.tf")["locals"] if "alarms" in b]

    assert count_of(text, "alarms") <= {len(alarms), 2}  # all of them, or the two of a kind
    assert count_of(text, "outcomes") <= {len(Outcome)}
