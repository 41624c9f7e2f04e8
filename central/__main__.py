"""``python -m central`` is ``kiosk-central``."""

import sys

from .cli import main

sys.exit(main())
