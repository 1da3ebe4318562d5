"""socklab's command line: `./socklab COMMAND ...` (or `python3 -m grader COMMAND ...`)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from grader import batch, buildcache, i18n, progress, sandbox, student
from grader import manifest as manifest_mod
from grader.cli_export import add_export_parsers
from grader.i18n import _
from grader.report import LiveReport, report_start, text_report, write_json
from grader.results import LabResult
from grader.runner import (RunConfig, grading_config, grading_jobs, labs_at_once,
                           longest_first, run_lab, sandboxed, student_jobs)

KIT_ROOT = Path(__file__).resolve().parent.parent
EXIT_LOST_POINTS = 1
EXIT_USAGE = 2


def add_test_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    test = commands.add_parser(
        "test", help=_("run labs' tests against an implementation and score them"),
        description=_("Builds and tests each lab of an implementation tree, prints a table per "
                      "lab and a total. Exit status 1 when points were lost."))
    test.add_argument("labs", nargs="*", metavar="LAB",
                      help=_("labs to test, e.g. 01 or 01-tcp-hello (default: all)"))
    test.add_argument("--impl", type=Path, default=None,
                      help=_("the tree of lab folders to test (default: skeletons/)"))
    test.add_argument("--json", type=Path, default=None,
                      help=_("also write the results as JSON"))
    test.add_argument("-j", "--jobs", type=int, default=student_jobs(),
                      help=_("tests of a lab run at once (default: twice the number of cores, "
                             "since tests mostly wait); labs are tested one a core"))
    shown = test.add_mutually_exclusive_group()
    shown.add_argument("--verbose", "-v", action="store_const", const="all", dest="details",
                       help=_("show every failure's whole message"))
    shown.add_argument("--brief", action="store_const", const="none", dest="details",
                       help=_("one line per test, no failure messages"))
    test.add_argument("--no-reference", action="store_true",
                      help=_("do not cross-test against solutions/ (as in a student release)"))
    test.add_argument("--seed", default=None, help=_("seed for the fault-injection relay"))
    test.add_argument("--hidden", action="store_true",
                      help=_("also run the hidden tests (labs/NN/hidden/, graders only)"))
    add_sandbox_flag(test)
    test.set_defaults(handler=cmd_test, details="first")


def add_sandbox_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument("--no-sandbox", dest="sandbox", action="store_false",
                         help=_("run student programs without the sandbox (grader/sandbox.py)"))


def warn(warnings: tuple[str, ...] | list[str]) -> None:
    for line in dict.fromkeys(warnings):    # each once, in order
        print(f"socklab: {line}", file=sys.stderr)


def run_labs(manifest: manifest_mod.Manifest, labs: list[manifest_mod.Lab],
             config: RunConfig, at_once: int, live: LiveReport | None = None) -> list[LabResult]:
    with ThreadPoolExecutor(max_workers=max(1, at_once)) as pool:
        started = {lab.name: pool.submit(run_lab, manifest, lab, config,
                                         None if live is None else partial(live.test_done, lab))
                   for lab in longest_first(labs)}
        return [started[lab.name].result() for lab in labs]   # in course order


def cmd_test(args: argparse.Namespace, manifest: manifest_mod.Manifest) -> int:
    labs = [lab if args.hidden else lab.without_hidden() for lab in
            ([manifest.find(key) for key in args.labs] or list(manifest.labs))]
    impl = (args.impl or manifest.root / "skeletons").resolve()
    if not impl.is_dir():
        print("socklab: " + _("{path}: no such folder").format(path=impl), file=sys.stderr)
        return EXIT_USAGE
    started = time.monotonic()
    shown = os.path.relpath(impl) if impl.is_relative_to(Path.cwd()) else str(impl)
    with buildcache.build_dir(manifest.root) as (build_dir, kept):
        config, warnings = sandboxed(
            RunConfig(impl_root=impl, build_dir=build_dir, keep_builds=kept,
                      reference=not args.no_reference, seed=args.seed,
                      tests_dirs=("tests", "hidden") if args.hidden else ("tests",),
                      side_by_side=max(1, args.jobs)),
            manifest.root, args.sandbox)
        warn(warnings)
        report_start(shown + "/")
        live = LiveReport(labs, sys.stdout, args.details)   # each result as soon as it is known
        results = run_labs(manifest, labs, config, labs_at_once(args.jobs, len(labs)), live)
        live.close()
    elapsed = time.monotonic() - started
    if impl == (manifest.root / "skeletons").resolve():   # the student's own work: remember
        for lab, result in zip(labs, results):
            progress.save_result(manifest, lab, result.to_dict())
    text_report(results, shown + "/", elapsed, args.details, streamed=live.single)
    if args.json:
        write_json(args.json, results, str(impl), elapsed)
    lost = any(r.points < r.max_points or r.problems for r in results)
    return EXIT_LOST_POINTS if lost else 0


def add_grade_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    grade = commands.add_parser(
        "grade", help=_("grade a whole class: gradebook.csv, JSON, JUnit XML, report.html"),
        description=_("Grades every student (a folder or a .zip/.tar.gz archive each, holding "
                      "lab folders like skeletons/) on every lab, in parallel."))
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR")
    grade.add_argument("labs", nargs="*", metavar="LAB",
                       help=_("labs to grade, e.g. 01 (default: all)"))
    grade.add_argument("-o", "--out", type=Path, default=Path("out"),
                       help=_("folder for the gradebook and reports (default: out/)"))
    grade.add_argument("-j", "--jobs", type=int, default=grading_jobs(),
                       help=_("student × lab runs at once (default: two per core)"))
    grade.add_argument("--hidden", action="store_true", help=_("also run the hidden tests"))
    grade.add_argument("--show-hidden-details", action="store_true",
                       help=_("show hidden tests' failure reasons in the reports"))
    grade.add_argument("--no-reference", action="store_true",
                       help=_("do not cross-test against solutions/"))
    add_sandbox_flag(grade)
    grade.set_defaults(handler=cmd_grade)


def cmd_grade(args: argparse.Namespace, manifest: manifest_mod.Manifest) -> int:
    if not args.submissions.is_dir():
        print("socklab: " + _("{path}: no such folder").format(path=args.submissions),
              file=sys.stderr)
        return EXIT_USAGE
    started = time.monotonic()
    chosen = [manifest.find(key) for key in args.labs] or list(manifest.labs)
    labs = [lab if args.hidden else lab.without_hidden() for lab in chosen]
    with tempfile.TemporaryDirectory(prefix="socklab-class-") as scratch:
        config = grading_config(Path(scratch), Path(scratch), args.hidden,
                                reference=not args.no_reference)
        try:
            results, warnings = batch.grade_class(
                manifest, labs, args.submissions.resolve(), Path(scratch) / "work", config,
                args.jobs, args.sandbox)
        except batch.SubmissionError as error:
            print(f"socklab: {error}", file=sys.stderr)
            return EXIT_USAGE
    warn(warnings)
    data = batch.write_outputs(args.out, results, labs, args.show_hidden_details)
    report = batch.write_html(args.out, data)
    batch.print_gradebook(args.out / "gradebook.csv")
    print("\n" + _("{count} students graded in {seconds:.1f} s; gradebook: {path}").format(
        count=len(results), seconds=time.monotonic() - started,
        path=args.out / "gradebook.csv"))
    if report:
        print(_("report: {path}").format(path=report))
    return 0


def add_lang_option(parser: argparse.ArgumentParser) -> None:
    """--lang on the top level and on every sub-command: `socklab --lang ko status` and
    `socklab status --lang ko` both work (main() reads it before parsing, see chosen_lang)."""
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default=argparse.SUPPRESS,
                        help=_("the language of messages: ko (Korean) or en (English); "
                               "default: SOCKLAB_LANG, else the locale (LANG...)"))
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):   # aliases share a parser
                add_lang_option(sub)


def chosen_lang(argv: list[str]) -> str | None:
    """The value of --lang in `argv`, read before the parser is built, so that the parser's
    own help and errors are in that language. An invalid value is left to the parser."""
    for index, word in enumerate(argv):
        if word == "--":
            break
        if word == "--lang" and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith("--lang="):
            return word.split("=", 1)[1]
    return None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="socklab", description=_(
        "socklab: socket labs in C, with tests that grade them."))
    top.add_argument("--root", type=Path, default=KIT_ROOT, help=argparse.SUPPRESS)
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_test_parser(commands)
    add_grade_parser(commands)
    student.add_parsers(commands)
    add_export_parsers(commands)
    add_lang_option(top)
    return top


def parse(words: list[str]) -> argparse.Namespace:
    """The command line, with a command's LABs wherever they stand: argparse takes positionals
    in one run, so `grade DIR -o OUT 03` or `test 01 --impl DIR 02` left the last LAB over."""
    top = parser()
    args, extra = top.parse_known_args(words)
    if extra and hasattr(args, "labs") and not any(word.startswith("-") for word in extra):
        args.labs = [*args.labs, *extra]
    elif extra:   # argparse's own message (from the same catalog) and exit status
        unknown = [word for word in extra if word.startswith("-")] or extra
        message = argparse._("unrecognized arguments: %s")  # type: ignore[attr-defined]
        top.error(message % " ".join(unknown))
    return args


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    i18n.setup(chosen_lang(words))
    args = parse(words)
    try:
        manifest = manifest_mod.load(args.root.resolve())
        handler = args.handler
        code: int = handler(args, manifest)
        return code
    except (manifest_mod.ManifestError, sandbox.SandboxError) as error:
        print(f"socklab: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("socklab: " + _("interrupted"), file=sys.stderr)
        return 130
