"""Entry point: python3 -m grader (or ./socklab) with a sub-command."""

import sys

from grader.cli import main

sys.exit(main())
