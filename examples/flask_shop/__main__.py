"""``python -m examples.flask_shop``: serve the shop on ``LUMENLATER_SHOP_HOST:PORT``."""

from __future__ import annotations

import os
import sys

from .app import WEBHOOK_PATH, create_app
from .config import ENV_VARS


def main() -> int:
    """Run the shop with Flask's development server until Ctrl-C."""
    try:
        app = create_app()
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("\nSettings:", file=sys.stderr)
        for name, what in ENV_VARS.items():
            print(f"  {name:28} {what}", file=sys.stderr)
        return 2
    host = os.environ.get("LUMENLATER_SHOP_HOST", "127.0.0.1")
    port = int(os.environ.get("LUMENLATER_SHOP_PORT", "5000"))
    print(f"Lumen Goods on http://{host}:{port}/ (webhooks at {WEBHOOK_PATH})")
    app.run(host=host, port=port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
