"""The class report (grader/html_report.py): structure, escaping of hostile student output,
hidden tests' details withheld, byte-identical output for the same data, and the page as
Debian's headless Chromium renders it (a screenshot, no console errors, the table sorts)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from grader.html_report import CSP, REPORT_NAME, render, write_report

CHROMIUM_DEADLINE_S = 120
XSS_SCRIPT = "<script>window.__pwned = 'script';</script>"
XSS_IMG = "<img src=x onerror=\"window.__pwned = 'img'\">"


def lab(name: str, title: str, tests: list[tuple[str, int, bool]]) -> dict[str, Any]:
    return {"name": name, "title": title, "max_points": sum(p for _, p, _ in tests),
            "tests": [{"id": i, "max_points": p, "hidden": h} for i, p, h in tests]}


LABS = [
    lab("01-tcp-hello", "TCP hello", [("build", 1, False), ("hello", 4, False),
                                      ("ref-client", 2, False), ("secret", 3, True)]),
    lab("02-udp-hello", "UDP hello", [("build", 1, False), ("hello", 5, False)]),
]


def one_test(test_id: str, most: int, status: str, reason: str = "",
                details: list[str] | None = None) -> dict[str, Any]:
    return {"id": test_id, "title": f"the {test_id} test", "points": most if status == "OK" else 0,
            "max_points": 0 if status == "SKIP" else most, "status": status, "time_s": 0.25,
            "reason": reason, "details": details or []}


def lab_result(spec: dict[str, Any], statuses: dict[str, tuple[str, str, list[str]]],
               problems: list[str] | None = None) -> dict[str, Any]:
    tests = [one_test(t["id"], t["max_points"], *statuses.get(t["id"], ("OK", "", [])))
             for t in spec["tests"]]
    return {"id": spec["name"][:2], "name": spec["name"], "title": spec["title"],
            "points": sum(t["points"] for t in tests),
            "max_points": sum(t["max_points"] for t in tests), "time_s": 1.5,
            "problems": problems or [], "tests": tests}


def student(name: str, labs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"student": name, "status": "graded", "points": sum(x["points"] for x in labs),
            "max_points": sum(x["max_points"] for x in labs), "labs": labs}


def sample_class(show_hidden: bool = False) -> dict[str, Any]:
    one, two = LABS
    students = [
        student("alice", [lab_result(one, {}), lab_result(two, {})]),
        student("bob", [
            lab_result(one, {"hello": ("FAIL", "server's output: line 1 missing",
                                       ["server's stdout, line by line:",
                                        "  MISSING  Message from client: Hello from client"]),
                             "secret": ("FAIL", "SECRET-REASON the hidden check failed",
                                        ["SECRET-DETAIL line"]),
                             "ref-client": ("SKIP", "the reference solution is not available",
                                            [])}),
            lab_result(two, {"hello": ("FAIL", "no answer", ["client: recv: timed out"])})]),
        student(f"mallory {XSS_IMG}", [
            lab_result(one, {"hello": ("FAIL", f"got {XSS_SCRIPT}",
                                       [XSS_SCRIPT, "</pre></details></td></tr></table>",
                                        "bell \x07 escape \x1b[31m nul \x00 end",
                                        *[f"line {n}" for n in range(100)]])},
                       problems=[f"problem {XSS_SCRIPT}"]),
            lab_result(two, {"build": ("FAIL", "does not build", ["server.c:1: error"]),
                             "hello": ("FAIL", "not run: your code does not build", [])})]),
        {"student": "carol", "status": "error", "points": 0, "max_points": 21,
         "error": f"broken archive carol.zip {XSS_SCRIPT}", "labs": []},
    ]
    return {"kit": "socklab", "labs": LABS, "students": students,
            "show_hidden_details": show_hidden}


class Page(HTMLParser):
    """What a browser's parser sees: elements, their attributes, the text of each element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "script":
            self.scripts.append(data)
        self.text.append(data)

    def ids(self) -> list[str]:
        return [a["id"] or "" for _, a in self.tags if a.get("id")]

    def all_text(self) -> str:
        return "".join(self.text)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def test_structure_class_table_histogram_pass_rates_students(tmp_path: Path) -> None:
    path = write_report(tmp_path / "out", sample_class())
    assert path == tmp_path / "out" / REPORT_NAME
    page = path.read_text(encoding="utf-8")
    parsed = parse(page)
    ids = parsed.ids()
    for wanted in ("class", "class-table", "histogram", "histogram-svg", "pass-rates",
                   "pass-rate-table", "students"):
        assert wanted in ids, wanted
    assert len(ids) == len(set(ids)), "element ids must be unique"
    # one table row per student, each name linking to its own section
    links = [a["href"] for t, a in parsed.tags if t == "a" and (a.get("href") or "")
             .startswith("#student-")]
    sections = [a["id"] for t, a in parsed.tags if t == "section"]
    assert len(links) == 4 and [link[1:] for link in links] == sections
    assert sections[0] == "student-1-alice" and sections[3] == "student-4-carol"
    assert re.fullmatch(r"student-3-mallory-img-src-x-onerror-[\w-]*[\w]", sections[2])
    # the class table: labs as columns, totals, the error row says why
    text = parsed.all_text()
    assert "01-tcp-hello" in text and "02-udp-hello" in text
    assert "error: broken archive carol.zip" in text
    # the histogram: 10 bars, one student with everything (21/21) in the top band
    svg = page[page.index('<svg id="histogram-svg"'):]
    svg = svg[:svg.index("</svg>")]
    assert svg.count('<rect class="bar"') == 10
    assert "90–100%: 1" in svg
    # pass rates: the tests failed most come first; skipped runs count neither way
    rates = page[page.index('id="pass-rate-table"'):]
    order = re.findall(r"<tr><td><code>([\w-]+)</code></td><td><code>([\w-]+)</code>", rates)
    assert order[:2] == [("01-tcp-hello", "hello"), ("02-udp-hello", "hello")]  # 1 of 3, ties
    assert order[-1] == ("01-tcp-hello", "ref-client")                    # in course order
    assert "1/3 (33%)" in rates and "2/2 (100%), 1 skipped" in rates
    # a student's section: statuses, points, reasons, the output excerpt cut after 40 lines
    assert "server&#x27;s output: line 1 missing" in page
    assert "MISSING  Message from client" in text
    assert "more lines in the student&#x27;s JSON results" in page
    assert "line 30" in text and "line 99" not in text


