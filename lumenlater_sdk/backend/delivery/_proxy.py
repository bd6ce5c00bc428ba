"""Which HTTP proxy a webhook POST goes through, if any.

The proxy is the one configured (``BackendConfig.webhook_proxy``, the worker's
``proxy=``) or else the environment's ``HTTP_PROXY`` / ``HTTPS_PROXY`` /
``ALL_PROXY`` (read with :func:`urllib.request.getproxies`, lower-case names
first, ``HTTP_PROXY`` ignored under CGI, as every Python HTTP client reads them).
Either way ``NO_PROXY`` (or the sender's ``no_proxy=``) names the hosts reached
directly. Only ``http://`` proxies are spoken to: plain-HTTP webhooks go to them
with the absolute URL as the request target, HTTPS ones through a ``CONNECT``
tunnel, TLS end to end with the receiver. A ``user:password@`` in the proxy URL
becomes ``Proxy-Authorization: Basic``.
"""

from __future__ import annotations

import base64
import ipaddress
import urllib.request
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = ["NoProxy", "Proxies", "Proxy", "parse_proxy"]


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy: where it listens and the ``Proxy-Authorization`` value, if any."""

    host: str
    port: int
    authorization: str | None = None

    def __str__(self) -> str:  # for messages: never the credentials
        name = f"[{self.host}]" if ":" in self.host else self.host
        return f"proxy {name}:{self.port}"


def parse_proxy(url: str) -> Proxy:
    """``http://[user:password@]host[:port]`` (the scheme may be left out, as in
    ``HTTP_PROXY=proxy:3128``); ``ValueError`` for any other kind of proxy."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    try:
        port = parts.port or 80
    except ValueError:
        port = 0
    if parts.scheme != "http" or not parts.hostname or not port:
        shown = f"{parts.scheme}://{parts.hostname or ''}" + (f":{port}" if port else "")
        raise ValueError(
            f"unsupported webhook proxy {shown!r}: only http://host:port proxies are spoken to"
        )
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return Proxy(parts.hostname, port, authorization)


class NoProxy:
    """A ``NO_PROXY`` list: comma-separated entries, matched as curl and httpx do.

    ``*`` matches every host; ``example.com`` (or ``.example.com``) matches it and
    its subdomains; ``example.com:8443`` only that port; an IP address or a CIDR
    range (``10.0.0.0/8``, ``::1``, ``[::1]``) the hosts written as addresses in it.
    """

    def __init__(self, spec: str) -> None:
        self.everything = False
        self.names: list[tuple[str, int | None]] = []
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for raw in spec.split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                self.everything = True
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            name, port = entry, None
            head, sep, tail = entry.rpartition(":")
            if sep and tail.isdigit() and (":" not in head or head.endswith("]")):
                name, port = head, int(tail)
            self.names.append((name.strip("[]").lstrip("."), port))

    def matches(self, host: str, port: int) -> bool:
        """Whether *host* (a name or an address, no brackets) on *port* is reached directly."""
        if self.everything:
            return True
        host = host.lower()
        if self.networks:
            try:
                ip = ipaddress.ip_address(host)
            except ValueError:
                pass
            else:
                if any(ip in net for net in self.networks):
                    return True
        return any(
            (host == name or host.endswith("." + name)) and want in (None, port)
            for name, want in self.names
        )


class Proxies:
    """The proxy of each URL scheme and the hosts that bypass them.

    *proxy*, if given, serves both schemes; otherwise, with *trust_env*, the
    environment's do. *no_proxy* defaults to the environment's ``NO_PROXY``.
    """

    def __init__(
        self, proxy: str | None = None, *, no_proxy: str | None = None, trust_env: bool = True
    ) -> None:
        env = urllib.request.getproxies() if trust_env else {}
        self.by_scheme: dict[str, Proxy] = {}
        if proxy is not None:
            self.by_scheme = dict.fromkeys(("http", "https"), parse_proxy(proxy))
        else:
            for scheme in ("http", "https"):
                url = env.get(scheme) or env.get("all")
                if url:
                    try:
                        self.by_scheme[scheme] = parse_proxy(url)
                    except ValueError as exc:
                        raise ValueError(f"{scheme.upper()}_PROXY / ALL_PROXY: {exc}") from None
        self.no_proxy = NoProxy(no_proxy if no_proxy is not None else env.get("no", ""))

    def __bool__(self) -> bool:
        return bool(self.by_scheme)

    def route(self, scheme: str, host: str, port: int) -> Proxy | None:
        """The proxy a request to this origin goes through, or ``None`` for a direct one."""
        proxy = self.by_scheme.get(scheme)
        if proxy is None or self.no_proxy.matches(host, port):
            return None
        return proxy
