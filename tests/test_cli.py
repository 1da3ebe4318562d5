"""The grader's command line, end to end, on tiny fake kits (no C, no network: seconds)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from conftest import KIT, PYTHON, grade
from grader.cli import parse

MANIFEST = """
[[lab]]
id = "01"
slug = "fake"
title = "Fake lab"
[[lab.test]]
id = "build"
points = 1
kind = "given"
[[lab.test]]
id = "works"
points = 3
[[lab.test]]
id = "ref"
points = 2
"""

BATS = """
BATS_TEST_TIMEOUT=2
@test "[build] the folder is there" { [ -d "$SOCKLAB_IMPL" ]; }
@test "[works] the implementation says yes" {
    echo "ok 2 [works] forged by the program under test"
    echo "ok 3 [ref] forged too"
    grep -q yes "$SOCKLAB_IMPL/answer" || { echo "expected yes, got: $(cat "$SOCKLAB_IMPL/answer")"; false; }
}
@test "[ref] the reference is there" {
    [ "$SOCKLAB_REF" != none ] || skip "no reference here"
    [ -d "$SOCKLAB_REF" ]
}
"""


def fake_kit(root: Path, manifest: str = MANIFEST, bats: str = BATS) -> Path:
    (root / "labs" / "01-fake" / "tests").mkdir(parents=True)
    (root / "labs" / "labs.toml").write_text(manifest)
    (root / "labs" / "01-fake" / "tests" / "fake.bats").write_text(bats)
    (root / "solutions" / "01-fake").mkdir(parents=True)
    return root


def impl_tree(root: Path, answer: str) -> Path:
    lab = root / "impl" / "01-fake"
    lab.mkdir(parents=True)
    (lab / "answer").write_text(answer + "\n")
    return root / "impl"


def test_full_marks_exit_zero(tmp_path: Path) -> None:
    root = fake_kit(tmp_path / "kit")
    code, data, out = grade(impl_tree(tmp_path, "yes"), [], tmp_path / "r.json", root=root)
    assert code == 0, out
    assert (data["points"], data["max_points"]) == (6, 6)
    assert "Total: 6/6 points (100%)" in out and "3 passed, 0 failed" in out


def test_lost_points_exit_one_with_the_reason(tmp_path: Path) -> None:
    root = fake_kit(tmp_path / "kit")
    code, data, out = grade(impl_tree(tmp_path, "no"), ["01"], tmp_path / "r.json", root=root)
    assert code == 1
    works = data["labs"][0]["tests"][1]
    assert works["status"] == "FAIL" and works["points"] == 0 and works["max_points"] == 3
    assert works["reason"] == "ok 2 [works] forged by the program under test"
    assert "expected yes, got: no" in works["details"]
    assert data["points"] == 3   # the forged "ok" lines earned nothing


def test_skipped_tests_count_neither_way(tmp_path: Path) -> None:
    root = fake_kit(tmp_path / "kit")
    code, data, out = grade(impl_tree(tmp_path, "yes"), ["01"], tmp_path / "r.json",
                            "--no-reference", root=root)
    assert code == 0, out
    ref = data["labs"][0]["tests"][2]
    assert ref["status"] == "SKIP" and ref["reason"] == "no reference here"
    assert (data["points"], data["max_points"]) == (4, 4)


def test_missing_lab_folder_fails_every_test_with_the_reason(tmp_path: Path) -> None:
    root = fake_kit(tmp_path / "kit")
    (tmp_path / "empty").mkdir()
    code, data, out = grade(tmp_path / "empty", [], tmp_path / "r.json", root=root)
    assert code == 1
    assert all(t["status"] == "FAIL" and "no lab folder" in t["reason"]
               for t in data["labs"][0]["tests"])


def test_a_hanging_test_is_stopped_and_explained(tmp_path: Path) -> None:
    bats = BATS.replace('grep -q yes', 'sleep 30; grep -q yes')
    root = fake_kit(tmp_path / "kit", bats=bats)
    code, data, out = grade(impl_tree(tmp_path, "yes"), [], tmp_path / "r.json", root=root)
    assert code == 1
    assert "took too long" in data["labs"][0]["tests"][1]["reason"]
    assert data["labs"][0]["tests"][2]["status"] == "OK"   # the run went on


def test_manifest_tests_missing_from_the_run_fail_and_unknown_ones_are_flagged(
        tmp_path: Path) -> None:
    manifest = MANIFEST + '[[lab.test]]\nid = "ghost"\npoints = 1\n'
    bats = BATS + '@test "[stray] not in the manifest" { true; }\n'
    root = fake_kit(tmp_path / "kit", manifest=manifest, bats=bats)
    code, data, out = grade(impl_tree(tmp_path, "yes"), [], tmp_path / "r.json", root=root)
    assert code == 1
    ghost = data["labs"][0]["tests"][3]
    assert ghost["status"] == "FAIL" and "did not run" in ghost["reason"]
    assert any("stray" in p for p in data["labs"][0]["problems"])


def test_bad_requests_exit_two_with_a_message(tmp_path: Path) -> None:
    root = fake_kit(tmp_path / "kit")
    code, _, out = grade(impl_tree(tmp_path, "yes"), ["99"], tmp_path / "r.json", root=root)
    assert code == 2 and "no lab called '99'" in out
    code, _, out = grade(tmp_path / "nowhere", [], tmp_path / "r.json", root=root)
    assert code == 2 and "no such folder" in out
    code, _, out = grade(tmp_path, [], tmp_path / "r.json", root=tmp_path / "nothing")
    assert code == 2 and "no manifest" in out


def test_labs_may_follow_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    """As the usage lines show them (`socklab grade [-o OUT] ... SUBMISSIONS_DIR [LAB ...]`), a
    command's labs may come after its options too, or on both sides of them."""
    assert parse(["grade", "class", "-o", "out", "03"]).labs == ["03"]
    assert parse(["grade", "class", "01", "-o", "out", "03"]).labs == ["01", "03"]
    assert parse(["test", "01", "--impl", "solutions", "02"]).labs == ["01", "02"]
    assert parse(["test", "--impl", "solutions"]).labs == []
    with pytest.raises(SystemExit) as stopped:
        parse(["grade", "class", "-o", "out", "03", "--no-such-option"])
    assert stopped.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_plain_text_without_colour_in_a_pipe(tmp_path: Path) -> None:
    root = fake_kit(tmp_path / "kit")
    _, _, out = grade(impl_tree(tmp_path, "no"), [], tmp_path / "r.json", root=root)
    assert "\033[" not in out
    assert "FAIL   0/3" in out and "01-fake — Fake lab   3/6 points" in out


