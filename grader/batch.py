"""Grading a whole class: every student × lab in parallel, then the gradebook and reports.

Output folder:
    gradebook.csv         one row a student, one column a lab, the total (for spreadsheets/LMS)
    class.json            everything, for the HTML report and other tools
    students/NAME.json    one student's results: every test with points, status, reason
    junit/NAME.xml        one student's results as JUnit XML (for CI systems)
    report.html           one self-contained page for the instructor
"""

from __future__ import annotations

import csv
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO
from xml.etree import ElementTree

from grader.i18n import N_, _
from grader.manifest import Lab, Manifest
from grader.results import LabResult, failed_everything
from grader.runner import RunConfig, longest_first, run_lab, sandboxed
from grader.intake import Intake, SubmissionError, discover, take_in

WITHHELD = N_("details withheld (hidden test)")


@dataclass
class StudentResult:
    student: str
    labs: list[LabResult] = field(default_factory=list)
    error: str = ""               # the submission could not be graded at all
    notes: list[str] = field(default_factory=list)   # labs not found in it, with the reason

    @property
    def points(self) -> int:
        return sum(lab.points for lab in self.labs)

    def to_dict(self, manifest_labs: list[Lab], show_hidden: bool) -> dict[str, Any]:
        labs = [withhold_hidden(lab.to_dict(), manifest_labs, show_hidden) for lab in self.labs]
        return {
            "student": self.student,
            "status": "error" if self.error else "graded",
            "error": self.error,
            "notes": self.notes,
            "points": self.points,
            "max_points": sum(lab.max_points for lab in manifest_labs),
            "labs": labs,
        }


def withhold_hidden(lab: dict[str, Any], labs: list[Lab], show: bool) -> dict[str, Any]:
    """Hidden tests keep their status and points; their reasons stay with the instructor."""
    spec = next(m for m in labs if m.name == lab["name"])
    for test in lab["tests"]:
        found = spec.test(test["id"])
        test["hidden"] = bool(found and found.hidden)
        if test["hidden"] and not show:
            test["reason"] = _(WITHHELD) if test["status"] != "OK" else ""
            test["details"] = []
    return lab


class Progress:
    """students done / total, elapsed, estimate — redrawn in place, on a terminal only."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.started = time.monotonic()
        self.enabled = stream.isatty()

    def advance(self) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done)
        width = 30
        filled = width * self.done // max(self.total, 1)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] " + _(
            "{done}/{total} students · {elapsed:5.0f} s elapsed · ~{left:4.0f} s left ").format(
            done=self.done, total=self.total, elapsed=elapsed, left=left))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def grade_class(manifest: Manifest, labs: list[Lab], submissions: Path, work: Path,
                config: RunConfig, jobs: int,
                sandbox: bool = True) -> tuple[list[StudentResult], list[str]]:
    """Grades every student on `labs` (as scored: with or without their hidden tests), each
    in a sandbox of its own; each submission is taken in under `work` (grader/intake.py).
    Returns the results and the sandbox's warnings."""
    students = discover(submissions)
    results = {s.student: StudentResult(s.student) for s in students}
    intakes: dict[str, Intake] = {}
    for submission in students:
        try:
            intakes[submission.student] = take_in(submission.source, work / submission.student,
                                                  [lab.name for lab in labs])
        except SubmissionError as error:
            results[submission.student].error = str(error)
    runs: dict[str, list[Lab]] = {}
    for name, intake in intakes.items():
        runs[name], not_found = intake.split(labs)
        results[name].labs += not_found
        results[name].notes += [f"{lab.name}: {intake.missing[lab.name]}" for lab in not_found]
    pending = {name: len(chosen) for name, chosen in runs.items()}
    progress = Progress(len(students))
    for name in results:
        if name not in intakes:
            progress.advance()
    configs, warnings = {}, []
    for name, intake in intakes.items():   # one plan a student: each gets a user of its own
        configs[name], said = sandboxed(replace(config, impl_root=intake.root), manifest.root,
                                        sandbox)
        warnings += said
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        # student by student (the progress line counts finished students), each student's
        # longest labs first (the run ends on short ones)
        futures = {pool.submit(run_lab, manifest, lab, configs[name]): (name, lab)
                   for name, chosen in runs.items() for lab in longest_first(chosen)}
        for future in as_completed(futures):
            name, lab = futures[future]
            try:
                lab_result = future.result()
            except Exception as error:   # one student's run must never stop the class
                lab_result = failed_everything(
                    lab, _("the grader failed on this lab: {error}").format(error=error))
            results[name].labs.append(lab_result)
            pending[name] -= 1
            if pending[name] == 0:
                progress.advance()
    progress.close()
    order = {lab.name: i for i, lab in enumerate(labs)}
    for result in results.values():
        result.labs.sort(key=lambda lab: order[lab.name])
        if result.error:
            result.labs = [failed_everything(lab, result.error) for lab in labs]
    return [results[name] for name in sorted(results)], warnings


