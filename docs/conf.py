"""Sphinx configuration of the LumenLater Python SDK documentation.

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
Only built-in extensions and this site's own (``docs/_ext``) are used, and nothing is
fetched from the network.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document the checkout, not some other installed copy
sys.path.insert(0, str(ROOT / "docs" / "_ext"))  # this site's own directives

from lumenlater_sdk import API_VERSION, __version__  # noqa: E402

project = "LumenLater Python SDK"
author = "LumenLater"
copyright = "LumenLater"
version = __version__
release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "lumenlater_cli",  # docs/_ext: the CLI reference, from the CLI's own parser
]

exclude_patterns = ["_build"]
templates_path: list[str] = []
html_static_path: list[str] = []
html_theme = "alabaster"
html_title = f"LumenLater Python SDK {release}"
html_theme_options = {
    "description": f"Buy now, pay later on Stellar. API version {API_VERSION}.",
    "fixed_sidebar": True,
    # Room for 88-column code samples next to the sidebar.
    "page_width": "1240px",
    "sidebar_width": "240px",
    "body_max_width": "940px",
}

rst_epilog = f"""
.. |api_version| replace:: ``{API_VERSION}``
"""

# Python is the language of unmarked literal blocks; shell sessions say ``console``.
highlight_language = "python3"
pygments_style = "sphinx"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True  # show `time.time`, not `<built-in function time>`
autodoc_class_signature = "mixed"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False


_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")


def _markdown_fences(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Render the Markdown code fences some module docstrings use as code blocks."""
    out: list[str] = []
    inside = False
    for line in lines:
        match = _FENCE.match(line)
        if match and not inside:
            indent, lang = match.groups()
            out += [f"{indent}.. code-block:: {lang or 'text'}", ""]
            inside = True
        elif match and inside:
            out.append("")
            inside = False
        else:
            out.append(("   " + line) if inside and line else line)
    lines[:] = out


# Classes the SDK builds for you: their constructors are not part of the API.
_BUILT_FOR_YOU = ("lumenlater_sdk._pagination.", "lumenlater_sdk.resources.")


def _without_private_parameters(signature: str) -> str:
    """``(a, *, b, _hook=None)`` → ``(a, *, b)``: drop parameters named ``_…``."""
    inner = signature.strip()[1:-1]
    params: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(inner):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            params.append(inner[start:i].strip())
            start = i + 1
    params.append(inner[start:].strip())
    kept = [p for p in params if p and not p.startswith("_")]
    while kept and kept[-1] in ("*", "/"):
        kept.pop()
    return "(" + ", ".join(kept) + ")"


def _signature(
    app: Any,
    what: str,
    name: str,
    obj: Any,
    options: Any,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """Trim signatures to what a user passes.

    Response models (their fields are listed below them) and the objects the client
    hands out (pages, resources) get no constructor signature; parameters named with a
    leading underscore (test hooks) are left out.
    """
    from pydantic import BaseModel

    if what in ("class", "exception") and isinstance(obj, type):
        qualified = f"{obj.__module__}.{obj.__qualname__}"
        if issubclass(obj, BaseModel) or qualified.startswith(_BUILT_FOR_YOU):
            return "", None
    if signature and ", _" in signature:
        return _without_private_parameters(signature), return_annotation
    return None


def _drop_modules_without_source(app: Any) -> list[Any]:
    """viewcode lists every module it looked at in ``_modules/index``, also those it found
    no source for (``time``, of ``BackendConfig.clock``'s default ``time.time``): a
    link to a page it never writes. Forget those before it writes the index."""
    modules = getattr(app.env, "_viewcode_modules", {})
    for name in [name for name, entry in modules.items() if not entry]:
        del modules[name]
    return []


def setup(app: Any) -> None:
    app.connect("autodoc-process-docstring", _markdown_fences)
    app.connect("autodoc-process-signature", _signature)
    # Before viewcode's own handler (priority 500).
    app.connect("html-collect-pages", _drop_modules_without_source, priority=400)
