"""The class report: one self-contained HTML page for a graded class (`report.html`).

It holds the class table (student × lab, sortable by a click on a header), a histogram of the
totals and the pass rate of every test as inline SVG drawn here, and a section per student with
every test's status, points, reason and an excerpt of its output.

The page needs nothing from the network and is readable without JavaScript (the script only
sorts the table). Everything that comes from a student's run is escaped: a `<script>` in a
failure message is text on the page. A Content-Security-Policy lets only this module's own
script and style run, so even a mistake in the escaping would not run a student's script.
The same data gives the same bytes: there is no clock and no randomness in the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import statistics
from pathlib import Path
from typing import Any

from grader import i18n
from grader.i18n import _

REPORT_NAME = "report.html"
EXCERPT_LINES = 40          # lines of a failure's output shown per test
EXCERPT_LINE_CHARS = 300    # a longer line is cut: a student's output can be one huge line
NOTE_CHARS = 200            # an error note in the class table
HISTOGRAM_BINS = 10         # bars of 10 % of the class's maximum each

# Control characters would be invisible or break the page; they are shown as \xNN instead.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

STYLE = """
:root { color-scheme: light; --ok: #1a7f37; --fail: #cf222e; --skip: #9a6700; --line: #d0d7de;
        --muted: #57606a; --bar: #0969da; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans",
       sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 4rem; color: #1f2328; }
h1 { font-size: 1.6rem; margin: .5rem 0; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
nav a { margin-right: 1rem; }
.muted, small { color: var(--muted); }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; vertical-align: top; }
thead th { background: var(--bg-alt); position: sticky; top: 0; }
th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0;
            cursor: pointer; color: inherit; text-align: inherit; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: var(--bg-alt); }
