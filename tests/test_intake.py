"""One intake (grader/intake.py) for every way of grading: the same submissions, handed to
`socklab grade` and to the Gradescope autograder's run script, get the same scores and the same
errors; a folder and its archives are taken in alike. A tiny fake lab (tests/test_export.py's,
no C) keeps it to seconds."""

from __future__ import annotations

import csv
import json
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from grader.export import export_gradescope
from grader.intake import (MAX_BYTES, MAX_ENTRIES, MAX_NESTING, SubmissionError, not_found,
                           take_in)
from test_batch import run_grade
from test_export import fake_kit, results_of, run_autograder
from test_export import unpack as lay_out

LAB = "01-fake"
FULL = 6                    # build 1 + works 3 + ref 2
WRONG_ANSWER = 3            # build and ref: the answer is not yes
GRADESCOPE_AT_ONCE = 4
STATUS = {"OK": "passed", "FAIL": "failed"}


def write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def answer(folder: Path, where: str = "", text: str = "yes") -> None:
    write(folder / where / LAB / "answer", text + "\n")


def loose(folder: Path) -> None:            # the lab's files themselves, no lab folder
    write(folder / "server.c", "/* the server */\n")
    write(folder / "answer", "yes\n")


def crowded(folder: Path) -> None:
    answer(folder)
    for number in range(MAX_ENTRIES):
        write(folder / "junk" / f"{number}.txt")


def large(folder: Path) -> None:
    answer(folder)
    with open(folder / "video.mp4", "wb") as sink:   # sparse: large, yet nothing written
        sink.truncate(MAX_BYTES + 1)


def linked(folder: Path) -> None:
    answer(folder)
    (folder / LAB / "evil").symlink_to("/etc/passwd")


Maker = Callable[[Path], None]
# name: (what the student's tree holds, how it is handed in, the points or the error's words)
SHAPES: dict[str, tuple[Maker, str, int | str]] = {
    "top": (answer, "", FULL),
    "nested-one": (lambda f: answer(f, "work"), "", FULL),
    "nested-two": (lambda f: answer(f, "repo/skeletons"), "", FULL),
    "nested-three": (lambda f: answer(f, "a/b/c"), "", FULL),
    "too-deep": (lambda f: answer(f, "a/b/c/d"), "",
                 f"no lab folder ({LAB}) found in the submission, at the top or inside at most "
                 f"{MAX_NESTING} folders"),
    "zipped": (lambda f: answer(f, "zipped/skeletons"), ".zip", FULL),
    "tarred": (lambda f: answer(f, text="no"), ".tar.gz", WRONG_ANSWER),
    "loose": (loose, "", FULL),
    "crowded": (crowded, "", f"more than {MAX_ENTRIES} files and folders"),
    "large": (large, "", f"more than {MAX_BYTES >> 20} MiB"),
    "linked": (linked, "", f"link or device, '{LAB}/evil'"),
    "no-lab": (lambda f: write(f / "notes.txt", "forgot the code\n"), "", "no lab folder"),
}


def archive(tree: Path, path: Path) -> Path:
    """`tree` as a .zip or .tar.gz at `path`, links kept as links."""
    items = [(item.relative_to(tree).as_posix(), item) for item in sorted(tree.rglob("*"))]
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path, "w:gz") as tar:
            for name, item in items:
                info = tarfile.TarInfo(name)
                if item.is_symlink():
                    info.type, info.linkname = tarfile.SYMTYPE, str(item.readlink())
                    tar.addfile(info)
                elif item.is_dir():
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                else:
                    info.size = item.stat().st_size
                    with open(item, "rb") as source:
                        tar.addfile(info, source)
        return path
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, item in items:
            if item.is_symlink():                       # as zip -y stores a link
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zipped.writestr(info, str(item.readlink()))
            elif item.is_file():
                zipped.write(item, name)
    return path


def hand_in(shape: str, at: Path, suffix: str | None = None) -> Path:
    """Writes `shape` as a student hands it in at `at`: the folder, or an archive `at`+suffix
    (by default the shape's own way)."""
    make, own, _ = SHAPES[shape]
    suffix = own if suffix is None else suffix
    if not suffix:
        at.mkdir(parents=True, exist_ok=True)
        make(at)
        return at
    at.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        make(Path(scratch))
        return archive(Path(scratch), at.with_name(at.name + suffix))


