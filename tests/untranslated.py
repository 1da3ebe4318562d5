"""What a Korean run of the kit may not print: a line in English. Used by test_i18n.py (on
lines made up for it) and test_invariants.py (on its Korean run of every skeleton, every
failure shown in full)."""

from __future__ import annotations

import re

# A table row's fixed columns (status, points, time, test id) and a failure detail's margin.
TABLE_ROW = re.compile(r"^\s*(?:OK|FAIL|SKIP)\s+\S+\s+\S+\s+[\w.-]+\s{2,}")
DETAIL = "│"
# A line of the transcript that a program wrote (the harness's own lines are checked).
PROGRAM_STREAM = re.compile(r"^\s*\d+\.\d+s\s+\S+ (?:out|err|in)\s")
HARNESS_STEP = re.compile(r"^\s*\d+\.\d+s\s+harness\s+")
# The marks of a line-by-line comparison: what follows them is the contract's or the program's.
COMPARISON_MARK = re.compile(r"^\s+(?:GOOD|BAD|MISSING|UNEXPECTED|expected|맞음|틀림|빠짐|넘침|기대)\s")
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
# Commands, paths, calls, options, numbers, variables: not words of a sentence.
CODE = re.compile(r"[^\s]*[/=(){}\[\]<>_$\\0-9][^\s]*")
ENGLISH_WORDS = re.compile(r"(?<![\w'-])[A-Za-z][A-Za-z'-]*(?:[ \t,;]+[A-Za-z][A-Za-z'-]*){2,}"
                           r"(?![\w'-])")


def untranslated(lines: list[str]) -> list[str]:
    """The lines of a run's output that hold three or more English words in a row (a comma does
    not end the row; a colon, a bracket or a full stop does), outside what
    programs printed, the contract's lines, quotes, commands and paths. What programs printed:
    the indented lines under a heading that ends with ':' (a program's stderr, the commands to
    reproduce, bytes, the relay's log) and the program lines of the transcript."""
    found = []
    data_block = False
    for line in lines:
        text = line.split(DETAIL, 1)[1][1:] if DETAIL in line else TABLE_ROW.sub("", line)
        indented = text.startswith("    ")
        if HARNESS_STEP.match(text):
            text = HARNESS_STEP.sub("", text)
        elif PROGRAM_STREAM.match(text) or COMPARISON_MARK.match(text) or \
                (data_block and indented):
            continue
        else:
            data_block = text.rstrip().endswith(":")
        prose = CODE.sub(" ", QUOTED.sub(" ", text))
        if ENGLISH_WORDS.search(prose):
            found.append(line)
    return found
