"""Checks on the course's pages: docs/ and the labs' READMEs.

What is checked, and the conventions the pages follow:

* Links. Every relative link (and image) in docs/**.md and labs/*/*.md points to a file or
  folder that exists, and its #anchor, if any, names a heading of the target page (GitHub's
  way of making ids, which docs/build-site.sh asks pandoc to use too). Links inside docs/ to
  other pages point to pages that the site renders (docs/, the labs' READMEs, README.md), so
  the HTML site has no dead links either.
* Kit paths. A file of the kit that a page (any *.md) or a code comment names by its path
  from the kit's root (`docs/contract.md`, `labs/lib/session.py`) exists; so does the target of
  every relative link of a page outside the course (see "kit paths named in pages" below).
* Twins. Every English page X.md under docs/ and labs/*/ has its Korean twin X.ko.md with the
  same headings: the same levels, in the same order.
* Commands. Every fenced shell block (```sh, ```bash, ```console, ```shell) in docs/ carries a
  marker on the line just before its fence:
      <!-- illustrative -->           shown for reading, never run (needs two terminals,
                                      root, a finished lab, the network...); a reason may
                                      follow: <!-- illustrative: needs root -->
      <!-- doc-test -->               run by this file, in a copy of the repository, with
                                      bash -eu -o pipefail; it must exit 0 within its deadline
      <!-- doc-test: output -->       the same, and what it prints on stdout must equal the
                                      fenced ```text block that follows it
  Only cheap, local commands are marked doc-test (--help, status, make -n, tiny programs on
  127.0.0.1). The same command shown on a page and its twin runs once.

Standard library only (plus pytest); run with /usr/bin/python3 -m pytest tests/test_docs.py.
"""

from __future__ import annotations

import ast
import concurrent.futures
import io
import os
import re
import shutil
import subprocess
import tokenize
import unicodedata
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LABS = ROOT / "labs"

SHELL_LANGS = {"sh", "bash", "shell", "console", "shell-session", "zsh"}
MARK_ILLUSTRATIVE = re.compile(r"^<!--\s*illustrative(?::[^>]*)?\s*-->$")
MARK_DOCTEST = re.compile(r"^<!--\s*doc-test(?P<output>:\s*output)?\s*-->$")
COMMAND_DEADLINE_S = 30.0        # a doc-test block is a cheap command; this only stops a hang
PARALLEL_RUNS = 4                # doc-test blocks run at once (most of their time is waiting)
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
ATX_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?(?P<target>[^)\s>]+)>?"
                         r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s+.*)?$")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
HTML_TAG = re.compile(r"<[^>]+>")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


# --- reading pages ------------------------------------------------------------------------

@dataclass
class Block:
    """A fenced code block."""

    page: Path
    line: int                 # 1-based line of the opening fence
    lang: str
    text: str
    marker: str               # the line just before the fence (stripped), or ""


