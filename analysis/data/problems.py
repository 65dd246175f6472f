"""Problems found in a dataset: every one counted, the first few of each kind kept with their words.

A CSV of a million rows whose files are all missing is a million problems of one kind: they are
counted, the first :data:`KEEP_PER_KIND` are kept as examples, and reports list those examples and
the counts, never one line per row. Memory stays bounded by the number of kinds, not of rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable

KEEP_PER_KIND = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the dataset. ``where`` names the file, row or column."""

    kind: str
    where: str
    message: str
    fatal: bool = False

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ProblemList(list):
    """A list of the first ``keep`` problems of each kind, with ``counts`` of all of them.

    Used like a list (``append``, iterate, ``len`` = the problems kept); ``counts`` and :meth:`total`
    say how many there were.
    """

    def __init__(self, problems: Iterable[Problem] = (), keep: int = KEEP_PER_KIND):
        super().__init__()
        self.keep = keep
        self.counts: Counter[str] = Counter()
        self.extend(problems)

    def append(self, problem: Problem) -> None:
        self.counts[problem.kind] += 1
        if self.counts[problem.kind] <= self.keep:
            super().append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def total(self) -> int:
        return sum(self.counts.values())


def counts_of(problems: list[Problem]) -> dict[str, int]:
    """Problems per kind: all of them for a :class:`ProblemList`, else those in the list."""
    return dict(problems.counts) if isinstance(problems, ProblemList) else dict(Counter(p.kind for p in problems))


def summary_lines(problems: list[Problem], max_listed: int = 10) -> list[str]:
    """Per kind, in name order: ``kind: count``, then its first ``max_listed`` examples and how many more."""
    lines = []
    for kind, count in sorted(counts_of(problems).items()):
        lines.append(f"  {kind}: {count}")
        examples = [problem for problem in problems if problem.kind == kind][:max_listed]
        lines += [f"    - {problem}" for problem in examples]
        if count > len(examples):
            lines.append(f"    … and {count - len(examples)} more")
    return lines
