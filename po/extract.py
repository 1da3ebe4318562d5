#!/usr/bin/python3
"""Collects every message socklab shows into po/socklab.pot, the template of its catalogs.

    po/extract.py            write po/socklab.pot, then merge it into po/ko.po (msgmerge):
                             new messages arrive there with an empty msgstr, to translate
    po/extract.py --check    write nothing; list the messages po/ko.po lacks (exit 1 if any)

Where the English messages are (GNU xgettext finds the marked ones):
    grader/*.py, labs/lib/*.py   _("..."), N_("..."), words("..."), tr("...") (grader/i18n.py)
    labs/lib/*.bash, labs/*/tests/*.bats, labs/*/hidden/*.bats
                                 tr_printf '...', tr_text VAR '...' (labs/lib/socklab.bash),
                                 skip "..." and the WHY of assert_stderr_has and assert_bytes
    grader/sandbox-exec.c        die("...") (the launcher's own errors, a printf format)
    argparse (Python's own)      usage:, error:, "the following arguments are required"...
and what xgettext cannot see, added here:
    labs/labs.toml               every lab's title and every hint (the manifest stays English)
    labs/*/tests/*.bats          every test's title (@test "[id] title"), which the grader
                                 shows; a title with a $VARIABLE keeps it in the msgid, and the
                                 translation keeps it too

The template has no line numbers and no creation date, so it changes only when a message does.
Needs xgettext, msgcat and msgmerge (Debian's package gettext).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent
PO_DIR = KIT / "po"
TEMPLATE = PO_DIR / "socklab.pot"
LANGUAGES = ("ko",)
TEST_TITLE = re.compile(r'^@test\s+"\[[\w.-]+\]\s*(.*)"\s*\{\s*$')
HEADER = '''# The messages socklab shows, in English: the template of po/ko.po.
# Written by po/extract.py: do not edit by hand.
msgid ""
msgstr ""
"Project-Id-Version: socklab\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
'''
# The tools read and write UTF-8 whatever this machine's locale is.
TOOLS_ENV = {**os.environ, "LC_ALL": "C.UTF-8"}
PYTHON_KEYWORDS = ("_", "N_", "words", "tr")
SHELL_KEYWORDS = ("tr_printf", "tr_text:2", "skip", "assert_stderr_has:3", "assert_bytes:3")
C_KEYWORDS = ("die",)


def python_sources() -> list[Path]:
    return sorted([*KIT.glob("grader/*.py"), *KIT.glob("labs/lib/*.py")])


def shell_sources() -> list[Path]:
    return sorted([*KIT.glob("labs/lib/*.bash"), *KIT.glob("labs/*/tests/*.bats"),
                   *KIT.glob("labs/*/hidden/*.bats")])


def c_sources() -> list[Path]:
    return [KIT / "grader" / "sandbox-exec.c"]


def quote(text: str) -> str:
    """A PO string literal."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\t", "\\t"))
    return f'"{escaped}"'


def manifest_entries() -> list[str]:
    """The manifest's lab titles and hints, and the Bats files' test titles, each once (with
    every place it comes from)."""
    found: dict[str, tuple[list[str], list[str]]] = {}    # msgid -> (places, comments)

    def add(msgid: str, where: str, comment: str) -> None:
        places, comments = found.setdefault(msgid, ([], []))
        places += [] if where in places else [where]
        comments.append(comment)

    data = tomllib.loads((KIT / "labs" / "labs.toml").read_text(encoding="utf-8"))
    for lab in data.get("lab", []):
        add(lab["title"], "labs/labs.toml", f"lab {lab['id']}: its title")
        for test in lab.get("test", []):
            for number, hint in enumerate(test.get("hints", []), start=1):
                add(hint, "labs/labs.toml", f"lab {lab['id']}, test {test['id']}: hint {number}")
    for path in sorted([*KIT.glob("labs/*/tests/*.bats"), *KIT.glob("labs/*/hidden/*.bats")]):
        for line in path.read_text(encoding="utf-8").splitlines():
            title = TEST_TITLE.match(line)
            if title and title.group(1):
                add(title.group(1), str(path.relative_to(KIT)), "a test's title")
    return ["\n".join([*(f"#. {c}" for c in comments), f"#: {' '.join(places)}",
                       f"msgid {quote(msgid)}", 'msgstr ""', ""])
            for msgid, (places, comments) in found.items()]


