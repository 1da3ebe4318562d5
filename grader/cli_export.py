"""Sub-commands that package the kit for others: `release`, `export gradescope`, `export
classroom`. grader/cli.py registers them with add_export_parsers(commands)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.export import HIDDEN_VISIBILITIES, export_classroom, export_gradescope
from grader.i18n import _
from grader.manifest import Manifest
from grader.release import ReleaseError, build_release

EXIT_USAGE = 2


def shown(path: Path) -> str:
    path = path.resolve()
    return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)


def cmd_release(args: argparse.Namespace, manifest: Manifest) -> int:
    try:
        folder, tarball = build_release(manifest.root, args.out, classroom=not args.no_classroom)
    except ReleaseError as error:
        print(f"socklab: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(_("student release: {folder}/\n                 {tarball}").format(
        folder=shown(folder), tarball=shown(tarball)))
    return 0


def cmd_export_gradescope(args: argparse.Namespace, manifest: Manifest) -> int:
    path = export_gradescope(manifest.root, args.out, args.labs or None, args.hidden_visibility)
    print(_("Gradescope autograder: {path}\nupload it in the assignment's Configure Autograder "
            "page (base image: Ubuntu 24.04)").format(path=shown(path)))
    return 0


def cmd_export_classroom(args: argparse.Namespace, manifest: Manifest) -> int:
    path = export_classroom(manifest.root, args.out, args.labs or None)
    print(_("GitHub Classroom workflow: {path}\ncommit it to the assignment's template "
            "repository (a student release)").format(path=shown(path)))
    return 0


def add_export_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    release = commands.add_parser(
        "release", help=_("build the student release (no solutions, no hidden tests)"),
        description=_("Writes DIR/socklab-student/ and DIR/socklab-student.tar.gz: the kit "
                      "without solutions/, hidden tests or the kit's own tests, with a GitHub "
                      "Classroom workflow."))
    release.add_argument("-o", "--out", type=Path, default=Path("release"), metavar="DIR",
                         help=_("where to write the release (default: release/)"))
    release.add_argument("--no-classroom", action="store_true",
                         help=_("leave out .github/workflows/classroom.yml"))
    release.set_defaults(handler=cmd_release)

    export = commands.add_parser("export", help=_("package the grader for Gradescope or "
                                                  "GitHub Classroom"))
    platforms = export.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    gradescope = platforms.add_parser(
        "gradescope", help=_("an autograder zip (setup.sh, run_autograder, the kit)"),
        description=_("Writes a Gradescope autograder zip that grades LABs (default: all) with "
                      "every test, hidden ones included. Try it locally: unzip it into "
                      "ROOT/source, put a submission in ROOT/submission, then run "
                      "AUTOGRADER_ROOT=ROOT ROOT/source/run_autograder."))
    gradescope.add_argument("labs", nargs="*", metavar="LAB",
                            help=_("e.g. 01 (default: all)"))
    gradescope.add_argument("-o", "--out", type=Path,
                            default=Path("release") / "socklab-gradescope.zip", metavar="FILE",
                            help=_("the zip to write (default: release/socklab-gradescope.zip)"))
    gradescope.add_argument("--hidden-visibility", choices=HIDDEN_VISIBILITIES,
                            default="after_published",
                            help=_("when students see hidden tests' results (default: "
                                   "after_published)"))
    gradescope.set_defaults(handler=cmd_export_gradescope)
    classroom = platforms.add_parser(
        "classroom", help=_("a GitHub Classroom workflow for a student repository"),
        description=_("Writes DIR/.github/workflows/classroom.yml: it installs the packages, "
                      "runs ./socklab test and reports every test's points to GitHub "
                      "Classroom."))
    classroom.add_argument("labs", nargs="*", metavar="LAB", help=_("e.g. 01 (default: all)"))
    classroom.add_argument("-o", "--out", type=Path,
                           default=Path("release") / "socklab-student", metavar="DIR",
                           help=_("the student repository (default: release/socklab-student)"))
    classroom.set_defaults(handler=cmd_export_classroom)
