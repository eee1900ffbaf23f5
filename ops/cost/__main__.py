"""`python -m ops.cost ...`: the package's command line (ops/cost/report.py)."""

import sys

from ops.cost.report import main

sys.exit(main())