def xgettext(language: str, keywords: tuple[str, ...], sources: list[Path], out: Path,
             extra: tuple[str, ...] = ()) -> None:
    subprocess.run(["xgettext", f"--language={language}", "--from-code=UTF-8",
                    "--add-comments=TRANSLATORS:", "--add-location=file", "--sort-by-file",
                    "--force-po", *extra, "--keyword",   # no default keywords: ours only
                    *(f"--keyword={k}" for k in keywords), "-o", str(out),
                    *(str(s.relative_to(KIT)) if s.is_relative_to(KIT) else str(s)
                      for s in sources)], cwd=KIT, check=True, env=TOOLS_ENV)


def build_template(target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="socklab-po-") as scratch:
        work = Path(scratch)
        xgettext("Python", PYTHON_KEYWORDS, python_sources(), work / "python.pot")
        xgettext("Shell", SHELL_KEYWORDS, shell_sources(), work / "shell.pot",
                 ("--flag=tr_printf:1:c-format",))
        xgettext("C", C_KEYWORDS, c_sources(), work / "c.pot", ("--flag=die:1:c-format",))
        xgettext("Python", ("_",), [Path(argparse.__file__)], work / "argparse.pot")
        # argparse's file lives outside the kit: name it by module, not by this machine's path
        text = (work / "argparse.pot").read_text(encoding="utf-8")
        (work / "argparse.pot").write_text(
            re.sub(r"^#: .*$", "#: argparse.py", text, flags=re.M),
            encoding="utf-8")
        (work / "manifest.pot").write_text(HEADER + "\n" + "\n".join(manifest_entries()),
                                           encoding="utf-8")
        (work / "header.pot").write_text(HEADER, encoding="utf-8")
        parts = ["header.pot", "python.pot", "shell.pot", "c.pot", "manifest.pot",
                 "argparse.pot"]
        subprocess.run(["msgcat", "--use-first", "--to-code=UTF-8", "-o", str(target),
                        *(str(work / part) for part in parts if (work / part).stat().st_size)],
                       check=True, env=TOOLS_ENV)
        drop_non_messages(target)


def drop_non_messages(template: Path) -> None:
    """xgettext reads a shell function's definition, `tr_printf() {`, as a call with the
    argument "{": entries whose msgid has no letter are not messages."""
    blocks = template.read_text(encoding="utf-8").split("\n\n")
    kept = [b for b in blocks if not re.search(r'^msgid "[^A-Za-z]+"$', b, flags=re.M)]
    template.write_text("\n\n".join(kept), encoding="utf-8")


def po_messages(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a PO file (fuzzy entries count as untranslated; obsolete left out)."""
    messages: dict[str, str] = {}
    fuzzy, field, current = False, "", {"msgid": "", "msgstr": ""}

    def finish() -> None:
        if current["msgid"]:
            messages[current["msgid"]] = "" if fuzzy else current["msgstr"]

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            finish()
            fuzzy, field, current = False, "", {"msgid": "", "msgstr": ""}
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgstr ")):
            field, literal = line.split(" ", 1)
            current[field] = unquote(literal)
        elif line.startswith('"') and field:
            current[field] += unquote(line)
    return messages


def unquote(literal: str) -> str:
    body = literal.strip()[1:-1]
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--check", action="store_true",
                         help="only list the messages po/ko.po does not translate")
    args = options.parse_args()
    if args.check:
        with tempfile.TemporaryDirectory(prefix="socklab-po-") as scratch:
            fresh = Path(scratch) / "socklab.pot"
            build_template(fresh)
            wanted = po_messages(fresh)
        missing = 0
        for language in LANGUAGES:
            have = po_messages(PO_DIR / f"{language}.po")
            for msgid in wanted:
                if not have.get(msgid):
                    print(f"po/{language}.po: untranslated: {msgid!r}")
                    missing += 1
        return 1 if missing else 0
    build_template(TEMPLATE)
    for language in LANGUAGES:
        catalog = PO_DIR / f"{language}.po"
        subprocess.run(["msgmerge", "--quiet", "--update", "--backup=none",
                        "--no-fuzzy-matching", "--add-location=file", "--sort-by-file",
                        str(catalog), str(TEMPLATE)], check=True, env=TOOLS_ENV)
        # messages gone from the sources go from the catalog too (git keeps the old ones)
        subprocess.run(["msgattrib", "--no-obsolete", "--add-location=file", "--sort-by-file",
                        "-o", str(catalog), str(catalog)], check=True, env=TOOLS_ENV)
    return 0


if __name__ == "__main__":
    sys.exit(main())
