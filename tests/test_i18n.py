"""Two languages for everything a student or an instructor reads.

- The Korean catalog (po/ko.po) translates every message of the sources, every hint and title of
  the manifest and every test title, with the same placeholders as the English.
- The language is chosen as GNU tools choose it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), and
  SOCKLAB_LANG and --lang override the locale: in the grader, and in the Bats harness.
- A Korean run of lab 01 on its skeleton shows no untranslated line; an English run no Korean.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import conftest
from conftest import KIT, PYTHON
from test_student import student_kit
from untranslated import untranslated

sys.path.insert(0, str(KIT / "po"))
from extract import build_template  # noqa: E402

from grader import i18n  # noqa: E402

CATALOG = KIT / "po" / "ko.po"
HANGUL = re.compile("[가-힣]")
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(KIT), "NO_COLOR": "1"}


# --- the catalog ----------------------------------------------------------------------------

@dataclass
class Entry:
    msgid: str = ""
    msgstr: str = ""
    flags: list[str] = field(default_factory=list)
    line: int = 0


def unquote(literal: str) -> str:
    body = literal.strip()[1:-1]
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def entries(path: Path) -> list[Entry]:
    """The PO file's entries (obsolete ones left out); msgstr[0] is a plural's msgstr."""
    found: list[Entry] = []
    current, part = Entry(), ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines() + [""], 1):
        if not line.strip():
            if current.msgid:
                found.append(current)
            current, part = Entry(), ""
        elif line.startswith("#,"):
            current.flags += [flag.strip() for flag in line[2:].split(",")]
        elif line.startswith("#"):
            continue
        elif line.startswith("msgid "):
            part, current.msgid, current.line = "msgid", unquote(line[6:]), number
        elif line.startswith(("msgid_plural ", "msgstr[1]")):
            part = ""
        elif line.startswith(("msgstr ", "msgstr[0] ")):
            part, current.msgstr = "msgstr", unquote(line.split(" ", 1)[1])
        elif line.startswith('"') and part:
            setattr(current, part, getattr(current, part) + unquote(line))
    return found


def test_every_message_has_its_korean() -> None:
    missing = [f"po/ko.po:{e.line}: {e.msgid!r}" for e in entries(CATALOG)
               if not e.msgstr.strip() or "fuzzy" in e.flags]
    assert not missing, "untranslated or fuzzy:\n  " + "\n  ".join(missing)


def test_the_catalog_compiles() -> None:
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt is missing (Debian package gettext, in make deps)")
    done = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(CATALOG)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_catalog_holds_every_message_of_the_sources(tmp_path: Path) -> None:
    """What po/extract.py finds today (grader, harness, Bats files, manifest, argparse) is all
    in po/ko.po, translated: a new English message without its Korean fails here."""
    if not shutil.which("xgettext"):
        pytest.skip("xgettext is missing (Debian package gettext, in make deps)")
    build_template(tmp_path / "socklab.pot")
    translated = {e.msgid for e in entries(CATALOG) if e.msgstr and "fuzzy" not in e.flags}
    missing = sorted(e.msgid for e in entries(tmp_path / "socklab.pot")
                     if e.msgid not in translated)
    assert not missing, ("messages po/ko.po does not translate (run po/extract.py, then "
                         "translate them in po/ko.po):\n  " + "\n  ".join(map(repr, missing)))


def test_every_hint_and_title_of_the_manifest_has_its_korean() -> None:
    data = tomllib.loads((KIT / "labs" / "labs.toml").read_text(encoding="utf-8"))
    translated = {e.msgid: e.msgstr for e in entries(CATALOG) if "fuzzy" not in e.flags}
    texts = [lab["title"] for lab in data["lab"]]
    texts += [hint for lab in data["lab"] for test in lab.get("test", [])
              for hint in test.get("hints", [])]
    missing = [text for text in texts if not translated.get(text)]
    assert texts and not missing, "no Korean for:\n  " + "\n  ".join(map(repr, missing))


BRACE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?::[^{}]*)?\}")
PERCENT = re.compile(r"%(?:\([A-Za-z_]+\))?[-#0 +']*\d*(?:\.\d+)?[sdirfxXc%]")
SHELL_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")


def placeholders(text: str, flags: list[str]) -> tuple[list[str], list[str], list[str]]:
    """{name}s (any order), %-directives (in order: bash's printf cannot reorder) and $VARs."""
    percent = PERCENT.findall(text) if any(f in flags for f in ("c-format", "python-format")) \
        else []
    return sorted(BRACE.findall(text)), percent, sorted(SHELL_VARIABLE.findall(text))


def test_placeholders_match_between_english_and_korean() -> None:
    wrong = []
    for entry in entries(CATALOG):
        if entry.msgstr and placeholders(entry.msgid, entry.flags) != \
                placeholders(entry.msgstr, entry.flags):
            wrong.append(f"po/ko.po:{entry.line}: {entry.msgid!r} -> {entry.msgstr!r}")
    assert not wrong, "placeholders differ:\n  " + "\n  ".join(wrong)


def test_placeholder_check_finds_a_wrong_translation() -> None:
    assert placeholders("{n} of {m}", []) != placeholders("{n}개 중 {x}", [])
    assert placeholders("%s then %d", ["c-format"]) != placeholders("%d 다음 %s", ["c-format"])
    assert placeholders("${SPEED}x", []) == placeholders("${SPEED}배", [])


# --- choosing the language ------------------------------------------------------------------

@pytest.mark.parametrize("environ, explicit, expected", [
    ({}, None, "en"),
    ({"LANG": "C.UTF-8"}, None, "en"),
    ({"LANG": "ko_KR.UTF-8"}, None, "ko"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "ko_KR.UTF-8"}, None, "ko"),
    ({"LANG": "ko_KR.UTF-8", "LC_ALL": "en_US.UTF-8"}, None, "en"),
    ({"LANG": "ko_KR.UTF-8", "LC_ALL": "C"}, None, "en"),        # C wins, LANGUAGE too
    ({"LANG": "C", "LANGUAGE": "ko"}, None, "en"),               # gettext ignores LANGUAGE in C
    ({"LANG": "de_DE.UTF-8", "LANGUAGE": "fr:ko:en"}, None, "ko"),
    ({"LANG": "ko_KR.UTF-8", "LANGUAGE": "en:ko"}, None, "en"),
    ({"LANG": "ko_KR.UTF-8", "SOCKLAB_LANG": "en"}, None, "en"),
    ({"LANG": "C", "SOCKLAB_LANG": "ko"}, None, "ko"),
    ({"LANG": "C", "SOCKLAB_LANG": "ko"}, "en", "en"),           # --lang before everything
    ({"LANG": "C"}, "ko", "ko"),
    ({"LANG": "fr_FR.UTF-8"}, None, "en"),
])
def test_language_is_chosen_as_gnu_tools_choose_it(environ: dict[str, str], explicit: str | None,
                                                   expected: str) -> None:
    assert i18n.choose(explicit, environ) == expected


