"""``python -m lumenlater_sdk.cli``."""

import sys

from . import main

sys.exit(main())
