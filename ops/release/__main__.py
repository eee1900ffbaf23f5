"""`python -m ops.release ...`: the package's command line (ops/release/command.py)."""

import sys

from ops.release.command import main

sys.exit(main())
