"""Who may talk to the page's server: this machine's own pages, never another site.

Checked once for every request, before any route runs (RequestGuard):
- the Host header must name the address the server is bound to, or localhost, or a name given
  with --allow-host: a page of attacker.example whose name was re-pointed at 127.0.0.1 (DNS
  rebinding) sends `Host: attacker.example` and is refused;
- a browser's request from another site is refused: its Origin (sent with every POST) must be
  this server's, and Sec-Fetch-Site must say same-origin (or none: typed in the address bar).
  Only the page itself may be reached from elsewhere, by a top-level navigation (a link);
- request bodies are capped before they are read (Content-Length, then as they stream).

The page's session id travels only in the X-Session header, which a page of another origin
cannot set without a CORS preflight, and the server grants none: it has no CORS handling.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from siammask.serve.limits import MAX_JSON_BYTES, Refused

LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
SAME_SITE = ("same-origin", "none")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),  # no page of another site frames this one (clickjacking)
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),  # job ids are in links: never sent on
]


def allowed_hosts(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host names this server answers to: the bound address, localhost, the names given; bound
    to every interface (0.0.0.0), this machine's own names and addresses too."""
    names = {bound.lower().strip("[]"), *LOCAL_NAMES, *(e.lower().strip("[]") for e in extra)}
    if bound in WILDCARD_ADDRESSES:
        names |= _machine_names()
    names.discard("")
    return frozenset(names)


def _machine_names() -> set[str]:
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            names.add(str(info[4][0]).lower())
    except OSError:
        pass
    return names


def host_name(value: str) -> str | None:
    """The name of a Host header (`name`, `name:port`, `[v6]:port`), lower case; None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1:]
        if end < 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        return value[1:end]
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    if not name or any(c.isspace() or c in "/@?#\\" for c in name):
        return None
    return name


def _origin_host(origin: str) -> str | None:
    """`scheme://host[:port]` of an Origin header as `host[:port]`, or None ("null", other schemes)."""
    scheme, sep, rest = origin.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or "/" in rest:
        return None
    return rest.lower()


class RequestGuard:
    """ASGI middleware: refuse other Hosts and cross-site requests; add the security headers."""

    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = self.problem(Headers(scope=scope), scope.get("method", "GET"), scope.get("path", "/"))
        if problem is not None:
            status, message = problem
            await JSONResponse({"error": message}, status)(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)

    def problem(self, headers: Headers, method: str, path: str) -> tuple[int, str] | None:
        """(status, one line) for a request to refuse, None for one to serve."""
        host = host_name(headers.get("host", ""))
        if host is None or host not in self.hosts:
            shown = ", ".join(sorted(self.hosts - {"::1"})[:6])
            return 400, (f"this server answers only to {shown} (the Host header names another: "
                         "a page of another site? say --allow-host NAME to serve under that name)")
        site = headers.get("sec-fetch-site")
        navigation = (method == "GET" and path == "/" and headers.get("sec-fetch-mode") == "navigate"
                      and headers.get("sec-fetch-dest", "document") == "document")
        if site is not None and site not in SAME_SITE and not navigation:
            return 403, "refused: a request from another site (only this server's own page may call it)"
        origin = headers.get("origin")
        if origin is not None and not navigation and _origin_host(origin) != headers.get("host", "").lower():
            return 403, "refused: a request from another origin (only this server's own page may call it)"
        length = headers.get("content-length")
        if length is not None and not length.strip().isdigit():
            return 400, "the Content-Length header is not a number"
        return None


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The request's body, refused (413) past `limit` bytes: by its Content-Length before reading,
    then as it streams (a body sent in chunks declares none)."""
    declared = request.headers.get("content-length")
    too_big = Refused(f"{what}: larger than {limit} bytes", 413)
    if declared is not None and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_big
            chunks.append(chunk)
    except ClientDisconnect:
        raise Refused(f"{what}: the connection closed before the body ended", 400) from None
    return b"".join(chunks)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


async def read_json(request: Request, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The request's JSON object: declared as application/json (a page of another site cannot send
    that without a preflight), at most `limit` bytes, standard JSON (no NaN), nested sanely."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Refused("the request body must be sent as application/json", 415)
    body = await read_body(request, limit, "the request body")
    try:
        value = json.loads(body, parse_constant=_no_constants)
    except RecursionError:
        raise Refused("the request body is nested too deep") from None
    except (ValueError, UnicodeDecodeError):
        raise Refused("the request body is not JSON") from None
    if not isinstance(value, dict):
        raise Refused("the request body is not a JSON object")
    return value
