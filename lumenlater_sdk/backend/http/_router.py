"""Path matching for route specs: exact paths in a dict, templates as regexes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._spec import RouteSpec

__all__ = ["Router"]

_PARAM = re.compile(r"\{([a-z_]+)\}")


class Router:
    """Finds the spec for (method, path); tells 404 from 405."""

    def __init__(self, specs: Sequence[RouteSpec]) -> None:
        self._exact: dict[str, dict[str, RouteSpec]] = {}
        self._templates: list[tuple[re.Pattern[str], dict[str, RouteSpec]]] = []
        by_template: dict[str, dict[str, RouteSpec]] = {}
        for spec in specs:
            methods = by_template.setdefault(spec.path, {})
            if spec.method in methods:
                raise ValueError(f"duplicate route {spec.method} {spec.path}")
            methods[spec.method] = spec
        for template, methods in by_template.items():
            if "{" not in template:
                self._exact[template] = methods
            else:
                pattern = "^" + _PARAM.sub(r"(?P<\1>[^/]+)", template) + "$"
                self._templates.append((re.compile(pattern), methods))

    def match(self, method: str, path: str) -> tuple[RouteSpec | None, dict[str, str], bool]:
        """(spec, path params, path exists). ``spec`` is None for 404 or 405."""
        methods = self._exact.get(path)
        params: dict[str, str] = {}
        if methods is None:
            for pattern, candidate in self._templates:
                m = pattern.match(path)
                if m:
                    methods, params = candidate, m.groupdict()
                    break
        if methods is None:
            return None, {}, False
        if method == "HEAD":
            method = "GET"
        return methods.get(method), params, True
