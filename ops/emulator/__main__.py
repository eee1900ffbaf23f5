"""`python -m ops.emulator start|stop|serve|env|put-image` (see ops/emulator/__init__.py)."""

import sys

from ops.emulator import main

sys.exit(main())
