"""The course manifest, and its agreement with the labs' Bats files."""

import re
from pathlib import Path

import pytest

from grader.manifest import ManifestError, load

TEST_TITLE = re.compile(r'^@test "\[([\w.-]+)\]', re.MULTILINE)
PROGRAMS_LINE = re.compile(r"^PROGRAMS=\(([^)]*)\)", re.MULTILINE)


def write_manifest(root: Path, text: str) -> Path:
    (root / "labs").mkdir(parents=True, exist_ok=True)
    (root / "labs" / "labs.toml").write_text(text)
    return root


def test_loads_labs_in_order_with_points(tmp_path: Path) -> None:
    root = write_manifest(tmp_path, """
[[lab]]
id = "01"
slug = "one"
title = "One"
[[lab.test]]
id = "a"
points = 2
kind = "given"
hints = ["h1", "h2"]
[[lab.test]]
id = "b"
points = 3
[[lab]]
id = "02"
slug = "two"
title = "Two"
""")
    manifest = load(root)
    assert [lab.name for lab in manifest.labs] == ["01-one", "02-two"]
    one = manifest.labs[0]
    assert one.max_points == 5
    assert one.test("a") is not None and one.test("a").hints == ("h1", "h2")  # type: ignore
    assert one.test("b").kind == "functional"  # type: ignore[union-attr]
    assert manifest.find("1") is one and manifest.find("one") is one
    assert manifest.find("01-one") is one


@pytest.mark.parametrize("text, complaint", [
    ("", "lists no lab"),
    ("[[lab]]\nid = '01'\nslug = 'x'\n", "missing title"),
    ("[[lab]]\nid='01'\nslug='x'\ntitle='X'\n[[lab.test]]\nid='a'\npoints=-1\n", "points"),
    ("[[lab]]\nid='01'\nslug='x'\ntitle='X'\n[[lab.test]]\nid='a'\npoints=1\nkind='odd'\n",
     "kind"),
    ("[[lab]]\nid='01'\nslug='x'\ntitle='X'\n[[lab.test]]\nid='a'\npoints=1\n"
     "[[lab.test]]\nid='a'\npoints=1\n", "used twice"),
    ("[[lab]\n", "labs.toml"),
    ("[[lab]]\nid='01'\nslug='x'\ntitle='X'\nprograms=['server', 'peer']\n", "programs"),
    ("[[lab]]\nid='01'\nslug='x'\ntitle='X'\nprograms=[]\n", "programs"),
])
def test_rejects_a_bad_manifest_with_a_clear_message(tmp_path: Path, text: str,
                                                      complaint: str) -> None:
    with pytest.raises(ManifestError, match=complaint):
        load(write_manifest(tmp_path, text))


def test_missing_manifest_says_so(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no manifest"):
        load(tmp_path)


def test_unknown_lab_lists_the_known_ones(kit: Path) -> None:
    with pytest.raises(ManifestError, match="01-tcp-hello"):
        load(kit).find("99")


def test_every_bats_test_is_in_the_manifest_and_back(kit: Path) -> None:
    manifest = load(kit)
    for lab in manifest.labs:
        files = sorted((kit / "labs" / lab.name / "tests").glob("*.bats"))
        assert files, f"{lab.name} has no tests"
        hidden_files = sorted((kit / "labs" / lab.name / "hidden").glob("*.bats"))
        hidden_ids = [i for f in hidden_files for i in TEST_TITLE.findall(f.read_text())]
        assert sorted(hidden_ids) == sorted(t.id for t in lab.tests if t.hidden), lab.name
        files += hidden_files
        in_bats = [i for f in files for i in TEST_TITLE.findall(f.read_text())]
        titles = [line for f in files for line in f.read_text().splitlines()
                  if line.startswith("@test")]
        assert len(in_bats) == len(titles), f"{lab.name}: a @test title lacks its [id]"
        assert sorted(in_bats) == sorted({*in_bats}), f"{lab.name}: an id is used twice"
        assert sorted(in_bats) == sorted(t.id for t in lab.tests), lab.name
        assert all(t.points > 0 for t in lab.tests), lab.name


def test_programs_default_to_a_server_and_a_client(tmp_path: Path) -> None:
    root = write_manifest(tmp_path, "[[lab]]\nid='01'\nslug='a'\ntitle='A'\n"
                                    "[[lab]]\nid='02'\nslug='b'\ntitle='B'\nprograms=['server']\n")
    assert [lab.programs for lab in load(root).labs] == [("server", "client"), ("server",)]


def test_the_harness_builds_the_programs_the_manifest_names(kit: Path) -> None:
    """socklab.bash builds PROGRAMS, a server and a client unless a lab's Bats file sets it;
    the grader and these tests read `programs` from the manifest. Both must agree."""
    for lab in load(kit).labs:
        said = {tuple(found.split()) for f in (kit / "labs" / lab.name / "tests").glob("*.bats")
                for found in PROGRAMS_LINE.findall(f.read_text())}
        assert said <= {lab.programs}, f"{lab.name}: PROGRAMS={said}, manifest {lab.programs}"
        assert said or lab.programs == ("server", "client"), \
            f"{lab.name}: the manifest says {lab.programs}; its Bats file must set PROGRAMS"


def test_every_lab_folder_is_in_the_manifest(kit: Path) -> None:
    listed = {lab.name for lab in load(kit).labs}
    for tree in ("labs", "skeletons", "solutions"):
        present = {p.name for p in (kit / tree).iterdir() if re.match(r"\d\d-", p.name)}
        assert present <= listed, f"{tree}/ has labs the manifest does not list"