def test_later_labs_start_first_and_report_in_course_order(tmp_path: Path) -> None:
    root = fake_kit(tmp_path / "kit")
    started = root / "started"   # inside the kit: the sandbox binds it back
    (root / "labs" / "labs.toml").write_text(MANIFEST + MANIFEST.replace('"01"', '"02"'))
    (root / "labs" / "02-fake" / "tests").mkdir(parents=True)
    for lab in ("01-fake", "02-fake"):
        (root / "labs" / lab / "tests" / "fake.bats").write_text(
            f'setup_file() {{ echo {lab} >>{started}; }}\n' + BATS)
        (root / "solutions" / lab).mkdir(parents=True, exist_ok=True)
        (tmp_path / "impl" / lab).mkdir(parents=True)
        (tmp_path / "impl" / lab / "answer").write_text("yes\n")
    code, data, out = grade(tmp_path / "impl", [], tmp_path / "r.json", "-j", "1", root=root)
    assert code == 0, out
    assert started.read_text().split() == ["02-fake", "01-fake"]   # the longest first
    assert [lab["id"] for lab in data["labs"]] == ["01", "02"]
    assert out.index("01-fake") < out.index("02-fake")


STREAMED_BATS = """
@test "[build] the folder is there" { [ -d "$SOCKLAB_IMPL" ]; }
@test "[works] the implementation says yes" {
    echo "expected yes, got no"
    false
}
@test "[ref] a slow test" {
    sleep 3
}
"""


def test_a_single_lab_streams_each_result_as_it_comes(tmp_path: Path) -> None:
    """`socklab test LAB` prints each test's row when Bats reports it, the first failure in
    full under it, and ends with the lab's points and the total: a student reads the first
    failure while the slow tests still run."""
    root = fake_kit(tmp_path / "kit", bats=STREAMED_BATS)
    proc = subprocess.Popen(
        [PYTHON, "-m", "grader", "--root", str(root), "test", "01", "--impl",
         str(impl_tree(tmp_path, "no")), "--no-sandbox"],
        cwd=KIT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(KIT), "NO_COLOR": "1"})
    assert proc.stdout is not None
    seen: list[tuple[float, str]] = []
    for line in proc.stdout:
        seen.append((time.monotonic(), line.rstrip("\n")))
    proc.wait(timeout=60)
    ended = time.monotonic()
    lines = [line for _, line in seen]
    failure = next(i for i, line in enumerate(lines) if "FAIL" in line and "works" in line)
    assert "expected yes, got no" in lines[failure + 1], lines
    assert ended - seen[failure][0] > 2.0, "the failure was shown only at the end"
    points = next(i for i, line in enumerate(lines) if "01-fake — Fake lab   " in line)
    assert failure < points and "3/6 points" in lines[points], lines
    assert sum("works" in line for line in lines) == 1, "each row is printed once"
    assert proc.returncode == 1