def lab_files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def taken_in(source: Path, work: Path, names: list[str]) -> Any:
    """What the intake made of `source`: the lab tree's files and the labs not found, or the
    error."""
    try:
        intake = take_in(source, work, names)
    except SubmissionError as error:
        return str(error)
    return lab_files(intake.root), intake.missing


@pytest.mark.parametrize("shape", [name for name, (_, how, _) in SHAPES.items() if not how])
def test_a_folder_and_its_archives_are_taken_in_alike(tmp_path: Path, shape: str) -> None:
    forms = {
        "folder": hand_in(shape, tmp_path / "folder" / shape),
        "zip": hand_in(shape, tmp_path / "zip" / shape, ".zip"),
        "tar.gz": hand_in(shape, tmp_path / "tar" / shape, ".tar.gz"),
        "a folder holding only the zip": tmp_path / "wrapped" / shape,
    }
    (tmp_path / "wrapped" / shape).mkdir(parents=True)
    shutil.copy(forms["zip"], tmp_path / "wrapped" / shape)
    outcomes = {form: taken_in(source, tmp_path / "work" / form, [LAB])
                for form, source in forms.items()}
    assert len({json.dumps(outcome, sort_keys=True) for outcome in outcomes.values()}) == 1, \
        outcomes
    expected = SHAPES[shape][2]
    if isinstance(expected, str):
        assert expected in outcomes["folder"]
    else:
        assert outcomes["folder"][0][f"{LAB}/answer"] == "yes\n"


def test_each_lab_is_found_on_its_own_and_a_missing_one_is_named(tmp_path: Path) -> None:
    answer(tmp_path / "sub", "lab1")
    write(tmp_path / "sub" / "lab2" / "02-fake" / "answer", "no\n")
    files, missing = taken_in(tmp_path / "sub", tmp_path / "work", [LAB, "02-fake", "03-fake"])
    assert files == {f"{LAB}/answer": "yes\n", "02-fake/answer": "no\n"}
    assert missing == {"03-fake": not_found("03-fake")}
    # loose files stand for a lab only when one lab is graded
    loose(tmp_path / "loose")
    assert "no lab folder (01-fake, ...)" in taken_in(tmp_path / "loose", tmp_path / "work",
                                                      [LAB, "02-fake"])


def test_grade_and_gradescope_take_the_same_submissions_alike(tmp_path: Path) -> None:
    kit = fake_kit(tmp_path / "kit")
    subs = tmp_path / "subs"
    for shape in SHAPES:
        hand_in(shape, subs / shape)
    proc = run_grade(kit, subs, tmp_path / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "gradebook.csv",
                                                         newline=""))}
    assert sorted(rows) == sorted(SHAPES)

    zip_path = export_gradescope(kit, tmp_path / "autograder.zip")
    roots = {}
    for shape, (_, how, _) in SHAPES.items():
        roots[shape] = lay_out(zip_path, tmp_path / "gradescope" / shape)
        hand_in(shape, roots[shape] / "submission" / (shape if how else ""))
    with ThreadPoolExecutor(max_workers=GRADESCOPE_AT_ONCE) as pool:
        graded = dict(zip(roots, pool.map(lambda r: results_of(r, run_autograder(r)),
                                          roots.values())))

    for shape, (_, _, expected) in SHAPES.items():
        row, gradescope = rows[shape], graded[shape]
        student = json.loads((tmp_path / "out" / "students" / f"{shape}.json").read_text())
        statuses = [STATUS[t["status"]] for t in student["labs"][0]["tests"]]
        assert (int(row[LAB]), statuses) == (
            gradescope["score"], [t["status"] for t in gradescope["tests"]]), shape
        if isinstance(expected, str):           # refused whole, with the same words
            assert expected in row["notes"] and int(row[LAB]) == 0, (shape, row)
            assert f"{LAB}: {row['notes']}" in gradescope["output"], (shape, gradescope)
            assert all(row["notes"] in t["output"] for t in gradescope["tests"]), shape
        else:
            assert (int(row[LAB]), row["notes"]) == (expected, ""), (shape, row)