td.full { color: var(--ok); font-weight: 600; }
td.none { color: var(--fail); }
tr.error td { color: var(--fail); }
.status { font-weight: 700; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.status.OK { color: var(--ok); } .status.FAIL { color: var(--fail); }
.status.SKIP { color: var(--skip); }
.badge { font-size: .75rem; border: 1px solid var(--muted); border-radius: .6rem;
         padding: 0 .4rem; color: var(--muted); white-space: nowrap; }
pre { background: var(--bg-alt); border: 1px solid var(--line); padding: .5rem; margin: .3rem 0;
      overflow-x: auto; white-space: pre-wrap; word-break: break-word; font-size: .85rem; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
details summary { cursor: pointer; color: var(--bar); }
svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: #1f2328; }
svg .bar { fill: var(--bar); } svg .rest { fill: #ffebe9; } svg .pass { fill: var(--ok); }
svg .axis { stroke: var(--muted); }
.problems { color: var(--fail); }
.top { font-size: .85rem; }
"""

# Sorts the class table when a header is clicked; the page reads the same without it.
SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("class-table");
  if (!table || !table.tHead || !table.tBodies.length) { return; }
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var body = table.tBodies[0];
  function key(row, column, numeric) {
    var value = row.cells[column] ? row.cells[column].getAttribute("data-sort") || "" : "";
    return numeric ? parseFloat(value) : value.toLowerCase();
  }
  function sortBy(column) {
    var head = heads[column];
    var numeric = head.getAttribute("data-type") === "num";
    var current = head.getAttribute("aria-sort");
    /* numbers start with the highest, names with A */
    var ascending = current ? current !== "ascending" : !numeric;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, column, numeric), y = key(b, column, numeric);
      var order = numeric ? x - y : (x < y ? -1 : (x > y ? 1 : 0));
      if (!ascending) { order = -order; }
      return order || parseInt(a.getAttribute("data-order"), 10)
                      - parseInt(b.getAttribute("data-order"), 10);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
    head.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  heads.forEach(function (head, column) {
    var button = document.createElement("button");
    button.type = "button";
    button.title = table.getAttribute("data-sort-title") || "";
    while (head.firstChild) { button.appendChild(head.firstChild); }
    head.appendChild(button);
    button.addEventListener("click", function () { sortBy(column); });
  });
}());
"""


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


CSP = ("default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; "
       f"script-src {_csp_hash(SCRIPT)}; style-src {_csp_hash(STYLE)}")


def esc(value: object) -> str:
    """Text safe in element content and in quoted attributes; control characters made visible."""
    text = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return html.escape(text, quote=True)


def words(message: str) -> str:
    """A fixed text of the page, in the chosen language, escaped."""
    return esc(_(message))


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def number(value: float) -> str:
    """Points as people write them: 7, 7.5 (never 7.0 or 7.499999)."""
    rounded = round(float(value), 2)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"


def anchor(index: int, name: str) -> str:
    """A unique, stable id for a student's section, whatever characters the name holds."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name)[:40].strip("-")
    return f"student-{index + 1}" + (f"-{slug}" if slug else "")


class Report:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.labs: list[dict[str, Any]] = list(data.get("labs", []))
        self.students: list[dict[str, Any]] = list(data.get("students", []))
        self.show_hidden = bool(data.get("show_hidden_details", False))
        self.hidden = {(lab.get("name", ""), test.get("id", ""))
                       for lab in self.labs for test in lab.get("tests", []) if test.get("hidden")}
        self.class_max = sum(lab.get("max_points", 0) for lab in self.labs)
        self.anchors = [anchor(i, str(s.get("student", ""))) for i, s in enumerate(self.students)]

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def student_lab(student: dict[str, Any], name: str) -> dict[str, Any] | None:
        return next((lab for lab in student.get("labs", []) if lab.get("name") == name), None)

    def is_hidden(self, lab_name: str, test: dict[str, Any]) -> bool:
        return bool(test.get("hidden")) or (lab_name, test.get("id", "")) in self.hidden

    def total(self, student: dict[str, Any]) -> float:
        return float(student.get("points", 0) or 0)

    # --- the page --------------------------------------------------------------------------

    def render(self) -> str:
        kit = str(self.data.get("kit", "socklab"))
        title = str(self.data.get("title", _("{kit}: class report").format(kit=kit)))
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="{i18n.language()}">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            f'<h1 id="top">{esc(title)}</h1>',
            self.summary(),
            '<nav><a href="#class">' + words("Class table") + "</a>"
            '<a href="#histogram">' + words("Histogram") + "</a>"
            '<a href="#pass-rates">' + words("Pass rates") + "</a>"
            '<a href="#students">' + words("Students") + "</a></nav>",
            self.class_table(),
            self.histogram(),
            self.pass_rates(),
            self.student_sections(),
            f"<script>{SCRIPT}</script>",
            "</body>",
            "</html>",
        ]
        return "\n".join(parts) + "\n"

    def summary(self) -> str:
        graded = [s for s in self.students if s.get("status") != "error"]
        errors = len(self.students) - len(graded)
        totals = [self.total(s) for s in self.students]
        facts = [_("{count} students").format(count=len(self.students)),
                 _("{count} graded").format(count=len(graded))]
        if errors:
            facts.append(_("{count} with errors").format(count=errors))
        facts.append(_("{labs} labs, {points} points in all").format(
            labs=len(self.labs), points=number(self.class_max)))
        if totals:
            facts.append(_("mean {mean:.1f}, median {median}, highest {highest}").format(
                mean=statistics.fmean(totals), median=number(statistics.median(totals)),
                highest=number(max(totals))))
        if self.hidden:
            facts.append(_("hidden tests' details shown") if self.show_hidden
                         else _("hidden tests' details withheld"))
        if self.data.get("generated"):
            facts.append(_("graded {when}").format(when=self.data["generated"]))
        return f'<p class="muted">{esc(" · ".join(facts))}</p>'

    def class_table(self) -> str:
        head = ['<th scope="col" data-type="text">' + words("Student") + "</th>"]
        for lab in self.labs:
            head.append(f'<th scope="col" class="num" data-type="num" '
                        f'title="{esc(lab.get("title", ""))}">{esc(lab.get("name", ""))}'
                        f'<br><small>/ {number(lab.get("max_points", 0))}</small></th>')
        head.append('<th scope="col" class="num" data-type="num">' + words("Total") + "<br>"
                    f'<small>/ {number(self.class_max)}</small></th>')
        head.append('<th scope="col" class="num" data-type="num">%</th>')
        head.append('<th scope="col" data-type="text">' + words("Notes") + "</th>")
        rows = []
        for order, student in enumerate(self.students):
            name = str(student.get("student", ""))
            error = student.get("status") == "error"
            cells = [f'<td data-sort="{esc(name)}"><a href="#{self.anchors[order]}">'
                     f"{esc(name)}</a></td>"]
            for lab in self.labs:
                got = self.student_lab(student, lab.get("name", ""))
                if got is None:
                    cells.append('<td class="num none" data-sort="-1">—</td>')
                    continue
                points, most = float(got.get("points", 0)), float(got.get("max_points", 0))
                grade = "full" if most and points >= most else ("none" if points == 0 else "")
                of = esc(_("{points} of {most}").format(points=number(points),
                                                         most=number(most)))
                cells.append(f'<td class="num {grade}" data-sort="{number(points)}" '
                             f'title="{of}">{number(points)}</td>')
            total = self.total(student)
            share = 100 * total / self.class_max if self.class_max else 0.0
            cells.append(f'<td class="num" data-sort="{number(total)}"><strong>'
                         f"{number(total)}</strong></td>")
            cells.append(f'<td class="num" data-sort="{share:.2f}">{share:.0f}%</td>')
            note = ""
            if error:
                note = _("error: {reason}").format(
                    reason=str(student.get("error", "") or _("not graded")))
            else:
                problems = [p for lab in student.get("labs", []) for p in lab.get("problems", [])]
                if problems:
                    note = str(problems[0]) + (_(" (+{count} more)").format(
                        count=len(problems) - 1) if len(problems) > 1 else "")
            cells.append(f'<td data-sort="{esc(note)}">{esc(shorten(note, NOTE_CHARS))}</td>')
            css = ' class="error"' if error else ""
            rows.append(f'<tr data-order="{order}"{css}>' + "".join(cells) + "</tr>")
        return ('<h2 id="class">' + words("Class table") + "</h2>\n"
                '<p class="muted">' + words("Click a header to sort (with JavaScript). A name "
                                            "opens the student's results.") + "</p>\n"
                '<table id="class-table" class="sortable" data-sort-title="'
                + words("sort by this column") + '">\n<thead><tr>' + "".join(head)
                + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>")

    def histogram(self) -> str:
        totals = [self.total(s) for s in self.students]
        counts = [0] * HISTOGRAM_BINS
        for total in totals:
            share = total / self.class_max if self.class_max else 0.0
            counts[min(HISTOGRAM_BINS - 1, max(0, int(share * HISTOGRAM_BINS)))] += 1
        width, height, left, bottom, top = 660, 270, 40, 40, 34
        plot_h = height - bottom - top
        slot = (width - left - 10) / HISTOGRAM_BINS
        tallest = max(counts) if any(counts) else 1
        shapes = [f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
                  f'y2="{height - bottom}"/>',
                  f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" '
                  f'y2="{height - bottom}"/>',
                  f'<text x="{left - 6}" y="{height - bottom + 4}" text-anchor="end">0</text>',
                  f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{tallest}</text>',
                  '<text x="4" y="14">' + words("students") + "</text>"]
        for i, count in enumerate(counts):
            x = left + i * slot
            bar_h = plot_h * count / tallest
            y = height - bottom - bar_h
            low, high = i * 100 // HISTOGRAM_BINS, (i + 1) * 100 // HISTOGRAM_BINS
            label = f"{low}–{high}%"
            shapes.append(f'<rect class="bar" x="{x + 4:.1f}" y="{y:.1f}" width="{slot - 8:.1f}" '
                          f'height="{bar_h:.1f}"><title>'
                          + esc(_("{band}: {count} students").format(band=label, count=count))
                          + "</title></rect>")
            if count:
                shapes.append(f'<text x="{x + slot / 2:.1f}" y="{y - 4:.1f}" '
                              f'text-anchor="middle">{count}</text>')
            shapes.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" '
                          f'text-anchor="middle">{label}</text>')
        shapes.append(f'<text x="{left + (width - left) / 2:.1f}" y="{height - 6}" '
                      'text-anchor="middle">'
                      + esc(_("total, as a share of {points} points").format(
                          points=number(self.class_max))) + "</text>")
        caption = ", ".join(f"{i * 100 // HISTOGRAM_BINS}–{(i + 1) * 100 // HISTOGRAM_BINS}%: "
                            f"{c}" for i, c in enumerate(counts))
        return ('<h2 id="histogram">' + words("Histogram of totals") + "</h2>\n"
                f'<svg id="histogram-svg" role="img" aria-label="{esc(caption)}" '
                f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                'xmlns="http://www.w3.org/2000/svg">'
                "<title>" + esc(_("Students per band of total points: {bands}").format(
                    bands=caption)) + "</title>\n"
                + "\n".join(shapes) + "\n</svg>")

    def pass_rates(self) -> str:
        rows = []
        for lab_index, lab in enumerate(self.labs):
            for test_index, spec in enumerate(lab.get("tests", [])):
                passed = failed = skipped = 0
                for student in self.students:
                    got = self.student_lab(student, lab.get("name", ""))
                    if got is None or student.get("status") == "error":
                        continue
                    result = next((t for t in got.get("tests", [])
                                   if t.get("id") == spec.get("id")), None)
                    status = result.get("status") if result else None
                    if status == "OK":
                        passed += 1
                    elif status == "FAIL":
                        failed += 1
                    elif status == "SKIP":
                        skipped += 1
                ran = passed + failed
                rate = passed / ran if ran else 1.0
                rows.append((rate, lab_index, test_index, lab, spec, passed, ran, skipped))
        rows.sort(key=lambda row: (row[0], row[1], row[2]))
        bar_w = 240
        lines = []
        for rate, _lab_index, _test_index, lab, spec, passed, ran, skipped in rows:
            hidden = (' <span class="badge">' + words("hidden") + "</span>"
                      if spec.get("hidden") else "")
            filled = bar_w * rate if ran else 0
            bar = (f'<svg width="{bar_w}" height="14" viewBox="0 0 {bar_w} 14" role="img" '
                   'aria-label="' + esc(_("{rate} passed").format(rate=f"{rate:.0%}")) + '" '
                   'xmlns="http://www.w3.org/2000/svg">'
                   f'<rect class="rest" x="0" y="1" width="{bar_w}" height="12"/>'
                   f'<rect class="pass" x="0" y="1" width="{filled:.1f}" height="12"/></svg>')
            count = f"{passed}/{ran} ({rate:.0%})" if ran else _("not run")
            if skipped:
                count += _(", {skipped} skipped").format(skipped=skipped)
            lines.append(f'<tr><td><code>{esc(lab.get("name", ""))}</code></td>'
                         f'<td><code>{esc(spec.get("id", ""))}</code>{hidden}</td>'
                         f'<td class="num">{number(spec.get("max_points", 0))}</td>'
                         f"<td>{bar}</td><td class=\"num\">{esc(count)}</td></tr>")
        return ('<h2 id="pass-rates">' + words("Pass rates per test") + "</h2>\n"
                '<p class="muted">' + esc(_("Every test of every lab, the ones the class fails "
                                            "most first (students with errors left out; "
                                            "skipped tests count neither way).")) + "</p>\n"
                '<table id="pass-rate-table"><thead><tr><th>' + words("Lab") + "</th>"
                "<th>" + words("Test") + '</th><th class="num">' + words("Points") + "</th>"
                "<th>" + words("Passed") + '</th><th class="num">' + words("Students")
                + "</th></tr>"
                "</thead>\n<tbody>\n" + "\n".join(lines) + "\n</tbody>\n</table>")

    def student_sections(self) -> str:
        parts = ['<h2 id="students">' + words("Students") + "</h2>"]
        for order, student in enumerate(self.students):
            parts.append(self.student_section(order, student))
        return "\n".join(parts)

    def student_section(self, order: int, student: dict[str, Any]) -> str:
        name = str(student.get("student", ""))
        most = student.get("max_points", self.class_max)
        out = [f'<section class="student" id="{self.anchors[order]}">',
               f"<h2>{esc(name)} <small>"
               + esc(_("{points} / {most} points").format(points=number(self.total(student)),
                                                          most=number(most)))
               + "</small></h2>",
               '<p class="top"><a href="#class">↑ ' + words("class table") + "</a></p>"]
        if student.get("status") == "error":
            reason = student.get("error", "") or _("unknown error")
            out.append('<p class="problems"><strong>' + words("Not graded:") + "</strong> "
                       f"{esc(reason)}</p>")
        by_name = {lab.get("name"): lab for lab in student.get("labs", [])}
        names = [lab.get("name") for lab in self.labs]
        names += [n for n in by_name if n not in names]
        for lab_name in names:
            lab = by_name.get(lab_name)
            if lab is None:
                if student.get("status") != "error":
                    out.append(f'<h3>{esc(lab_name)}</h3><p class="problems">'
                               + words("not graded") + "</p>")
                continue
            out.append(self.lab_block(str(lab_name), lab))
        out.append("</section>")
        return "\n".join(out)

    def lab_block(self, lab_name: str, lab: dict[str, Any]) -> str:
        out = [f'<h3>{esc(lab_name)} — {esc(lab.get("title", ""))}: '
               + esc(_("{points} / {most} points").format(
                   points=number(lab.get("points", 0)), most=number(lab.get("max_points", 0))))
               + "</h3>"]
        problems = lab.get("problems", [])
        if problems:
            out.append('<ul class="problems">' + "".join(f"<li>{esc(p)}</li>" for p in problems)
                       + "</ul>")
        out.append('<table class="tests"><thead><tr><th>' + words("Status") + "</th>"
                   '<th class="num">' + words("Points") + "</th><th>" + words("Test") + "</th>"
                   '<th class="num">' + words("Time") + "</th>"
                   "<th>" + words("Reason and output") + "</th></tr></thead><tbody>")
        for test in lab.get("tests", []):
            out.append(self.test_row(lab_name, test))
        out.append("</tbody></table>")
        return "\n".join(out)

    def test_row(self, lab_name: str, test: dict[str, Any]) -> str:
        status = str(test.get("status", ""))
        css = status if status in ("OK", "FAIL", "SKIP") else "FAIL"
        points = ("–" if status == "SKIP" else
                  f'{number(test.get("points", 0))}/{number(test.get("max_points", 0))}')
        seconds = test.get("time_s")
        time = f"{float(seconds):.1f} s" if isinstance(seconds, (int, float)) else "–"
        hidden = self.is_hidden(lab_name, test)
        label = f'<code>{esc(test.get("id", ""))}</code>'
        if hidden:
            label += ' <span class="badge">' + words("hidden") + "</span>"
        if hidden and not self.show_hidden:
            body = '<span class="muted">' + words("hidden test: details withheld") + "</span>"
        else:
            if test.get("title"):
                label += f'<br><small>{esc(test["title"])}</small>'
            body = esc(test.get("reason", ""))
            body += self.excerpt([str(line) for line in test.get("details", [])])
        return (f'<tr><td><span class="status {css}">{esc(status)}</span></td>'
                f'<td class="num">{points}</td><td>{label}</td><td class="num">{time}</td>'
                f"<td>{body}</td></tr>")

    @staticmethod
    def excerpt(details: list[str]) -> str:
        if not details:
            return ""
        shown = [shorten(line, EXCERPT_LINE_CHARS) for line in details[:EXCERPT_LINES]]
        more = len(details) - len(shown)
        if more:
            shown.append(_("... ({count} more lines in the student's JSON results)").format(
                count=more))
        return ("<details><summary>" + esc(_("output ({count} lines)").format(
                    count=len(details))) + "</summary>"
                f'<pre>{esc(chr(10).join(shown))}</pre></details>')


def render(data: dict[str, Any]) -> str:
    """The whole page for the class data (see write_report)."""
    return Report(data).render()


def write_report(out_dir: Path, data: dict[str, Any]) -> Path:
    """Writes out_dir/report.html for the class data batch grading produces (class.json)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_NAME
    # errors="replace": a lone surrogate from a student's bytes must not stop the report
    path.write_text(render(data), encoding="utf-8", errors="replace")
    return path
