"""``lumenlater demo``: the sandbox and the example Flask shop on loopback, wired together.

Without options it runs until Ctrl-C so you can shop in a browser. ``--scripted``
plays one purchase end to end without a browser (checkout, paying on the hosted
page with the ``approve`` wallet, the webhook, 20 days on the ledger clock,
repayment with a late fee) and exits non-zero if any step fails.

The shop is ``examples/flask_shop`` of the source checkout this package was
installed from (``pip install -e .``); it is loaded from there by path, because
it is an example to read and copy rather than part of the installed package.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import shlex
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, cast

from .._client import LumenLater
from ..errors import LumenLaterError
from ._demo_scripted import DemoError, pay_hosted_page, run_scripted

__all__ = ["DemoError", "cli_command", "pay_hosted_page", "register"]

SHOP_MODULE = "examples.flask_shop"
WAIT_SECONDS = 60.0


class _RunningShop(Protocol):
    """What the demo uses of ``examples.flask_shop.serving.RunningShop``."""

    url: str
    endpoint_id: str

    def wait_for_order(
        self, order_id: str, done: Callable[[Any], bool], *, timeout: float = ...
    ) -> Any: ...


class _Serving(Protocol):
    """What the demo uses of ``examples.flask_shop.serving``."""

    def serve(
        self,
        *,
        api_key: str,
        base_url: str,
        db_path: str | Path,
        host: str = ...,
        port: int = ...,
        publishable_key: str | None = ...,
    ) -> AbstractContextManager[_RunningShop]: ...


# --- command line ----------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add ``lumenlater demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run the sandbox and the example Flask shop together",
        description=(
            "Start the sandbox backend (fresh SQLite database) and the example Flask shop "
            "on 127.0.0.1, register the shop's webhook endpoint, and print what to do. "
            "With --scripted, run one purchase end to end and exit."
        ),
    )
    parser.add_argument(
        "--scripted",
        action="store_true",
        help="run a full purchase without a browser and exit (non-zero on failure)",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="shop port (default 5000; any free one if scripted)"
    )
    parser.add_argument(
        "--sandbox-port",
        type=int,
        default=None,
        help="sandbox port (default 8787; any free one if scripted)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; the exit code of the command."""
    # A scripted run must not collide with a sandbox or shop the user already runs.
    shop_port = args.port if args.port is not None else (0 if args.scripted else 5000)
    sandbox_port = args.sandbox_port
    if sandbox_port is None:
        sandbox_port = 0 if args.scripted else 8787
    if args.scripted:
        # The steps are the story; the shop's access log would drown them.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        with _Demo.start(shop_port=shop_port, sandbox_port=sandbox_port) as demo:
            if args.scripted:
                return run_scripted(demo)
            demo.explain()
            _wait_for_ctrl_c()
            print("\nStopping.")
            return 0
    except DemoError as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr, flush=True)
        return 1


def _wait_for_ctrl_c() -> None:
    stop = threading.Event()
    try:
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass


# --- the running demo --------------------------------------------------------------


