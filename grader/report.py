"""Human and machine reports of a grading run: a table per lab, a total, JSON."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from grader.i18n import _
from grader.results import FAIL, OK, SKIP, LabResult

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


def lab_table(result: LabResult, paint: Painter, details: str) -> list[str]:
    """details: "first" shows the first failure's whole message, "all" every one, "none"."""
    lines = [paint(f"{result.name} — {result.title}", "bold") + "   "
             + _("{points}/{max_points} points").format(points=result.points,
                                                       max_points=result.max_points)]
    width = max((len(t.id) for t in result.tests), default=4)
    shown = 0
    for test in result.tests:
        points = f"{test.points}/{test.max_points}" if test.status != SKIP else "-"
        text = test.title if test.status == OK else test.reason
        lines.append(f"  {paint(f'{test.status:<4}', test.status)} {points:>5} "
                     f"{seconds(test.time_s)}  {test.id:<{width}}  {text}")
        if test.status == FAIL and test.details and (details == "all" or
                                                     (details == "first" and shown == 0)):
            shown += 1
            for detail in test.details[:DETAIL_LINES]:
                lines.append(paint(f"        │ {detail}", "dim"))
            if len(test.details) > DETAIL_LINES:
                lines.append(paint("        │ " + _("... ({count} more lines: --json has them "
                                                  "all)").format(
                    count=len(test.details) - DETAIL_LINES), "dim"))
    for problem in result.problems:
        lines.append(f"  ! {problem}")
    return lines


def text_report(results: list[LabResult], impl: str, elapsed_s: float, details: str,
                stream: TextIO = sys.stdout) -> None:
    paint = Painter(use_colour(stream))
    print("socklab: " + _("testing {impl}").format(impl=impl), file=stream)
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
