"""Which addresses a live-mode webhook may reach: public ones only (the SSRF guard).

A webhook URL is chosen by a merchant, and the backend POSTs to it from inside its
own network; in live mode it must not become a way to reach that network
(``http://10.0.0.5/admin``, the cloud's ``http://169.254.169.254/`` metadata
service, ``http://localhost:6379``). The rule is applied twice, from this one
module:

* when an endpoint is created or its URL changed (the webhook-endpoint service):
  an IP literal, or a name resolving to any address that is not public, is
  refused with a 400. A name that does not resolve *at all* is accepted: DNS may
  be set up after the endpoint, or be failing for a moment, and nothing can be
  reached through a name that resolves nowhere; the sender's check below is the
  one that guards.
* when a delivery connects (the sender): it resolves the name itself, keeps only
  the public addresses and connects to one of those (TLS still verifies the name),
  so a name that resolved to a public address at creation and to an internal one
  later (DNS rebinding) reaches nothing.

Not public: unspecified, loopback, link-local, multicast, private and reserved
addresses, and anything else :mod:`ipaddress` does not call global (shared
``100.64.0.0/10`` space); an IPv4 address inside IPv6 (``::ffff:10.0.0.1``, or the
NAT64 prefix ``64:ff9b::/96``) is judged as the IPv4 address it carries. The
sandbox applies none of this: its receivers are on ``127.0.0.1``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable

__all__ = [
    "AddressNotAllowed",
    "allowed_addresses",
    "check_public_host",
    "literal_refusal",
    "non_public",
]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

_KINDS = (
    ("is_unspecified", "an unspecified"),
    ("is_loopback", "a loopback"),
    ("is_link_local", "a link-local"),
    ("is_multicast", "a multicast"),
    ("is_reserved", "a reserved"),
    ("is_private", "a private"),
)
"""The first that applies names the refusal (127.0.0.1 is loopback before private)."""


class AddressNotAllowed(ValueError):
    """The host is, or resolves to, an address live-mode webhooks may not reach."""


def non_public(address: str) -> str | None:
    """What kind of non-public address the IP literal *address* is (``"a private
    address"``), or ``None`` if it is public. ``ValueError`` if it is no IP address."""
    ip = ipaddress.ip_address(address.strip("[]").partition("%")[0])  # no zone id
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    for prop, kind in _KINDS:
        if getattr(ip, prop):
            return f"{kind} address"
    if not ip.is_global:
        return "not a public address"
    return None


Refuse = Callable[[str], "str | None"]
"""Given an IP address, why it may not be reached (``None``: it may).
:func:`non_public` is live mode's."""


def literal_refusal(host: str, refuse: Refuse = non_public) -> str | None:
    """Why *host* may not be reached if it is an IP literal *refuse* objects to."""
    try:
        ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:  # a name
        return None
    kind = refuse(host)
    return None if kind is None else f"{host} is {kind}"


def check_public_host(host: str) -> None:
    """Refuse (``AddressNotAllowed``) a host that is, or resolves to, a non-public address.

    Blocking (``socket.getaddrinfo``): call it off the event loop. A name that does
    not resolve passes (see the module's docstring).
    """
    if (refusal := literal_refusal(host)) is not None:
        raise AddressNotAllowed(refusal)
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # does not resolve (yet): the sender checks again
        return
    for *_, sockaddr in infos:
        ip = str(sockaddr[0])
        kind = non_public(ip)
        if kind is not None:
            raise AddressNotAllowed(f"{host} resolves to {ip}, {kind}")


async def allowed_addresses(host: str, port: int, refuse: Refuse = non_public) -> list[str]:
    """The addresses *host* resolves to now that *refuse* allows, in resolver order.

    ``AddressNotAllowed`` if there is none (an IP literal is judged as it is);
    ``OSError`` (``socket.gaierror``) if the name does not resolve.
    """
    if (refusal := literal_refusal(host, refuse)) is not None:
        raise AddressNotAllowed(refusal)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed: list[str] = []
    refused = ""
    for *_, sockaddr in infos:
        ip = str(sockaddr[0])
        kind = refuse(ip)
        if kind is None:
            if ip not in allowed:
                allowed.append(ip)
        elif not refused:
            refused = f"{ip}, {kind}"
    if not allowed:
        raise AddressNotAllowed(f"{host} resolves to {refused}")
    return allowed