# --- outputs --------------------------------------------------------------------------------

def write_gradebook(path: Path, results: list[StudentResult], labs: list[Lab]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(["student", *(lab.name for lab in labs), "total", "max", "notes"])
        maximum = sum(lab.max_points for lab in labs)
        for result in results:
            points = {lab.name: lab.points for lab in result.labs}
            writer.writerow([result.student, *(points.get(lab.name, 0) for lab in labs),
                             result.points, maximum, result.error or "; ".join(result.notes)])


def junit_xml(student: dict[str, Any]) -> bytes:
    suites = ElementTree.Element("testsuites", name=f"socklab {student['student']}")
    for lab in student["labs"]:
        tests = lab["tests"]
        suite = ElementTree.SubElement(
            suites, "testsuite", name=lab["name"], tests=str(len(tests)),
            failures=str(sum(t["status"] == "FAIL" for t in tests)),
            skipped=str(sum(t["status"] == "SKIP" for t in tests)),
            time=f"{lab['time_s']:.3f}")
        for test in tests:
            case = ElementTree.SubElement(
                suite, "testcase", classname=lab["name"], name=f"[{test['id']}] {test['title']}",
                time=f"{test['time_s'] or 0:.3f}")
            if test["status"] == "FAIL":
                failure = ElementTree.SubElement(case, "failure", message=test["reason"])
                failure.text = "\n".join(test["details"])
            elif test["status"] == "SKIP":
                ElementTree.SubElement(case, "skipped", message=test["reason"])
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)


def class_data(results: list[StudentResult], labs: list[Lab],
               show_hidden: bool) -> dict[str, Any]:
    return {
        "kit": "socklab",
        "labs": [{"name": lab.name, "title": _(lab.title), "max_points": lab.max_points,
                  "tests": [{"id": t.id, "max_points": t.points, "hidden": t.hidden}
                            for t in lab.tests]} for lab in labs],
        "students": [r.to_dict(labs, show_hidden) for r in results],
        "show_hidden_details": show_hidden,
    }


def write_outputs(out: Path, results: list[StudentResult], labs: list[Lab],
                  show_hidden: bool) -> dict[str, Any]:
    data = class_data(results, labs, show_hidden)
    out.mkdir(parents=True, exist_ok=True)
    write_gradebook(out / "gradebook.csv", results, labs)
    (out / "students").mkdir(exist_ok=True)
    (out / "junit").mkdir(exist_ok=True)
    for student in data["students"]:
        name = student["student"]
        (out / "students" / f"{name}.json").write_text(
            json.dumps(student, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (out / "junit" / f"{name}.xml").write_bytes(junit_xml(student))
    (out / "class.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    return data


def write_html(out: Path, data: dict[str, Any]) -> Path | None:
    """report.html, when the HTML report module is part of this kit."""
    try:
        from grader.html_report import write_report
    except ImportError:
        return None
    return write_report(out, data)


def print_gradebook(path: Path, stream: TextIO = sys.stdout) -> None:
    """The gradebook as an aligned table."""
    with open(path, newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) if i == 0 else cell.rjust(width)
                 for i, (cell, width) in enumerate(zip(row, widths))]
        print("  ".join(cells) + (f"  {row[-1]}" if row[-1] else ""), file=stream)
