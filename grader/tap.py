"""Reads Bats' TAP output (bats --tap --timing) into test results.

Only what Bats itself writes is trusted: the plan, then `ok N` / `not ok N` lines numbered
1, 2, 3... in order. Student programs never write to this stream (the harness closes fd 3 for
them), and a line out of sequence is reported instead of being counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from grader.i18n import _

PLAN = re.compile(r"^1\.\.(\d+)$")
RESULT = re.compile(r"^(not ok|ok) (\d+) (.*?)(?: in (\d+)ms)?(?: # (skip|timeout)\b ?(.*))?$")
TEST_ID = re.compile(r"^\[([\w.-]+)\]\s*(.*)$")
# Lines Bats adds to every failure to say where it happened: not the student's business.
BATS_LOCATION = re.compile(r"^\s*(\(in test file|\(from function|from function|in test file|`)")


class TapError(Exception):
    """The stream is not what Bats writes: a missing plan or results out of sequence."""


@dataclass
class TapResult:
    number: int
    ok: bool
    test_id: str
    title: str
    time_s: float | None = None
    skip: str | None = None        # the reason, when skipped
    timed_out: bool = False
    diagnostics: list[str] = field(default_factory=list)

    @property
    def message(self) -> list[str]:
        """The failure message without Bats' own location lines."""
        lines = [d for d in self.diagnostics if not BATS_LOCATION.match(d)]
        while lines and not lines[0].strip():
            lines.pop(0)
        return lines


@dataclass
class TapRun:
    planned: int
    results: list[TapResult]
    problems: list[str]


class TapReader:
    """Reads Bats' TAP a line at a time, as it arrives. `on_result` hears each result once it
    is complete (its diagnostics read): when Bats' extended TAP says the next test begins
    (grader/bats-stream), when the next result comes, or at the end; in order, each once."""

    def __init__(self, on_result: Callable[[TapResult], None] | None = None) -> None:
        self.planned: int | None = None
        self.results: list[TapResult] = []
        self.problems: list[str] = []
        self.on_result = on_result
        self.completed = 0      # results already passed to on_result

    def _complete(self) -> None:
        """Every result read so far is complete: pass on those not passed yet."""
        while self.completed < len(self.results):
            self.completed += 1
            if self.on_result is not None:
                self.on_result(self.results[self.completed - 1])

    def feed(self, line: str) -> None:
        line = line.rstrip("\n")
        if line.startswith("begin "):   # Bats' extended TAP: the next test starts
            self._complete()
            return
        if self.planned is None and (plan := PLAN.match(line)):
            self.planned = int(plan.group(1))
            return
        if line.startswith("#"):
            if self.results:
                self.results[-1].diagnostics.append(line[2:] if line.startswith("# ")
                                                    else line[1:])
            return
        found = RESULT.match(line)
        if not found:
            return
        verdict, number, title, millis, directive, reason = found.groups()
        if int(number) != len(self.results) + 1:
            self.problems.append(_("result out of sequence ignored: {line}").format(
                line=repr(line)))
            return
        self._complete()
        tagged = TEST_ID.match(title)
        self.results.append(TapResult(
            number=int(number), ok=verdict == "ok",
            test_id=tagged.group(1) if tagged else "",
            title=tagged.group(2) if tagged else title,
            time_s=int(millis) / 1000 if millis else None,
            skip=(reason or _("skipped")) if directive == "skip" else None,
            timed_out=directive == "timeout"))

    def finish(self) -> TapRun:
        self._complete()
        if self.planned is None:
            raise TapError(_("no TAP plan (1..N): the test run did not start"))
        if len(self.results) > self.planned:
            self.problems.append(_("{count} results for a plan of {planned}").format(
                count=len(self.results), planned=self.planned))
        return TapRun(planned=self.planned, results=self.results, problems=self.problems)


def parse(text: str) -> TapRun:
    reader = TapReader()
    for line in text.splitlines():
        reader.feed(line)
    return reader.finish()