@dataclass
class Page:
    path: Path
    headings: list[tuple[int, str]] = field(default_factory=list)   # (level, text)
    links: list[tuple[int, str]] = field(default_factory=list)      # (line, target)
    blocks: list[Block] = field(default_factory=list)

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def read_page(path: Path) -> Page:
    """Headings, links and fenced blocks of a Markdown page (CommonMark's common cases)."""
    page = Page(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    fence: str | None = None
    block_start = 0
    block_lang = ""
    block_lines: list[str] = []
    marker = ""
    previous = ""
    for number, line in enumerate(lines, start=1):
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                page.blocks.append(Block(path, block_start, block_lang,
                                         "\n".join(block_lines) + "\n", marker))
                fence = None
                previous = stripped
            else:
                block_lines.append(line)
            continue
        opening = FENCE.match(line)
        if opening:
            fence = opening["fence"]
            block_start = number
            info = opening["info"].strip()
            block_lang = info.split()[0].strip("{}.").lower() if info else ""
            block_lines = []
            marker = previous
            continue
        if line.strip():
            previous = line.strip()
        if line.startswith("    ") or line.startswith("\t"):
            continue                      # indented code (or a list's continuation): no links
        heading = ATX_HEADING.match(line)
        if heading:
            page.headings.append((len(heading["hashes"]), (heading["text"] or "").strip()))
        reference = REFERENCE_DEF.match(line)
        if reference:
            page.links.append((number, reference["target"]))
            continue
        for link in INLINE_LINK.finditer(CODE_SPAN.sub("", line)):
            page.links.append((number, link["target"]))
    if fence is not None:
        raise AssertionError(f"{page.rel}:{block_start}: code fence {fence} is never closed")
    return page


def slug(text: str) -> str:
    """GitHub's heading id (pandoc's gfm_auto_identifiers does the same)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)     # links keep their text
    text = HTML_TAG.sub("", text)
    text = text.replace("`", "").lower()
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in "-_ " or category[0] in "LNM" or category == "Pc":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def anchors(page: Page) -> set[str]:
    seen: dict[str, int] = {}
    ids = set()
    for _, text in page.headings:
        base = slug(text)
        count = seen.get(base, 0)
        ids.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return ids


def doc_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def lab_pages() -> list[Path]:
    return sorted(LABS.glob("*/*.md"))


def site_pages() -> set[Path]:
    """The pages docs/build-site.sh renders."""
    pages = set(doc_pages()) | set(LABS.glob("*/README*.md"))
    pages |= {p for p in ROOT.glob("README*.md")}
    return {p.resolve() for p in pages}


_PAGES: dict[Path, Page] = {}


def page(path: Path) -> Page:
    path = path.resolve()
    if path not in _PAGES:
        _PAGES[path] = read_page(path)
    return _PAGES[path]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def is_english(path: Path) -> bool:
    return not path.name.endswith(".ko.md")


def twin(path: Path) -> Path:
    return path.with_name(path.name[: -len(".md")] + ".ko.md")


# --- links --------------------------------------------------------------------------------

def link_problems(path: Path) -> Iterator[str]:
    source = page(path)
    in_docs = DOCS in path.resolve().parents
    for line, raw in source.links:
        if SCHEME.match(raw) or raw.startswith("//"):
            continue                                   # a web address: not ours to check
        target, _, anchor = urllib.parse.unquote(raw).partition("#")
        where = f"{source.rel}:{line}: link '{raw}'"
        resolved = (path.parent / target).resolve() if target else path.resolve()
        if not resolved.exists():
            shown = resolved.relative_to(ROOT) if ROOT in resolved.parents else resolved
            yield f"{where}: no such file {shown}"
            continue
        if ROOT != resolved and ROOT not in resolved.parents:
            yield f"{where}: points outside the repository"
            continue
        if resolved.suffix == ".md":
            if in_docs and resolved not in site_pages():
                yield f"{where}: the HTML site does not render {resolved.relative_to(ROOT)}"
            if anchor and anchor not in anchors(page(resolved)):
                yield (f"{where}: {resolved.relative_to(ROOT)} has no heading with id "
                       f"'{anchor}' (ids there: {', '.join(sorted(anchors(page(resolved))))})")
        elif anchor:
            yield f"{where}: an #anchor into a file that is not a Markdown page"


LINKED_PAGES = doc_pages() + lab_pages()
CHECKED_LINKS = LINKED_PAGES + sorted(ROOT.glob("README*.md"))   # the site renders those too


@pytest.mark.parametrize("path", CHECKED_LINKS, ids=[rel(p) for p in CHECKED_LINKS])
def test_links_resolve(path: Path) -> None:
    problems = list(link_problems(path))
    if problems:
        pytest.fail("broken links:\n  " + "\n  ".join(problems), pytrace=False)


def test_lab_readmes_link_to_the_concepts() -> None:
    """Each lab README sends its reader to the chapters it needs (issue 6)."""
    missing = []
    for readme in sorted(LABS.glob("*/README*.md")):
        targets = [t for _, t in page(readme).links]
        if not any("docs/concepts/" in t for t in targets):
            missing.append(readme.relative_to(ROOT).as_posix())
    assert not missing, "these lab READMEs link to no chapter under docs/concepts/: " + \
        ", ".join(missing)


def test_the_course_index_lists_every_page() -> None:
    """docs/README.md (and its twin) link to every page under docs/ in their language."""
    for index in (DOCS / "README.md", DOCS / "README.ko.md"):
        assert index.exists(), f"{rel(index)} (the course's table of contents) is missing"
        linked = {(index.parent / t.partition("#")[0]).resolve()
                  for _, t in page(index).links if not SCHEME.match(t)}
        wanted = {p.resolve() for p in doc_pages()
                  if p != index and is_english(p) == is_english(index)}
        missing = sorted(p.relative_to(ROOT).as_posix() for p in wanted - linked)
        assert not missing, f"{index.relative_to(ROOT)} does not link to: {', '.join(missing)}"


# --- twins --------------------------------------------------------------------------------

TWINNED = [p for p in LINKED_PAGES if is_english(p)]


@pytest.mark.parametrize("path", TWINNED, ids=[rel(p) for p in TWINNED])
def test_korean_twin_has_the_same_sections(path: Path) -> None:
    korean = twin(path)
    assert korean.exists(), f"{path.relative_to(ROOT)} has no Korean twin {korean.name}"
    english_h = page(path).headings
    korean_h = page(korean).headings
    for index, (en, ko) in enumerate(zip(english_h, korean_h)):
        assert en[0] == ko[0], (
            f"section {index + 1} differs: {path.name} has {'#' * en[0]} {en[1]!r}, "
            f"{korean.name} has {'#' * ko[0]} {ko[1]!r}")
    assert len(english_h) == len(korean_h), (
        f"{path.name} has {len(english_h)} headings, {korean.name} has {len(korean_h)}; "
        f"the first unmatched: "
        f"{(english_h[len(korean_h):] or korean_h[len(english_h):])[0]}")


def test_every_korean_page_has_an_english_original() -> None:
    orphans = [p.relative_to(ROOT).as_posix() for p in LINKED_PAGES
               if not is_english(p) and not p.with_name(p.name[:-len(".ko.md")] + ".md").exists()]
    assert not orphans, "Korean pages without an English page: " + ", ".join(orphans)


# --- commands -----------------------------------------------------------------------------

def shell_blocks() -> list[Block]:
    return [b for p in doc_pages() for b in page(p).blocks if b.lang in SHELL_LANGS]


def test_every_shell_block_is_marked() -> None:
    unmarked = [f"{b.page.relative_to(ROOT)}:{b.line}" for b in shell_blocks()
                if not (MARK_ILLUSTRATIVE.match(b.marker) or MARK_DOCTEST.match(b.marker))]
    if unmarked:
        pytest.fail("shell blocks with no marker on the line before the fence (put "
                    "<!-- doc-test --> if tests/test_docs.py should run it, or "
                    "<!-- illustrative --> if not):\n  " + "\n  ".join(unmarked), pytrace=False)


@dataclass
class DocTest:
    where: str
    script: str
    expected: str | None      # stdout to match, for <!-- doc-test: output -->


def doc_tests() -> list[DocTest]:
    tests: dict[tuple[str, str | None], DocTest] = {}
    english_first = sorted(doc_pages(), key=lambda p: (str(p).replace(".ko.md", ".md"),
                                                       not is_english(p)))
    for path in english_first:
        blocks = page(path).blocks
        for index, block in enumerate(blocks):
            mark = MARK_DOCTEST.match(block.marker)
            if block.lang not in SHELL_LANGS or not mark:
                continue
            expected = None
            if mark["output"]:
                following = blocks[index + 1] if index + 1 < len(blocks) else None
                expected = following.text if following and following.lang == "text" else ""
            key = (block.text, expected)
            where = f"{path.relative_to(ROOT).as_posix()}:{block.line}"
            if key in tests:
                tests[key].where += f" (also {where})"
            else:
                tests[key] = DocTest(where, block.text, expected)
    return list(tests.values())


DOC_TESTS = doc_tests()


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the working tree, so that commands shown in the docs change nothing here."""
    copy = tmp_path_factory.mktemp("repo") / "socklab"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", "build", "release", "out", "__pycache__", ".pytest_cache"))
    return copy


def missing_tools(script: str, repo: Path) -> list[str]:
    """What the block needs from the kit that is not there (yet): a clear reason first."""
    missing = []
    if re.search(r"(^|[\s;&|(])\./socklab\b", script) and not (repo / "socklab").exists():
        missing.append("./socklab (the command-line tool)")
    if re.search(r"(^|[\s;&|(])make\b", script) and not (repo / "Makefile").exists():
        missing.append("the Makefile")
    return missing


@dataclass
class Outcome:
    missing: list[str]                                   # what the kit lacks to run it
    result: subprocess.CompletedProcess[str] | None = None
    timed_out: bool = False


def run_doc_test(case: DocTest, repo: Path) -> Outcome:
    missing = missing_tools(case.script, repo)
    if missing:
        return Outcome(missing)
    # Debian's own tools first (the kit runs /usr/bin/python3), whatever a developer's PATH holds.
    path = "/usr/local/bin:/usr/bin:/bin:" + os.environ.get("PATH", "")
    env = dict(os.environ, NO_COLOR="1", TERM="dumb", LC_ALL="C.UTF-8", PATH=path)
    env.pop("MAKEFLAGS", None)
    try:
        return Outcome([], subprocess.run(
            ["bash", "-eu", "-o", "pipefail", "-c", case.script], cwd=repo, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=COMMAND_DEADLINE_S))
    except subprocess.TimeoutExpired:
        return Outcome([], timed_out=True)


@pytest.fixture(scope="module")
def doc_runs(repo_copy: Path) -> dict[str, Outcome]:
    """Every doc-test block's outcome. They are independent (each experiment works in its own
    temporary folder or only reads), so they run a few at a time: the module stays fast."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        futures = {case.where: pool.submit(run_doc_test, case, repo_copy) for case in DOC_TESTS}
        return {where: future.result() for where, future in futures.items()}


@pytest.mark.parametrize("case", DOC_TESTS, ids=[c.where.split(" ")[0] for c in DOC_TESTS])
def test_doc_command_runs(case: DocTest, doc_runs: dict[str, Outcome]) -> None:
    outcome = doc_runs[case.where]
    if outcome.missing:
        pytest.fail(f"{case.where} shows a command that needs {' and '.join(outcome.missing)}, "
                    f"which the repository does not have (yet):\n{case.script}", pytrace=False)
    if outcome.timed_out or outcome.result is None:
        pytest.fail(f"{case.where}: still running after {COMMAND_DEADLINE_S:.0f} s:\n"
                    f"{case.script}", pytrace=False)
    result = outcome.result
    report = (f"{case.where}:\n{case.script}--- exit status {result.returncode}\n"
              f"--- stdout:\n{result.stdout}--- stderr:\n{result.stderr}")
    if result.returncode != 0:
        pytest.fail("the command shown in the docs failed\n" + report, pytrace=False)
    if case.expected is not None:
        got = [line.rstrip() for line in result.stdout.rstrip("\n").splitlines()]
        want = [line.rstrip() for line in case.expected.rstrip("\n").splitlines()]
        if got != want:
            pytest.fail("the output shown in the docs is not what the command prints\n"
                        f"--- shown:\n{case.expected}" + report, pytrace=False)


def test_some_commands_are_run() -> None:
    """The convention is in use: the docs do show commands that the tests run."""
    assert len(DOC_TESTS) >= 5, f"only {len(DOC_TESTS)} doc-test blocks in docs/"


# --- kit paths named in pages and comments ------------------------------------------------
#
# A page (any *.md of the kit) or a comment in the kit's code (*.c, *.h, *.bash, *.bats, *.py
# comments and docstrings, and the whole of labs.toml, whose hints students read) that names a
# file of the kit must name one that exists: `docs/contract.md`, `labs/lib/session.py`. A name
# counts as a kit path when it starts with a top-level folder of the kit (`docs/`, `labs/`,
# `tests/`...) and is not part of a longer path (`$WORK/tests/x`, `../docs/x`, a URL). Relative
# Markdown links are the other kind; test_links_resolve checks those of the course's pages, and
# test_pages_link_to_files_that_exist those of every other page. Not checked, on purpose:
#   - placeholders: a name whose first missing part is one (`labs/NN-slug/`, `FAULT.patch`,
#     `X.md`) — the path up to it must still exist;
#   - the rest of a name after a wildcard, a `{`, a `<` or an ellipsis (`labs/*/README.md`,
#     `tests/broken/...`): again, what comes before must exist;
#   - build output (build/, out/, release/), which exists only after a build.

BUILD_OUTPUTS = {"build", "out", "release"}
SKIPPED_PARTS = BUILD_OUTPUTS | {".git", "__pycache__", ".pytest_cache", "node_modules"}
KIT_FOLDERS = sorted(p.name for p in ROOT.iterdir()
                     if p.is_dir() and not p.name.startswith(".") and p.name not in SKIPPED_PARTS)
# ASCII only: a Korean particle right after a name (`docs/contract.ko.md를`) is not part of it.
KIT_PATH = re.compile(r"(?<![A-Za-z0-9_./$~-])(?:%s)/[A-Za-z0-9_./-]*"
                      % "|".join(re.escape(name) for name in KIT_FOLDERS), re.ASCII)
PLACEHOLDER = re.compile(r"NN|^[A-Z][A-Z_]*(?:\.[A-Za-z.]+)?$")
REAL_UPPERCASE_NAMES = re.compile(r"^(README|LICENSE|Makefile)(\.|$)")
COMMENTED_SUFFIXES = {".c", ".h", ".bash", ".bats", ".py"}
C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
HASH_COMMENT = re.compile(r"(?:^|\s)#(.*)$")


def kit_files() -> list[Path]:
    """The files whose text names kit paths: pages, sources, and the manifest. The build's and
    the runs' folders are never entered: other tests' runs make and remove folders there while
    this one looks (test_invariants.py's runs go on beside the whole session)."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders
                         if name not in SKIPPED_PARTS and not name.startswith(".")]
        found += [Path(folder, name) for name in files
                  if Path(name).suffix in COMMENTED_SUFFIXES | {".md"} or name == "labs.toml"]
    return sorted(found)


def python_comments(text: str) -> Iterator[tuple[int, str]]:
    """Comments and docstrings of a Python file, with their first line."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string
        tree = ast.parse(text)
    except (SyntaxError, tokenize.TokenError):
        return                    # not ours to judge here; its own tests will say
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=False)
            if docstring is not None:
                yield node.body[0].lineno, docstring


def commented_text(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) pieces of `path` where a kit path would be a reference: all of a page or of
    labs.toml, only the comments of code."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".md" or path.name == "labs.toml":
        yield from enumerate(text.splitlines(), start=1)
    elif path.suffix in (".c", ".h"):
        for comment in C_COMMENT.finditer(text):
            yield text.count("\n", 0, comment.start()) + 1, comment.group()
    elif path.suffix in (".bash", ".bats"):
        for number, line in enumerate(text.splitlines(), start=1):
            found = HASH_COMMENT.search(line)
            if found:
                yield number, found.group(1)
    elif path.suffix == ".py":
        yield from python_comments(text)


def missing_kit_path(name: str) -> str | None:
    """The part of `name` that does not exist, or None when it exists or is a placeholder."""
    name = name.split("...")[0].rstrip(".")     # an ellipsis: what comes before must exist
    current = ROOT
    for part in name.strip("/").split("/"):
        if not part:
            continue
        current = current / part
        if not current.exists():
            if PLACEHOLDER.search(part) and not REAL_UPPERCASE_NAMES.match(part):
                return None
            return current.relative_to(ROOT).as_posix()
    return None


def named_kit_paths(path: Path) -> Iterator[tuple[int, str]]:
    for number, text in commented_text(path):
        for found in KIT_PATH.finditer(text):
            yield number, found.group()


def test_named_kit_paths_exist() -> None:
    """Every kit path a page or a comment names is there (issue 12: pages pointed at LABS.md,
    which the kit does not have)."""
    dangling = []
    for path in kit_files():
        for number, name in named_kit_paths(path):
            missing = missing_kit_path(name)
            if missing is not None:
                dangling.append(f"{rel(path)}:{number}: names {name}, but {missing} does not exist")
    if dangling:
        pytest.fail("names of kit files that do not exist (fix the name, or the file):\n  "
                    + "\n  ".join(dangling), pytrace=False)


OTHER_PAGES = [p for p in kit_files() if p.suffix == ".md" and p.resolve() not in
               {c.resolve() for c in CHECKED_LINKS}]


def test_pages_link_to_files_that_exist() -> None:
    """Pages outside the course (tests/hostile/README.md, ...): their relative links lead to a
    file or folder of the kit."""
    dead = []
    for path in OTHER_PAGES:
        for line, raw in read_page(path).links:
            if SCHEME.match(raw) or raw.startswith("//") or raw.startswith("#"):
                continue
            target = (path.parent / urllib.parse.unquote(raw).partition("#")[0]).resolve()
            if not target.exists():
                dead.append(f"{rel(path)}:{line}: link '{raw}' leads nowhere")
    assert not dead, "dead links:\n  " + "\n  ".join(dead)


# --- the checker's own parts --------------------------------------------------------------

def test_slug_follows_github() -> None:
    assert slug("How to read a failure") == "how-to-read-a-failure"
    assert slug("TIME_WAIT and `SO_REUSEADDR`") == "time_wait-and-so_reuseaddr"
    assert slug("Sockets & descriptors (1/2)") == "sockets--descriptors-12"
    assert slug("실패를 읽는 법: GOOD/BAD") == "실패를-읽는-법-goodbad"


def test_reader_finds_blocks_links_and_headings(tmp_path: Path) -> None:
    sample = tmp_path / "sample.md"
    sample.write_text(
        "# Title\n\nSee [the guide](guide.md#intro) and `[not](a-link.md)`.\n\n"
        "<!-- doc-test -->\n```sh\necho hi\n```\n\n```c\n# not a heading\n```\n"
        "## Next\n[ref]: other.md\n", encoding="utf-8")
    parsed = read_page(sample)
    assert parsed.headings == [(1, "Title"), (2, "Next")]
    assert parsed.links == [(3, "guide.md#intro"), (14, "other.md")]
    assert [(b.lang, b.text, b.marker) for b in parsed.blocks] == [
        ("sh", "echo hi\n", "<!-- doc-test -->"), ("c", "# not a heading\n", "```")]


def test_kit_path_finder() -> None:
    def names(text: str) -> list[str]:
        return [found.group() for found in KIT_PATH.finditer(text)]
    assert names("see `docs/contract.md`, and labs/lib/session.py.") == [
        "docs/contract.md", "labs/lib/session.py."]
    assert names("[x](../docs/a.md) $WORK/tests/x https://h/docs/y ./labs/z") == []
    assert names("`docs/contract.ko.md`를 보세요") == ["docs/contract.ko.md"]
    assert missing_kit_path("labs/lib/session.py.") is None
    assert missing_kit_path("docs/no-such-page.md") == "docs/no-such-page.md"
    assert missing_kit_path("labs/NN-slug/tests/") is None            # a placeholder
    assert missing_kit_path("tests/broken/NN-slug/FAULT.patch") is None
    assert missing_kit_path("docs/concepts/....md") is None            # an ellipsis
    assert missing_kit_path("labs/01-tcp-hello/README.txt") == "labs/01-tcp-hello/README.txt"
