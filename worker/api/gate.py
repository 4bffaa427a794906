"""The one gate every request passes: the token check, before any route, parameter or 404 is looked at, and the
security headers of every answer.

A request is let in with `Authorization: Bearer TOKEN`, or, for reading (GET, HEAD), with the web page's
session cookie; a request that changes state needs the header, so that the cookie a browser sends by itself
cannot be used by a page of another site (the web page's log-out form checks its own CSRF value). Without
either: 401 and no data for the API (unknown paths included: they reveal nothing either), a redirect to the
login form for the web page. Open paths: `/healthz`, the login and log-out forms and their stylesheet.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newswatch.worker.api.access import Access

SESSION_COOKIE = "newswatch_session"
OPEN_PATHS = frozenset({"/healthz", "/web/login", "/web/logout", "/web/style.css"})
READING = frozenset({"GET", "HEAD"})
UNAUTHORIZED = {"detail": "api: missing or wrong token (send Authorization: Bearer TOKEN)"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]
CONTENT_SECURITY_POLICY = (
    b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""Everything but the OpenAPI explorer (`/docs`, which loads Swagger UI's scripts) runs no script at all."""
_SECURITY_NAMES = {name for name, _ in SECURITY_HEADERS}
HOMES = frozenset({"/", "/web"})
"""Paths that lead to the web page: without a session they lead to its login form."""


def bearer_token(headers: Headers) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header, if there is one."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def session_token(headers: Headers) -> str | None:
    """The token the web page's session cookie holds, if any."""
    return cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE) or None


class TokenGate:
    """ASGI middleware: the token check of the module docstring, and security headers on every answer."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _SECURITY_NAMES]
                headers += SECURITY_HEADERS
                if path != "/docs":
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY))
                message = {**message, "headers": headers}
            await send(message)

        if path in OPEN_PATHS or self._admits(scope):
            await self.app(scope, receive, send_secured)
            return
        if path in HOMES or (path.startswith("/web/") and scope["method"] in READING):
            query = scope["query_string"].decode("latin-1")
            target = "/web/" if path in HOMES else path + (f"?{query}" if query else "")
            location = "/web/login?next=" + quote(target, safe="/")
            await _respond(send_secured, 303, b"", [(b"location", location.encode())])
            return
        body = json.dumps(UNAUTHORIZED).encode()
        await _respond(
            send_secured, 401, body, [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
        )

    def _admits(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        if self.access.allows(bearer_token(headers)):
            return True
        return scope["method"] in READING and self.access.allows(session_token(headers))


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
