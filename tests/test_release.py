"""The student release (grader/release.py): what students get, and that it works on its own.

- no solution code anywhere in it, no hidden tests, none of the kit's own tests;
- its manifest loads and lists no hidden test; the tarball is the folder, reproducibly;
- inside it, `make check LAB=01` builds and tests the skeleton: the given tests pass, the
  tests that need the reference skip with a reason, and the exit status says points were lost.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import KIT
from grader.manifest import load
from grader.release import RELEASE_NAME, build_release, strip_hidden_tests

CHECK_DEADLINE_S = 600
MIN_LINE = 16        # shorter lines ("return 0;", "}") say nothing about where code came from
RESULT_LINE = re.compile(r"^\s+(OK|FAIL|SKIP)\s+\S+\s+\S+\s+([\w.-]+)\s+(.*)$")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One release of the kit for this file's tests (pytest removes it with old runs)."""
    folder, _ = build_release(KIT, tmp_path_factory.mktemp("release"))
    return folder


def lines_of(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        if path.is_file():
            found |= {line.strip() for line in path.read_text(errors="replace").splitlines()}
    return found


def distinctive_solution_lines() -> dict[str, Path]:
    """Every line of the reference solutions that says "this came from a solution": long
    enough, and found neither in a skeleton nor in the public harness and concept chapters
    (generic idioms such as `address.sin_family = AF_INET;` are there too, by design)."""
    public = lines_of([*KIT.glob("skeletons/*/*"), *KIT.glob("labs/lib/*"),
                       *KIT.glob("docs/**/*.md")])
    lines: dict[str, Path] = {}
    for source in sorted(KIT.glob("solutions/*/*.[ch]")):
        for line in source.read_text().splitlines():
            text = line.strip()
            if len(text) >= MIN_LINE and text not in public:
                lines.setdefault(text, source)
    return lines


def solution_code_in(tree: Path, lines: dict[str, Path]) -> list[str]:
    found = []
    for path in sorted(tree.rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        present = {line.strip() for line in text.splitlines()} & lines.keys()
        if present:
            example = sorted(present)[0]
            found.append(f"{path.relative_to(tree)}: {len(present)} lines of solution code, "
                         f"e.g. {example!r} from {lines[example].relative_to(KIT)}")
    return found


def test_no_solution_code_in_the_release(release: Path) -> None:
    lines = distinctive_solution_lines()
    assert len(lines) > 100, "too few distinctive lines for the check to mean anything"
    # the check finds solution code where it is...
    assert solution_code_in(KIT / "solutions", lines)
    # ...and there is none in the release
    assert solution_code_in(release, lines) == []


def test_the_release_holds_what_students_need_and_nothing_else(release: Path) -> None:
    for needed in ("Makefile", "socklab", "README.md", "grader/cli.py", "labs/labs.toml",
                   "labs/lib/socklab.bash", "labs/lib/session.py",
                   "labs/01-tcp-hello/tests/tcp-hello.bats", "skeletons/01-tcp-hello/server.c",
                   ".github/workflows/classroom.yml", ".devcontainer/devcontainer.json",
                   ".devcontainer/Containerfile"):
        assert (release / needed).is_file(), needed
    assert os.access(release / "socklab", os.X_OK)
    assert os.access(release / "grader" / "install-deps.sh", os.X_OK)
    for absent in ("solutions", "tests", "examples", "release", ".git"):
        assert not (release / absent).exists(), absent
    assert not [p for p in release.rglob("hidden")], "hidden test folders in the release"
    assert not [p for p in release.rglob("*.patch")], "broken implementations in the release"
    assert not [p for p in release.rglob("__pycache__")]
    manifest = load(release)
    assert [lab.name for lab in manifest.labs] == [lab.name for lab in load(KIT).labs]
    assert not [t for lab in manifest.labs for t in lab.tests if t.hidden]
    for lab in manifest.labs:
        assert (release / "skeletons" / lab.name).is_dir()


def fake_kit(root: Path) -> Path:
    (root / "labs" / "01-fake" / "tests").mkdir(parents=True)
    (root / "labs" / "01-fake" / "hidden").mkdir()
    (root / "labs" / "01-fake" / "tests" / "fake.bats").write_text("# public\n")
    (root / "labs" / "01-fake" / "hidden" / "secret.bats").write_text("# SECRET TEST\n")
    (root / "labs" / "labs.toml").write_text(
        '# the manifest\n[[lab]]\nid = "01"\nslug = "fake"\ntitle = "Fake"\n\n'
        '[[lab.test]]\nid = "build"\npoints = 1\nkind = "given"\n\n'
        '# a hidden one\n[[lab.test]]\nid = "secret"\npoints = 3\nhidden = true\n'
        'hints = ["SECRET HINT"]\n\n'
        '[[lab.test]]\nid = "works"\npoints = 2\nhints = ["look [[here]]"]\n')
    for tree, text in (("skeletons", "TODO"), ("solutions", "SOLUTION")):
        (root / tree / "01-fake").mkdir(parents=True)
        (root / tree / "01-fake" / "server.c").write_text(f"/* {text} */\n")
    for name in ("examples/alice/01-fake/server.c", "tests/broken/01-fake/x.patch",
                 "docs/student-guide.md", "grader/__pycache__/x.pyc"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("SOLUTION" if "examples" in name else "x\n")
    (root / "socklab").write_text("#!/bin/sh\n")
    (root / "socklab").chmod(0o755)
    return root


def test_hidden_tests_leave_the_manifest_with_their_hints(tmp_path: Path) -> None:
    kit = fake_kit(tmp_path / "kit")
    folder, tarball = build_release(kit, tmp_path / "out")
    assert folder == tmp_path / "out" / RELEASE_NAME
    manifest = (folder / "labs" / "labs.toml").read_text()
    assert "secret" not in manifest and "SECRET" not in manifest
    assert [t.id for t in load(folder).labs[0].tests] == ["build", "works"]
    assert manifest.startswith("# the manifest\n") and 'hints = ["look [[here]]"]' in manifest
    everything = "".join(p.read_text() for p in folder.rglob("*") if p.is_file())
    assert "SECRET" not in everything and "SOLUTION" not in everything
    assert (folder / "docs" / "student-guide.md").is_file()
    # a manifest without hidden tests is kept byte for byte
    text = (kit / "labs" / "labs.toml").read_text()
    public = text.replace("hidden = true\n", "")
    assert strip_hidden_tests(public) == public


def test_the_tarball_is_the_folder_and_reproducible(tmp_path: Path) -> None:
    kit = fake_kit(tmp_path / "kit")
    _, first = build_release(kit, tmp_path / "one")
    (kit / "socklab").touch()          # a newer time changes nothing
    folder, second = build_release(kit, tmp_path / "two")
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(second) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
        mode = tar.getmember(f"{RELEASE_NAME}/socklab").mode
    assert names == sorted(f"{RELEASE_NAME}/{p.relative_to(folder)}"
                           for p in folder.rglob("*") if p.is_file())
    assert mode == 0o755


def test_make_check_works_in_the_release_and_skips_the_reference(release: Path) -> None:
    lab = load(release).find("01")
    proc = subprocess.run(["make", "--no-print-directory", "check", "LAB=01"], cwd=release,
                          capture_output=True, text=True, timeout=CHECK_DEADLINE_S,
                          env={"PATH": "/usr/local/bin:/usr/bin:/bin", "NO_COLOR": "1",
                               "HOME": os.environ.get("HOME", "/root")})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, "a skeleton loses points: make check must say so\n" + out
    results = {m.group(2): (m.group(1), m.group(3)) for m in map(RESULT_LINE.match,
                                                                   out.splitlines()) if m}
    assert set(results) == {t.id for t in lab.tests}, out
    given = {t.id for t in lab.tests if t.kind == "given"}
    assert {i for i, (status, _) in results.items() if status == "OK"} == given, out
    skipped = {i: why for i, (status, why) in results.items() if status == "SKIP"}
    assert {"ref-client", "ref-server"} <= skipped.keys(), out
    assert all("reference solution is not available" in why for why in skipped.values()), out
    total = re.search(r"Total: (\d+)/(\d+) points", out)
    assert total and int(total.group(1)) == sum(t.points for t in lab.tests if t.id in given)


def test_reset_works_in_the_release_without_git(release: Path, tmp_path: Path) -> None:
    copy = tmp_path / "student"
    shutil.copytree(release, copy)
    server = copy / "skeletons" / "01-tcp-hello" / "server.c"
    original = server.read_bytes()
    server.write_text("/* my attempt */\n")
    reset = subprocess.run([str(copy / "socklab"), "reset", "01", "--yes"], cwd=copy,
                           capture_output=True, text=True, timeout=60)
    assert reset.returncode == 0, reset.stderr
    assert server.read_bytes() == original
    assert [p.read_text() for p in (copy / "build" / "backup").glob("*/server.c")] == \
        ["/* my attempt */\n"]
