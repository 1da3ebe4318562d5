"""Human and machine reports of a grading run: a table per lab, a total, JSON."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from grader.i18n import _
from grader.manifest import Lab
from grader.results import FAIL, OK, SKIP, LabResult, TestResult

COLOURS = {OK: "32", FAIL: "31", SKIP: "33", "bold": "1", "dim": "2"}
DETAIL_LINES = 40        # lines of a failure message shown in full


def use_colour(stream: TextIO) -> bool:
    """Colour only for a person at a terminal; plain, stable text in pipes, files and CI."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


class Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, style: str) -> str:
        return f"\033[{COLOURS[style]}m{text}\033[0m" if self.enabled else text


def percent(points: int, max_points: int) -> str:
    return f"{100 * points // max_points}%" if max_points else "-"


def seconds(value: float | None) -> str:
    return f"{value:5.1f}s" if value is not None else "    - "


def lab_heading(name: str, title: str, paint: Painter) -> str:
    return paint(f"{name} — {title}", "bold")


def points_text(points: int, max_points: int) -> str:
    return _("{points}/{max_points} points").format(points=points, max_points=max_points)


def test_row(test: TestResult, paint: Painter, width: int) -> str:
    """One test's line of a lab's table: status, points, time, id, title or why it failed."""
    points = f"{test.points}/{test.max_points}" if test.status != SKIP else "-"
    text = test.title if test.status == OK else test.reason
    return (f"  {paint(f'{test.status:<4}', test.status)} {points:>5} "
            f"{seconds(test.time_s)}  {test.id:<{width}}  {text}")


def failure_lines(test: TestResult, paint: Painter) -> list[str]:
    """A failed test's whole message, under its row."""
    lines = [paint(f"        │ {detail}", "dim") for detail in test.details[:DETAIL_LINES]]
    if len(test.details) > DETAIL_LINES:
        lines.append(paint("        │ " + _("... ({count} more lines: --json has them "
                                          "all)").format(
            count=len(test.details) - DETAIL_LINES), "dim"))
    return lines


class FailureShown:
    """Which failures get their whole message: details "first" (the first failure only),
    "all" or "none"."""

    def __init__(self, details: str) -> None:
        self.details = details
        self.shown = 0

    def __call__(self, test: TestResult) -> bool:
        wanted = test.status == FAIL and bool(test.details) and (
            self.details == "all" or (self.details == "first" and self.shown == 0))
        self.shown += wanted
        return wanted


def lab_table(result: LabResult, paint: Painter, details: str) -> list[str]:
    """details: "first" shows the first failure's whole message, "all" every one, "none"."""
    lines = [lab_heading(result.name, result.title, paint) + "   "
             + points_text(result.points, result.max_points)]
    width = max((len(t.id) for t in result.tests), default=4)
    show = FailureShown(details)
    for test in result.tests:
        lines.append(test_row(test, paint, width))
        if show(test):
            lines += failure_lines(test, paint)
    for problem in result.problems:
        lines.append(f"  ! {problem}")
    return lines


class LiveReport:
    """Results as they come, from the threads that run the labs. One lab: each test's row as
    soon as it is known, the first failure in full under it (the table, streamed); then
    text_report(streamed=True) adds the lab's points and the total. Several labs: on a
    terminal, one progress line that rewrites itself (stderr); in a pipe, nothing more than
    the tables at the end, so that logs stay stable."""

    def __init__(self, labs: list[Lab], stream: TextIO, details: str,
                 progress: TextIO = sys.stderr) -> None:
        self.single = len(labs) == 1
        self.stream = stream
        self.paint = Painter(use_colour(stream))
        self.width = max((len(t.id) for lab in labs for t in lab.tests), default=4)
        self.show = FailureShown(details)
        self.progress = progress if progress.isatty() and not self.single else None
        self.total = sum(len(lab.tests) for lab in labs)
        self.done = 0
        self.lock = threading.Lock()
        if self.single:
            print(file=stream)
            print(lab_heading(labs[0].name, _(labs[0].title), self.paint), file=stream,
                  flush=True)

    def test_done(self, lab: Lab, test: TestResult) -> None:
        with self.lock:
            self.done += 1
            if self.single:
                lines = [test_row(test, self.paint, self.width)]
                if self.show(test):
                    lines += failure_lines(test, self.paint)
                print("\n".join(lines), file=self.stream, flush=True)
            elif self.progress is not None:
                self.progress.write(f"\r\033[K[{self.done}/{self.total}] {lab.name} "
                                    f"{test.status} {test.id}")
                self.progress.flush()

    def close(self) -> None:
        if self.progress is not None:
            self.progress.write("\r\033[K")
            self.progress.flush()


def report_start(impl: str, stream: TextIO = sys.stdout) -> None:
    print("socklab: " + _("testing {impl}").format(impl=impl), file=stream, flush=True)


def text_report(results: list[LabResult], impl: str, elapsed_s: float, details: str,
                stream: TextIO = sys.stdout, streamed: bool = False) -> None:
    """The tables and the total. `streamed`: a LiveReport has already shown the first line
    and the one lab's rows; only the lab's points, its problems and the total remain."""
    paint = Painter(use_colour(stream))
    if streamed:
        for result in results:
            print(lab_heading(result.name, result.title, paint) + "   "
                  + points_text(result.points, result.max_points), file=stream)
            for problem in result.problems:
                print(f"  ! {problem}", file=stream)
    else:
        report_start(impl, stream)
        for result in results:
            print(file=stream)
            print("\n".join(lab_table(result, paint, details)), file=stream)
    points = sum(r.points for r in results)
    max_points = sum(r.max_points for r in results)
    tests = [t for r in results for t in r.tests]
    failed = sum(t.status == FAIL for t in tests)
    skipped = sum(t.status == SKIP for t in tests)
    print(file=stream)
    total = _("Total: {points}/{max_points} points ({percent}) in {seconds:.1f} s — "
              "{passed} passed, {failed} failed").format(
        points=points, max_points=max_points, percent=percent(points, max_points),
        seconds=elapsed_s, passed=len(tests) - failed - skipped, failed=failed)
    if skipped:
        total += _(", {skipped} skipped").format(skipped=skipped)
    print(paint(total, OK if failed == 0 else FAIL), file=stream)


def to_json(results: list[LabResult], impl: str, elapsed_s: float) -> dict[str, Any]:
    return {
        "impl": impl,
        "points": sum(r.points for r in results),
        "max_points": sum(r.max_points for r in results),
        "time_s": round(elapsed_s, 3),
        "labs": [r.to_dict() for r in results],
    }


def write_json(path: Path, results: list[LabResult], impl: str, elapsed_s: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(results, impl, elapsed_s), indent=2,
                               ensure_ascii=False) + "\n", encoding="utf-8")
