"""The Makefile's usage lines, in the language socklab speaks (grader/i18n.py).

    python3 -m grader.make_usage check     `make check` without LAB=: what to type, and the
                                           labs there are (on stderr, exit 2)

A LAB that names no lab is socklab's own error (`socklab test`), in the same language.
"""

from __future__ import annotations

import sys

from grader import i18n, manifest

USAGE_STATUS = 2


def main(argv: list[str]) -> int:
    i18n.setup()
    if argv != ["check"]:
        print(f"usage: {sys.executable} -m grader.make_usage check", file=sys.stderr)
        return USAGE_STATUS
    labs = " ".join(lab.name for lab in manifest.load(i18n.KIT_ROOT).labs)
    print(i18n._("usage: make check LAB=01   (labs: {labs})").format(labs=labs), file=sys.stderr)
    return USAGE_STATUS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
