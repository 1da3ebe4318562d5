"""Reads Bats' TAP output (bats --tap --timing) into test results.

Only what Bats itself writes is trusted: the plan, then `ok N` / `not ok N` lines numbered
1, 2, 3... in order. Student programs never write to this stream (the harness closes fd 3 for
them), and a line out of sequence is reported instead of being counted.
"""

from __future__ import annotations

import re
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


def parse(text: str) -> TapRun:
    planned: int | None = None
    results: list[TapResult] = []
    problems: list[str] = []
    for line in text.splitlines():
        if planned is None and (plan := PLAN.match(line)):
            planned = int(plan.group(1))
            continue
        if line.startswith("#"):
            if results:
                results[-1].diagnostics.append(line[2:] if line.startswith("# ") else line[1:])
            continue
        found = RESULT.match(line)
        if not found:
            continue
        verdict, number, title, millis, directive, reason = found.groups()
        if int(number) != len(results) + 1:
            problems.append(_("result out of sequence ignored: {line}").format(line=repr(line)))
            continue
        tagged = TEST_ID.match(title)
        results.append(TapResult(
            number=int(number), ok=verdict == "ok",
            test_id=tagged.group(1) if tagged else "",
            title=tagged.group(2) if tagged else title,
            time_s=int(millis) / 1000 if millis else None,
            skip=(reason or _("skipped")) if directive == "skip" else None,
            timed_out=directive == "timeout"))
    if planned is None:
        raise TapError(_("no TAP plan (1..N): the test run did not start"))
    if len(results) > planned:
        problems.append(_("{count} results for a plan of {planned}").format(
            count=len(results), planned=planned))
    return TapRun(planned=planned, results=results, problems=problems)
