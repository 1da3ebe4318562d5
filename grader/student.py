"""The student's commands: status, hint, watch, reset."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from grader import buildcache, i18n, progress
from grader.i18n import _, display_width
from grader.manifest import Lab, Manifest
from grader.report import Painter, lab_table, use_colour
from grader.results import FAIL, LabResult
from grader.runner import RunConfig, run_lab, sandboxed, student_jobs

WATCH_INTERVAL_S = 0.25          # how often watched files are looked at
BAR_WIDTH = 30
STATE_STYLE = {progress.DONE: "OK", progress.IN_PROGRESS: "SKIP", progress.CHANGED: "SKIP",
               progress.NOT_STARTED: "dim"}


def skeleton_dir(manifest: Manifest, lab: Lab) -> Path:
    return manifest.root / "skeletons" / lab.name


def check(manifest: Manifest, lab: Lab, build_dir: Path, kept: bool) -> LabResult:
    """Runs the lab's tests on the student's tree and remembers the result."""
    config, _warnings = sandboxed(RunConfig(impl_root=manifest.root / "skeletons",
                                            build_dir=build_dir, keep_builds=kept,
                                            side_by_side=student_jobs()),
                                  manifest.root)
    result = run_lab(manifest, lab.without_hidden(), config)
    progress.save_result(manifest, lab, result.to_dict())
    return result


# --- status ---------------------------------------------------------------------------------

def cmd_status(args: argparse.Namespace, manifest: Manifest) -> int:
    paint = Painter(use_colour(sys.stdout))
    rows = [progress.lab_progress(manifest, lab) for lab in manifest.labs]
    earned = sum(row.points or 0 for row in rows)
    total = sum(row.max_points for row in rows)
    filled = BAR_WIDTH * earned // max(total, 1)
    bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}]"
    print(_("socklab course progress  {bar}  {earned}/{total} points ({percent}%)").format(
        bar=bar, earned=earned, total=total, percent=100 * earned // max(total, 1)) + "\n")
    width = max(len(row.lab.name) for row in rows)
    titles = {row.lab.name: _(row.lab.title) for row in rows}
    title_width = max(display_width(title) for title in titles.values())
    for row in rows:
        points = f"{row.points if row.points is not None else '-'}/{row.max_points}"
        state = (_("changed since the last check") if row.state == progress.CHANGED
                 else _(row.state))
        title = titles[row.lab.name]
        print(f"  {row.lab.name:<{width}}  {title}{' ' * (title_width - display_width(title))}"
              f"  {points:>6}  {paint(state, STATE_STYLE[row.state])}")
    following = next((row for row in rows if row.state != progress.DONE), None)
    print()
    if following is None:
        print(_("Every lab is done. Well played."))
    else:
        lab = following.lab
        print(_("Next: lab {id} {slug} — edit skeletons/{name}/, run `make check LAB={id}`, "
                "and `./socklab hint {id}` when stuck.").format(id=lab.id, slug=lab.slug,
                                                                 name=lab.name))
    return 0


# --- hint -----------------------------------------------------------------------------------

def cmd_hint(args: argparse.Namespace, manifest: Manifest) -> int:
    lab = manifest.find(args.lab)
    record = progress.load_result(manifest, lab)
    current = progress.sources_hash(skeleton_dir(manifest, lab))
    if record is None or record["sources"] != current:
        print(_("Testing lab {name} first...").format(name=lab.name), flush=True)
        with buildcache.build_dir(manifest.root) as (build, kept):
            result = check(manifest, lab, build, kept).to_dict()
    else:
        result = record["result"]
    failing = next((t for t in result["tests"] if t["status"] == FAIL), None)
    if failing is None:
        print(_("Every test of lab {name} passes: no hint needed.").format(name=lab.name))
        return 0
    print("\n" + _("First failing test: [{id}] {title}").format(id=failing["id"],
                                                              title=failing["title"]))
    print(f"  {failing['reason']}\n")
    revealed = progress.reveal_hint(manifest, lab, failing["id"])
    if revealed is None:
        print(_("There is no hint for this test. Read its whole message with "
                "`./socklab test {id} -v`, and the lab's README: {readme}").format(
            id=lab.id, readme=readme(lab)))
        return 0
    number, text = revealed
    count = len(lab.test(failing["id"]).hints)  # type: ignore[union-attr]
    # The manifest's hints are English; the catalog has each in Korean too (po/extract.py).
    print(_("Hint {number} of {count}: {text}").format(number=number, count=count,
                                                         text=_(text)))
    if number < count:
        print("\n" + _("(Run `./socklab hint {id}` again for the next hint.)").format(id=lab.id))
    return 0


def readme(lab: Lab) -> str:
    """The lab's README in the language socklab speaks."""
    korean = f"labs/{lab.name}/README.ko.md"
    return korean if i18n.language() == i18n.KOREAN else f"labs/{lab.name}/README.md"