def socklab(kit: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return conftest.socklab(*args, root=kit, env={"NO_COLOR": "1", **env}, timeout=120)


@pytest.mark.parametrize("env, args, korean", [
    ({"LANG": "C"}, ("status",), False),
    ({"LANG": "ko_KR.UTF-8"}, ("status",), True),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "ko"}, ("status",), True),
    ({"LANG": "ko_KR.UTF-8", "SOCKLAB_LANG": "en"}, ("status",), False),
    ({"LANG": "C", "SOCKLAB_LANG": "ko"}, ("status",), True),
    ({"LANG": "ko_KR.UTF-8"}, ("--lang", "en", "status"), False),
    ({"LANG": "C"}, ("--lang", "ko", "status"), True),
    ({"LANG": "C"}, ("status", "--lang=ko"), True),
])
def test_the_command_line_speaks_the_chosen_language(tmp_path: Path, env: dict[str, str],
                                                     args: tuple[str, ...], korean: bool) -> None:
    done = socklab(student_kit(tmp_path / "kit"), env, *args)
    assert done.returncode == 0, done.stderr
    if korean:
        assert "다음: 실습 01 fake" in done.stdout and "시작 전" in done.stdout, done.stdout
    else:
        assert "Next: lab 01 fake" in done.stdout and not HANGUL.search(done.stdout), done.stdout


