#!/usr/bin/python3
"""Builds the sample class described in examples/class.toml into a submissions folder.

    examples/make_class.py OUT_DIR
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

KIT = Path(__file__).resolve().parent.parent


def build_student(student: dict[str, Any], out: Path) -> None:
    tree = out / ".trees" / student["name"]
    shutil.copytree(KIT / student["base"], tree)
    for lab in student.get("solved", []):
        shutil.rmtree(tree / lab)
        shutil.copytree(KIT / "solutions" / lab, tree / lab)
    for patch in student.get("patches", []):
        lab = patch.split("/")[0]
        subprocess.run(["patch", "-s", "-p1", "-i", str(KIT / "tests" / "broken" / f"{patch}.patch")],
                       cwd=tree / lab, check=True)
    for target, source in student.get("files", {}).items():
        shutil.copyfile(KIT / source, tree / target)
    name, kind = student["name"], student.get("format", "folder")
    if kind == "folder":
        tree.rename(out / name)
    else:   # an archive with the student's folder inside, as they are usually handed in
        archive_format = {"zip": "zip", "tar.gz": "gztar"}[kind]
        shutil.make_archive(str(out / name), archive_format, root_dir=tree.parent,
                            base_dir=name)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: examples/make_class.py OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    roster = tomllib.loads((KIT / "examples" / "class.toml").read_text())
    for student in roster["student"]:
        build_student(student, out)
    shutil.rmtree(out / ".trees", ignore_errors=True)
    print(f"{len(roster['student'])} submissions in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
