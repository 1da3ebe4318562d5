"""Sub-commands that package the kit for others: `release`, `export gradescope`, `export
classroom`. grader/cli.py registers them with add_export_parsers(commands)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.export import HIDDEN_VISIBILITIES, export_classroom, export_gradescope
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
    print(f"student release: {shown(folder)}/\n                 {shown(tarball)}")
    return 0


def cmd_export_gradescope(args: argparse.Namespace, manifest: Manifest) -> int:
    path = export_gradescope(manifest.root, args.out, args.labs or None, args.hidden_visibility)
    print(f"Gradescope autograder: {shown(path)}\n"
          f"upload it in the assignment's Configure Autograder page (base image: Ubuntu 24.04)")
    return 0


def cmd_export_classroom(args: argparse.Namespace, manifest: Manifest) -> int:
    path = export_classroom(manifest.root, args.out, args.labs or None)
    print(f"GitHub Classroom workflow: {shown(path)}\n"
          f"commit it to the assignment's template repository (a student release)")
    return 0


def add_export_parsers(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    release = commands.add_parser(
        "release", help="build the student release (no solutions, no hidden tests)",
        description="Writes DIR/socklab-student/ and DIR/socklab-student.tar.gz: the kit "
                    "without solutions/, hidden tests or the kit's own tests, with a GitHub "
                    "Classroom workflow.")
    release.add_argument("-o", "--out", type=Path, default=Path("release"), metavar="DIR",
                         help="where to write the release (default: release/)")
    release.add_argument("--no-classroom", action="store_true",
                         help="leave out .github/workflows/classroom.yml")
    release.set_defaults(handler=cmd_release)

    export = commands.add_parser("export", help="package the grader for Gradescope or "
                                                "GitHub Classroom")
    platforms = export.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    gradescope = platforms.add_parser(
        "gradescope", help="an autograder zip (setup.sh, run_autograder, the kit)",
        description="Writes a Gradescope autograder zip that grades LABs (default: all) with "
                    "every test, hidden ones included. Try it locally: unzip it into "
                    "ROOT/source, put a submission in ROOT/submission, then run "
                    "AUTOGRADER_ROOT=ROOT ROOT/source/run_autograder.")
    gradescope.add_argument("labs", nargs="*", metavar="LAB", help="e.g. 01 (default: all)")
    gradescope.add_argument("-o", "--out", type=Path,
                            default=Path("release") / "socklab-gradescope.zip", metavar="FILE",
                            help="the zip to write (default: release/socklab-gradescope.zip)")
    gradescope.add_argument("--hidden-visibility", choices=HIDDEN_VISIBILITIES,
                            default="after_published",
                            help="when students see hidden tests' results (default: "
                                 "after_published)")
    gradescope.set_defaults(handler=cmd_export_gradescope)
    classroom = platforms.add_parser(
        "classroom", help="a GitHub Classroom workflow for a student repository",
        description="Writes DIR/.github/workflows/classroom.yml: it installs the packages, "
                    "runs ./socklab test and reports every test's points to GitHub Classroom.")
    classroom.add_argument("labs", nargs="*", metavar="LAB", help="e.g. 01 (default: all)")
    classroom.add_argument("-o", "--out", type=Path,
                           default=Path("release") / "socklab-student", metavar="DIR",
                           help="the student repository (default: release/socklab-student)")
    classroom.set_defaults(handler=cmd_export_classroom)