def test_hostile_output_is_text_never_markup(tmp_path: Path) -> None:
    page = render(sample_class())
    parsed = parse(page)
    # the only script is the report's own, and no element carries an event handler
    assert len([t for t, _ in parsed.tags if t == "script"]) == 1
    assert "__pwned" not in "".join(parsed.scripts)
    assert not [t for t, a in parsed.tags if t == "img"]
    assert not [a for _, a in parsed.tags if any(k.startswith("on") for k in a)]
    # ...and the hostile text is on the page, as text
    assert XSS_SCRIPT in parsed.all_text() and XSS_IMG in parsed.all_text()
    assert "</pre></details></td></tr></table>" in parsed.all_text()
    # control characters are shown, not written raw
    assert "\x07" not in page and "\x1b" not in page and "\x00" not in page
    assert "bell \\x07 escape \\x1b[31m nul \\x00 end" in parsed.all_text()
    # a lone surrogate (undecodable bytes) does not stop the report
    data = sample_class()
    data["students"][0]["student"] = "bad\udcffname"
    assert "bad?name" in write_report(tmp_path, data).read_text(encoding="utf-8")


def test_only_the_report_s_own_script_and_style_may_run() -> None:
    page = render(sample_class())
    assert f'content="{html.escape(CSP)}"' in page
    assert "default-src 'none'" in CSP and "unsafe-inline" not in CSP
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "@import" not in page and "url(" not in page


def test_hidden_tests_show_only_status_and_points() -> None:
    withheld = render(sample_class(show_hidden=False))
    assert "SECRET-REASON" not in withheld and "SECRET-DETAIL" not in withheld
    assert "the secret test" not in withheld          # the title is withheld too
    assert "hidden test: details withheld" in withheld
    row = re.search(r"<tr><td><span class=\"status FAIL\">FAIL</span></td><td class=\"num\">"
                    r"0/3</td><td><code>secret</code> <span class=\"badge\">hidden</span>",
                    withheld)
    assert row, "a hidden test still shows its status and points"
    shown = render(sample_class(show_hidden=True))
    assert "SECRET-REASON" in shown and "SECRET-DETAIL" in shown


