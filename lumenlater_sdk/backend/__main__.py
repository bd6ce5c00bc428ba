"""``python -m lumenlater_sdk.backend``: the sandbox server (same as ``lumenlater sandbox``)."""

from __future__ import annotations

import sys

from ..cli._sandbox import main

sys.exit(main())