@dataclass
class _Demo:
    """The sandbox and the shop, both running, and what links them."""

    sandbox_url: str
    secret_key: str
    publishable_key: str
    shop: _RunningShop
    client: LumenLater

    @classmethod
    @contextmanager
    def start(cls, *, shop_port: int, sandbox_port: int) -> Iterator[_Demo]:
        from ..backend.testing import run_sandbox  # the backend extra, only when run

        serving = _load_shop()
        with ExitStack() as stack:
            data_dir = Path(tempfile.mkdtemp(prefix="lumenlater-demo-"))
            stack.callback(shutil.rmtree, data_dir, True)
            try:
                sandbox = stack.enter_context(
                    run_sandbox(
                        f"sqlite:///{data_dir / 'sandbox.db'}",
                        webhook_url=None,  # the shop registers its own endpoint below
                        business_name="Lumen Goods",
                        port=sandbox_port,
                    )
                )
            except RuntimeError as exc:
                raise DemoError(
                    f"the sandbox did not start on 127.0.0.1:{sandbox_port} ({exc}); "
                    "is the port taken? try --sandbox-port"
                ) from exc
            client = stack.enter_context(
                LumenLater(api_key=sandbox.secret_key, base_url=sandbox.base_url)
            )
            try:
                shop = stack.enter_context(
                    serving.serve(
                        api_key=sandbox.secret_key,
                        base_url=sandbox.base_url,
                        db_path=data_dir / "shop.db",
                        port=shop_port,
                        # The cart then offers the embedded checkout beside the redirect.
                        publishable_key=sandbox.publishable_key,
                    )
                )
            except OSError as exc:
                raise DemoError(
                    f"cannot serve the shop on 127.0.0.1:{shop_port} ({exc.strerror}); try --port"
                ) from exc
            except LumenLaterError as exc:
                raise DemoError(f"registering the shop's webhook endpoint failed: {exc}") from exc
            yield cls(
                sandbox_url=sandbox.base_url,
                secret_key=sandbox.secret_key,
                publishable_key=sandbox.publishable_key,
                shop=shop,
                client=client,
            )

    def explain(self) -> None:
        """Print where everything runs and what to try."""
        env = f"LUMENLATER_API_KEY={self.secret_key} LUMENLATER_BASE_URL={self.sandbox_url}"
        cli = cli_command()
        shop = self.shop.url
        print(
            f"""
LumenLater demo is running (a fresh sandbox; everything is deleted when you stop it).

  Shop             {shop}/
  Sandbox API      {self.sandbox_url}
  Secret key       {self.secret_key}
  Publishable key  {self.publishable_key}
  Webhook endpoint {self.shop.endpoint_id} -> {shop}/webhooks/lumenlater

Try it:
  1. Open {shop}/ and add something to your cart.
  2. "Pay here" embeds LumenLater's checkout in the shop's page; "Check out"
     opens LumenLater's hosted page. Choose the "approve" test wallet and confirm.
     "decline" has no collateral and is refused; "limited" has 100 USDC of
     credit: it pays a small order and is refused one above that (two lamps).
  3. You land on the shop's thank-you page; {shop}/orders shows the order
     paid as soon as the webhook arrives.
  4. Move the ledger clock 20 days and watch the order go overdue (paste this
     into another shell as it is):
       {env} \\
         {cli} clock advance 20d

Press Ctrl-C to stop.""",
            flush=True,
        )


def cli_command() -> str:
    """How a new shell runs this ``lumenlater``: the console script beside this Python
    (a virtualenv's ``bin/``, which a new shell does not have on its PATH), by its full
    path, or ``python -m lumenlater_sdk.cli`` with this Python if there is none."""
    bin_dir = Path(sys.executable).parent  # not resolved: a venv's python is a symlink
    script = shutil.which("lumenlater", path=str(bin_dir))
    if script is not None:
        return shlex.quote(script)
    return f"{shlex.quote(sys.executable)} -m lumenlater_sdk.cli"


def _checkout_root() -> Path:
    # lumenlater_sdk/cli/_demo.py -> the checkout the package is installed from.
    return Path(__file__).resolve().parents[2]


def _load_shop() -> _Serving:
    """Import ``examples.flask_shop.serving`` from the source checkout."""
    if SHOP_MODULE not in sys.modules:
        _import_by_path()
    return cast(_Serving, importlib.import_module(f"{SHOP_MODULE}.serving"))


def _import_by_path() -> None:
    package_dir = _checkout_root() / "examples" / "flask_shop"
    init = package_dir / "__init__.py"
    if not init.is_file():
        raise DemoError(
            f"the example shop is not at {package_dir}; `lumenlater demo` runs from a source "
            "checkout installed with `pip install -e '.[backend,examples]'`"
        )
    # By path, so an unrelated installed package called `examples` cannot shadow it.
    spec = importlib.util.spec_from_file_location(
        SHOP_MODULE, init, submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[SHOP_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[SHOP_MODULE]
        raise