def test_usage_errors_and_help_are_korean_too(tmp_path: Path) -> None:
    kit = student_kit(tmp_path / "kit")
    wrong = socklab(kit, {"LANG": "ko_KR.UTF-8"}, "tset")
    assert wrong.returncode == 2
    assert "사용법: socklab" in wrong.stderr and "잘못된 선택: 'tset'" in wrong.stderr, wrong.stderr
    unknown = socklab(kit, {"LANG": "ko_KR.UTF-8"}, "hint", "99")
    assert unknown.returncode == 2 and "'99'라는 실습은 없습니다" in unknown.stderr, unknown.stderr
    helped = socklab(kit, {"LANG": "C"}, "--lang", "ko", "test", "--help")
    assert "모든 실패의 메시지를 전부 보여 줍니다" in helped.stdout, helped.stdout
    english = socklab(kit, {"LANG": "C"}, "tset")
    assert "invalid choice: 'tset'" in english.stderr and not HANGUL.search(english.stderr)


def test_without_msgfmt_korean_falls_back_to_english_in_one_line(tmp_path: Path) -> None:
    """A machine without gettext still runs: English, and one line saying why."""
    (tmp_path / "po").mkdir()
    shutil.copy(CATALOG, tmp_path / "po" / "ko.po")
    code = ("import sys; from pathlib import Path; from grader import i18n; "
            "print(i18n.setup('ko', root=Path(sys.argv[1])), i18n._('interrupted'))")
    done = subprocess.run([PYTHON, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          env={**BASE_ENV, "PATH": str(tmp_path)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["en", "interrupted"]
    assert len(done.stderr.splitlines()) == 1 and "msgfmt" in done.stderr, done.stderr


def test_a_stale_catalog_is_compiled_again(tmp_path: Path) -> None:
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt is missing (Debian package gettext, in make deps)")
    (tmp_path / "po").mkdir()
    shutil.copy(CATALOG, tmp_path / "po" / "ko.po")
    compiled, problem = i18n.compile_catalog(tmp_path)
    assert compiled is not None and compiled.is_file() and not problem
    os.utime(compiled, (1, 1))           # older than ko.po: compiled again
    again, _ = i18n.compile_catalog(tmp_path)
    assert again is not None and again.stat().st_mtime > 1


def test_the_class_report_follows_the_language() -> None:
    from grader.html_report import render
    data = {"kit": "socklab", "labs": [{"name": "01-tcp-hello", "title": "TCP hello",
                                        "max_points": 4, "tests": [{"id": "hello",
                                                                    "max_points": 4}]}],
            "students": [{"student": "alice", "status": "graded", "points": 4, "max_points": 4,
                          "labs": [{"name": "01-tcp-hello", "title": "TCP hello", "points": 4,
                                    "max_points": 4, "problems": [], "tests": [
                                        {"id": "hello", "title": "", "status": "OK",
                                         "points": 4, "max_points": 4, "time_s": 1.0,
                                         "reason": "", "details": []}]}]}]}
    try:
        i18n.setup("ko")
        korean = render(data)
        i18n.setup("en")
        english = render(data)
    finally:
        i18n.setup("en")
    assert '<html lang="ko">' in korean and "반 전체 표" in korean and "테스트별 통과율" in korean
    assert '<html lang="en">' in english and "Class table" in english
    assert not HANGUL.search(english)


def test_the_python_check_takes_socklab_lang_too(tmp_path: Path) -> None:
    """grader/python-check, which runs before any Python, follows SOCKLAB_LANG as well."""
    old = tmp_path / "python3"
    old.write_text("#!/bin/sh\necho 3.9\n", encoding="utf-8")
    old.chmod(0o755)
    for env, korean in (({"LANG": "C", "SOCKLAB_LANG": "ko"}, True),
                        ({"LANG": "ko_KR.UTF-8", "SOCKLAB_LANG": "en"}, False)):
        done = subprocess.run([str(KIT / "socklab"), "status"], cwd=KIT, capture_output=True,
                              text=True, timeout=60,
                              env={**BASE_ENV, "SOCKLAB_PYTHON_CHECK_WITH": str(old), **env})
        assert done.returncode == 1 and bool(HANGUL.search(done.stderr)) == korean, done.stderr


# --- the Bats harness -----------------------------------------------------------------------

HARNESS_TEST = """
load ../../lib/socklab
setup_file() { :; }    # nothing to build: the assertions read files written here
@test "[lines] a line that differs from the contract" {
    mkdir -p "$S"
    printf 'Hello from elsewhere\\n' >"$S/server.stdout"
    echo "exit 0" >"$S/server.status"
    : >"$S/transcript"
    assert_lines server "Hello from server"
}
"""


def harness_run(tmp_path: Path, env: dict[str, str]) -> str:
    """A one-test lab that loads the real harness (labs/lib) and fails assert_lines."""
    if not shutil.which("bats"):
        pytest.skip("bats is missing (make deps)")
    kit = tmp_path / "kit"
    (kit / "labs" / "01-fake" / "tests").mkdir(parents=True)
    (kit / "labs" / "lib").symlink_to(KIT / "labs" / "lib")
    (kit / "po").mkdir()
    shutil.copy(CATALOG, kit / "po" / "ko.po")
    (kit / "labs" / "01-fake" / "tests" / "fake.bats").write_text(HARNESS_TEST)
    done = subprocess.run(["bats", "--tap", str(kit / "labs" / "01-fake" / "tests")],
                          capture_output=True, text=True, timeout=300,
                          env={**BASE_ENV, "SOCKLAB_IMPL": str(tmp_path), "SOCKLAB_REF": "none",
                               **env})
    assert "not ok 1" in done.stdout, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("env, korean", [
    ({"LANG": "ko_KR.UTF-8"}, True),
    ({"LANG": "C", "SOCKLAB_LANG": "ko"}, True),
    ({"LANG": "C"}, False),
    ({"LANG": "ko_KR.UTF-8", "SOCKLAB_LANG": "en"}, False),
])
def test_the_harness_speaks_the_chosen_language(tmp_path: Path, env: dict[str, str],
                                                korean: bool) -> None:
    out = harness_run(tmp_path, env)
    if korean:
        assert ("server의 출력: 1번째 줄: 'Hello from server'를 기다렸는데 "
                "'Hello from elsewhere'가 나왔습니다") in out, out
        assert "  틀림  Hello from elsewhere" in out and "  기대  Hello from server" in out, out
        assert "일어난 일, 순서대로:" in out, out
    else:
        assert ("server's output: line 1: expected 'Hello from server', got "
                "'Hello from elsewhere'") in out, out
        assert "  BAD         Hello from elsewhere" in out and not HANGUL.search(out), out


def test_no_message_of_the_harness_breaks_its_line_inside_single_quotes() -> None:
    """In single quotes bash keeps a backslash-newline as it is, where xgettext (and the reader)
    see a continuation: the message would print a stray backslash and never be translated.
    Long messages continue their line inside double quotes."""
    broken = []
    for path in sorted([*KIT.glob("labs/lib/*.bash"), *KIT.glob("labs/*/tests/*.bats"),
                        *KIT.glob("labs/*/hidden/*.bats")]):
        text = path.read_text(encoding="utf-8")
        for found in re.finditer(r"\b(?:tr_printf|tr_text\s+\w+)\s+'([^']*)'", text):
            if "\\\n" in found.group(1):
                line = text.count("\n", 0, found.start()) + 1
                broken.append(f"{path.relative_to(KIT)}:{line}")
    assert not broken, "a single-quoted message continued with a backslash: " + ", ".join(broken)


# --- a whole run: no line left in English ---------------------------------------------------
# The check (tests/untranslated.py), on lines made up for it. The whole run it checks is
# test_invariants.py's run of every skeleton, in Korean, every failure shown in full.

def test_the_check_finds_english_and_spares_program_output() -> None:
    english = ["  FAIL   0/4   4.4s  hello          server's output: line 1 missing: expected "
               "'Message from client: Hello from client', got nothing more (server: exit 1)",
               "        │ what happened, in order:",
               "        │        0.5s  harness        killed server: still running after 3 s"]
    assert untranslated(english) == english
    korean = ["  OK     1/1   0.2s  build          server.c와 client.c가 gcc와 clang에서 경고 없이 "
              "컴파일된다",
              "        │ server의 stderr:",
              "        │     server: not implemented yet — see the TODOs in server.c",
              "        │   빠짐  Message from client: Hello from client",
              "        │        0.488s  server err     server: not implemented yet — see the TODOs",
              "        │        0.001s  harness        starts server: /tmp/x/server 48815",
              "        │ server는 stderr에 'Address already in use'라고 말해야 합니다",
              "01-tcp-hello — TCP hello   2/21점"]
    assert untranslated(korean) == []