def test_same_data_same_bytes(tmp_path: Path) -> None:
    first = write_report(tmp_path / "a", sample_class()).read_bytes()
    second = write_report(tmp_path / "b", json.loads(json.dumps(sample_class()))).read_bytes()
    assert first == second


def test_empty_class_still_renders() -> None:
    page = render({"kit": "socklab", "labs": LABS, "students": [],
                   "show_hidden_details": False})
    assert 'id="class-table"' in page and "0 students" in page


# --- in a real browser ------------------------------------------------------------------------

# Injected before the page's Content-Security-Policy (which then does not apply to it): records
# every error, console error and policy violation, and after loading, clicks the Total header
# and notes the order of the rows, then writes it all into the DOM for --dump-dom.
PROBE = """<script>
(function () {
  var seen = [];
  window.addEventListener("error", function (e) {
    seen.push("error: " + (e.message || (e.target && e.target.outerHTML) || "?"));
  }, true);
  document.addEventListener("securitypolicyviolation", function (e) {
    seen.push("csp: " + e.violatedDirective + " " + e.blockedURI);
  });
  ["error", "warn"].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      seen.push("console." + level + ": " + Array.prototype.join.call(arguments, " "));
      return original.apply(console, arguments);
    };
  });
  function names() {
    var rows = document.getElementById("class-table").tBodies[0].rows;
    return Array.prototype.map.call(rows, function (r) { return r.cells[0].textContent; });
  }
  window.addEventListener("load", function () {
    var result = {errors: seen, pwned: window.__pwned || null};
    try {
      var heads = document.getElementById("class-table").tHead.rows[0].cells;
      var total = heads[heads.length - 3].querySelector("button");
      result.buttons = document.querySelectorAll("#class-table th button").length;
      result.before = names();
      total.click();
      result.afterFirst = names();
      total.click();
      result.afterSecond = names();
      result.sort = total.parentNode.getAttribute("aria-sort");
    } catch (e) {
      seen.push("probe: " + e);
    }
    var out = document.createElement("pre");
    out.id = "socklab-probe";
    out.textContent = JSON.stringify(result);
    document.body.appendChild(out);
  });
}());
</script>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", f"--user-data-dir={profile}",
         "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=CHROMIUM_DEADLINE_S, stdin=subprocess.DEVNULL,
        start_new_session=True, env={**os.environ, "HOME": str(profile)})


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed "
                    "(apt-get install chromium): the in-browser check cannot run")
def test_chromium_renders_the_report_without_errors(tmp_path: Path) -> None:
    binary = chromium()
    assert binary is not None
    report = write_report(tmp_path / "out", sample_class())
    page = report.read_text(encoding="utf-8")

    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("<head>\n", "<head>\n" + PROBE + "\n", 1), encoding="utf-8")
    dom = run_chromium(binary, tmp_path / "profile-dom", "--virtual-time-budget=10000",
                       "--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="socklab-probe">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert found, f"the page did not finish loading in Chromium:\n{dom.stderr[-3000:]}"
    result = json.loads(html.unescape(found.group(1)))
    assert result["errors"] == [], result["errors"]
    assert result["pwned"] is None, "a student's markup ran as a script"
    assert "Uncaught" not in dom.stderr and "ERROR:CONSOLE" not in dom.stderr, dom.stderr
    # the table sorts: Total, highest first, then lowest first; ties keep the file's order
    assert result["buttons"] == len(LABS) + 4
    assert result["before"][:2] == ["alice", "bob"]
    assert result["afterFirst"][0] == "alice" and result["afterFirst"][-1] == "carol"
    assert result["afterSecond"][0] == "carol" and result["afterSecond"][-1] == "alice"
    assert result["sort"] == "ascending"

    screenshot = tmp_path / "report.png"
    shot = run_chromium(binary, tmp_path / "profile-shot", "--hide-scrollbars",
                        "--window-size=1280,1600", f"--screenshot={screenshot}",
                        report.as_uri())
    assert screenshot.is_file(), f"no screenshot:\n{shot.stderr[-3000:]}"
    assert png_size(screenshot) == (1280, 1600)
    assert screenshot.stat().st_size > 20_000, "the screenshot looks blank"
    assert "Uncaught" not in shot.stderr and "ERROR:CONSOLE" not in shot.stderr, shot.stderr
    keep = os.environ.get("SOCKLAB_SCREENSHOT")
    if keep:
        shutil.copyfile(screenshot, keep)
