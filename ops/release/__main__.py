"""`python -m ops.release ...`: deprecated for one release (docs/commands.md)."""

import sys

from ops.release import main

sys.exit(main())
