import sys

from kiosk.cli.commands import main

sys.exit(main())
