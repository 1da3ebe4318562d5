"""One Korean term per concept: the words docs/glossary.ko.md rules out appear in no Korean text.

The glossary's tables name, for each concept, the Korean term and the variants not to use (the
"쓰지 않는 말" column). This test reads that column and looks for every variant in the Korean
text a reader meets: the Korean pages (docs/, the labs' README.ko.md, README.ko.md) and the
translations of po/ko.po. Code spans, code blocks and link targets are skipped: commands, program
output and anchors are not prose (a renamed heading's anchors are the link test's business).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent
GLOSSARY = KIT / "docs" / "glossary.ko.md"
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
HTML_COMMENT = re.compile(r"<!--.*?-->")
PARENTHESES = re.compile(r"\s*\([^)]*\)")
# Compounds and forms that hold a ruled-out word and are right (the glossary says so in words):
# 기계어 is machine code, 상태 기계 a state machine, 가상 머신 a virtual machine; the English term
# may follow its Korean one.
ALLOWED = {
    "기계": ("기계어", "상태 기계"),
    "머신": ("가상 머신",),
    "stop-and-wait": (r"정지-대기[*\s,(]*stop-and-wait",),
}


def forbidden_terms() -> dict[str, str]:
    """Each ruled-out variant -> the term to use instead, from the glossary's tables."""
    terms: dict[str, str] = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[2] or set(cells[2]) <= {"-", " "} \
                or cells[2] == "쓰지 않는 말":
            continue
        # variants are separated by commas; a note in parentheses belongs to the one before it
        for variant in re.split(r",\s*(?![^()]*\))", cells[2]):
            variant = PARENTHESES.sub("", variant).strip()
            if variant:
                terms[variant] = cells[1]
    return terms


def korean_texts() -> list[Path]:
    pages = [*KIT.glob("docs/**/*.ko.md"), *KIT.glob("labs/*/README.ko.md"),
             *KIT.glob("README.ko.md")]
    return sorted(p for p in pages if p.name != GLOSSARY.name) + [KIT / "po" / "ko.po"]


def prose_lines(path: Path) -> list[tuple[int, str]]:
    """The lines a reader reads as prose: no code blocks, code spans or link targets; for a PO
    file, only the translations."""
    lines: list[tuple[int, str]] = []
    fenced = False
    in_msgstr = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if path.suffix == ".po":
            if line.startswith("msgstr"):
                in_msgstr = True
            elif not line.startswith('"'):
                in_msgstr = False
            if not in_msgstr:
                continue
        elif FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        text = LINK_TARGET.sub("]", CODE_SPAN.sub(" ", HTML_COMMENT.sub(" ", line)))
        lines.append((number, text))
    return lines


def drift(text: str, variant: str) -> bool:
    for allowed in ALLOWED.get(variant, ()):     # regular expressions
        text = re.sub(allowed, " ", text)
    return variant in text


def findings(path: Path, terms: dict[str, str]) -> list[str]:
    """Every ruled-out variant in `path`, with its line; a term broken across two consecutive
    lines (기준 / 해답) is found too, at the first of them."""
    found = set()
    lines = prose_lines(path)
    for index, (number, text) in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else (0, "")
        seam = text.rstrip()[-20:] + " " + following[1].lstrip()[:20] \
            if following[0] == number + 1 else ""
        for variant in terms:
            if drift(text, variant) or (drift(seam, variant) and not drift(following[1], variant)):
                found.add(f"{path.relative_to(KIT)}:{number}: {variant!r} (use {terms[variant]!r})")
    return sorted(found)


def test_the_glossary_rules_out_the_known_drift() -> None:
    """The variants issue 14 found in the docs are in the glossary's "not" column."""
    terms = forbidden_terms()
    for variant in ("기준 해답", "참조 풀이", "참조 답안", "스켈레톤", "정지 후 대기", "기계",
                    "한계", "선 위"):
        assert variant in terms, f"docs/glossary.ko.md does not rule out {variant!r}"
    assert terms["스켈레톤"] == "뼈대 코드" and terms["기준 해답"] == "참조 구현"


@pytest.mark.parametrize("path", korean_texts(), ids=lambda p: str(p.relative_to(KIT)))
def test_korean_text_uses_the_glossary_terms(path: Path) -> None:
    found = findings(path, forbidden_terms())
    assert not found, "words docs/glossary.ko.md rules out:\n  " + "\n  ".join(found)


def test_the_twins_hold_the_same_terms() -> None:
    """The English glossary lists the same Korean terms and variants as the Korean one."""
    english = (KIT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for variant, term in forbidden_terms().items():
        assert variant in english, f"docs/glossary.md does not list {variant!r}"
        assert term.split(",")[0].strip() in english, f"docs/glossary.md lacks {term!r}"
