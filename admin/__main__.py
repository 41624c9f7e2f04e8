"""``python -m admin`` is ``kiosk-admin``."""

import sys

from .cli import main

sys.exit(main())
