"""Grading a class: submissions, archives, the gradebook and the per-student outputs."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import socklab
from grader.intake import SubmissionError, discover, take_in
from test_cli import MANIFEST, fake_kit

LABS = ["01-fake"]
HIDDEN_MANIFEST = MANIFEST + '[[lab.test]]\nid = "secret"\npoints = 5\nhidden = true\n'
HIDDEN_BATS = '@test "[secret] the hidden check" { echo "the secret reason"; false; }\n'


def make_class(root: Path) -> Path:
    """alice answers yes, bob no, carol's folder has no lab, dave hands in a tarball."""
    subs = root / "subs"
    for name, answer in (("alice", "yes"), ("bob", "no")):
        (subs / name / "01-fake").mkdir(parents=True)
        (subs / name / "01-fake" / "answer").write_text(answer + "\n")
    (subs / "carol").mkdir()
    (subs / "carol" / "notes.txt").write_text("forgot the code\n")
    data = b"yes\n"
    with tarfile.open(subs / "dave.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("dave/skeletons/01-fake/answer")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return subs


def run_grade(kit: Path, subs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return socklab("grade", str(subs), "-o", str(out), *extra, root=kit, timeout=300)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, str]:
    root = tmp_path_factory.mktemp("class")
    kit = fake_kit(root / "kit", manifest=HIDDEN_MANIFEST)
    (kit / "labs" / "01-fake" / "hidden").mkdir()
    (kit / "labs" / "01-fake" / "hidden" / "secret.bats").write_text(HIDDEN_BATS)
    subs = make_class(root)
    proc = run_grade(kit, subs, root / "out", "--hidden")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return kit, subs, root / "out", proc.stdout


def test_gradebook_has_a_row_per_student_with_reasons(graded: tuple[Path, Path, Path, str]
                                                     ) -> None:
    _, _, out, stdout = graded
    rows = list(csv.DictReader(open(out / "gradebook.csv", newline="")))
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "dave"]
    assert [r["01-fake"] for r in rows] == ["6", "3", "0", "6"]
    assert {r["max"] for r in rows} == {"11"}
    assert "no lab folder" in rows[2]["notes"]
    assert "alice" in stdout and "report:" in stdout


def test_hidden_tests_run_but_their_reasons_are_withheld(graded: tuple[Path, Path, Path, str]
                                                         ) -> None:
    _, _, out, _ = graded
    alice = json.loads((out / "students" / "alice.json").read_text())
    secret = alice["labs"][0]["tests"][-1]
    assert secret["id"] == "secret" and secret["status"] == "FAIL" and secret["hidden"]
    assert "secret reason" not in json.dumps(alice)
    assert "secret reason" not in (out / "class.json").read_text()


def test_junit_xml_per_student(graded: tuple[Path, Path, Path, str]) -> None:
    _, _, out, _ = graded
    suite = ElementTree.parse(out / "junit" / "bob.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "2" and suite.get("tests") == "4"
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("message")


def test_grading_twice_gives_identical_gradebooks(graded: tuple[Path, Path, Path, str],
                                                  tmp_path: Path) -> None:
    kit, subs, out, _ = graded
    again = run_grade(kit, subs, tmp_path / "again", "--hidden")
    assert again.returncode == 0
    assert (tmp_path / "again" / "gradebook.csv").read_bytes() == \
        (out / "gradebook.csv").read_bytes()


def test_without_hidden_flag_hidden_tests_are_not_scored(graded: tuple[Path, Path, Path, str],
                                                         tmp_path: Path) -> None:
    kit, subs, _, _ = graded
    assert run_grade(kit, subs, tmp_path / "plain").returncode == 0
    rows = list(csv.DictReader(open(tmp_path / "plain" / "gradebook.csv", newline="")))
    assert rows[0]["max"] == "6"


def test_missing_submissions_folder_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_grade(fake_kit(tmp_path / "kit"), tmp_path / "nowhere", tmp_path / "out")
    assert proc.returncode == 2 and "no such folder" in proc.stderr


# --- archives -------------------------------------------------------------------------------

def tar_with(path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(member, io.BytesIO(data) if data else None)
    return path


@pytest.mark.parametrize("make, complaint", [
    (lambda p: tar_with(p / "x.tar.gz", tarfile.TarInfo("../escape"), b""), "outside"),
    (lambda p: tar_with(p / "x.tar.gz", tarfile.TarInfo("/etc/evil"), b""), "outside"),
    (lambda p: tar_with(p / "x.tar.gz", _link("01-fake/answer", "/etc/passwd")), "link"),
    (lambda p: _zip(p / "x.zip", "../../escape", b"x"), "outside"),
    (lambda p: (p / "x.zip").write_bytes(b"not a zip") and p / "x.zip", "cannot be read"),
])
def test_hostile_archives_are_refused(tmp_path: Path, make, complaint: str) -> None:  # type: ignore[no-untyped-def]
    archive = make(tmp_path)
    with pytest.raises(SubmissionError, match=complaint):
        take_in(archive, tmp_path / "work", LABS)
    assert not (tmp_path / "escape").exists()


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


def _zip(path: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr(name, data)
    return path


def test_zip_with_a_nested_folder_is_found(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "erin.zip", "erin-final/skeletons/01-fake/answer", b"yes\n")
    root = take_in(archive, tmp_path / "work", LABS).root
    assert (root / "01-fake" / "answer").read_text() == "yes\n"


def test_student_names_are_safe_and_unique(tmp_path: Path) -> None:
    (tmp_path / "Kim Min-su").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "notes.txt").write_text("")
    assert [s.student for s in discover(tmp_path)] == ["Kim_Min-su"]
    _zip(tmp_path / "Kim Min-su.zip", "a", b"")
    with pytest.raises(SubmissionError, match="two submissions"):
        discover(tmp_path)
