"""`python -m ops.cost ...`: deprecated for one release (docs/commands.md)."""

import sys

from ops.cost import main

sys.exit(main())