# --- watch ----------------------------------------------------------------------------------

def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and modification time of each of the student's files."""
    files = {}
    for path in progress.student_files(folder):
        try:
            stat = path.stat()
        except FileNotFoundError:     # saved by rename: gone between listing and looking
            continue
        files[path.name] = (stat.st_mtime_ns, stat.st_size)
    return files


def cmd_watch(args: argparse.Namespace, manifest: Manifest) -> int:
    lab = manifest.find(args.lab)
    folder = skeleton_dir(manifest, lab)
    if not folder.is_dir():
        print("socklab: " + _("{path}: no such folder").format(path=folder), file=sys.stderr)
        return 2
    paint = Painter(use_colour(sys.stdout))
    screen = sys.stdout.isatty()
    seen: dict[str, tuple[int, int]] | None = None
    try:
        with buildcache.build_dir(manifest.root) as (build, kept):
            while True:
                now = snapshot(folder)
                if now != seen:
                    why = _("starting") if seen is None else ", ".join(sorted(
                        name for name in now.keys() | seen.keys()
                        if now.get(name) != seen.get(name)))
                    seen = now
                    if screen:
                        print("\033[2J\033[H", end="")
                    print(f"[{time.strftime('%H:%M:%S')}] "
                          + _("{why}: testing {name}...").format(why=why, name=lab.name),
                          flush=True)
                    result = check(manifest, lab, build, kept)
                    print("\n".join(lab_table(result, paint, "first")))
                    print("\n" + _("Score: {points}/{max_points}. Watching skeletons/{name}/ — "
                                   "save a file to test again, Ctrl-C to stop.").format(
                        points=result.points, max_points=result.max_points, name=lab.name),
                          flush=True)
                time.sleep(args.interval)
    except KeyboardInterrupt:
        print("\n" + _("watch: stopped."))
        return 0


# --- reset ----------------------------------------------------------------------------------

def cmd_reset(args: argparse.Namespace, manifest: Manifest) -> int:
    lab = manifest.find(args.lab)
    folder = skeleton_dir(manifest, lab)
    original = progress.pristine_files(manifest, lab)
    if not original:
        print("socklab: " + _("the original skeleton of {name} is not available (reset needs "
                              "the kit's git history, or the .pristine/ folder of a student "
                              "release)").format(name=lab.name), file=sys.stderr)
        return 1
    backup = manifest.root / "build" / "backup" / f"{lab.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if not args.yes:
        if not sys.stdin.isatty():
            print("socklab: " + _("reset asks for confirmation; stdin is not a terminal, so "
                                  "pass --yes to confirm"), file=sys.stderr)
            return 2
        answer = input(_("Replace your files in skeletons/{name}/ with the original "
                         "skeleton?\nA copy of your files goes to {backup}/. "
                         "Continue? [y/N] ").format(name=lab.name,
                                                    backup=os.path.relpath(backup)))
        # y/yes, and the Korean 예 / ㅇ (a Korean keyboard left in Hangul mode types ㅛ for y)
        if answer.strip().lower() not in ("y", "yes", "예", "네", "ㅇ", "ㅛ"):
            print(_("Nothing changed."))
            return 0
    if folder.is_dir():
        shutil.copytree(folder, backup)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in original.items():
        (folder / name).write_bytes(data)
    (progress.state_dir(manifest) / f"{lab.name}.json").unlink(missing_ok=True)
    print(_("skeletons/{name}/ is as handed out again; your files are in {backup}/.").format(
        name=lab.name, backup=os.path.relpath(backup)) if backup.exists() else
          _("skeletons/{name}/ is as handed out again.").format(name=lab.name))
    return 0


def add_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    status = commands.add_parser("status", aliases=["list"],
                                 help=_("every lab in course order: done, in progress, score"))
    status.set_defaults(handler=cmd_status)
    hint = commands.add_parser("hint",
                               help=_("the next hint for the first failing test of LAB"))
    hint.add_argument("lab", metavar="LAB")
    hint.set_defaults(handler=cmd_hint)
    watch = commands.add_parser("watch", help=_("test LAB again each time one of its files is "
                                                "saved (Ctrl-C to stop)"))
    watch.add_argument("lab", metavar="LAB")
    watch.add_argument("--interval", type=float, default=WATCH_INTERVAL_S,
                       help=argparse.SUPPRESS)
    watch.set_defaults(handler=cmd_watch)
    reset = commands.add_parser("reset",
                                help=_("restore LAB's skeleton (your files are backed up)"))
    reset.add_argument("lab", metavar="LAB")
    reset.add_argument("--yes", "-y", action="store_true",
                       help=_("do not ask for confirmation"))
    reset.set_defaults(handler=cmd_reset)
