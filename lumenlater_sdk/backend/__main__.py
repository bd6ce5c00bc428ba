"""``python -m lumenlater_sdk.backend``: the sandbox server (same as ``lumenlater sandbox``)."""

from __future__ import annotations

import sys

from ..cli import sandbox_main

sys.exit(sandbox_main())
