"""python -m ops <command> (ops/cli.py)."""

import sys

from ops.cli import main

sys.exit(main())
