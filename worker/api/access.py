"""Who may read the API: the bearer tokens of `NEWSWATCH_API_TOKENS`, the decision to serve without any, and the
CSRF values of the web page's forms.

- Tokens are compared in constant time against every configured token (`hmac.compare_digest`), so neither
  which token nor how much of one matched shows in the time an answer takes.
- Without tokens the API serves loopback only (`127.0.0.1`, `::1`, `localhost`): anyone on the machine can then
  read it, nobody else. Any other address without tokens is refused before anything is bound.
- A token is at least 16 characters of letters, digits and `-._~+/=`: what fits a header and a cookie unquoted,
  and too long to guess.
- The web page keeps the token in an HttpOnly, SameSite=Strict cookie. Its one form that changes state when
  logged in (log out) carries an HMAC of the session's token (a page of another site can neither read nor
  compute it); the login form carries a random value that must equal a cookie set with the form (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass

from newswatch.storage.errors import ConfigError
from newswatch.worker.settings_values import Secret

TOKENS_VARIABLE = "NEWSWATCH_API_TOKENS"
MIN_TOKEN_LENGTH = 16
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


@dataclass(frozen=True)
class Access:
    """The tokens the API accepts; none means open, which only a loopback-bound server may be."""

    tokens: tuple[str, ...]

    @property
    def open(self) -> bool:
        return not self.tokens

    def allows(self, presented: str | None) -> bool:
        """Whether `presented` is one of the tokens; compared with every one, each in constant time."""
        if self.open:
            return True
        if not presented:
            return False
        candidate = presented.encode("utf-8", "surrogateescape")
        found = False
        for token in self.tokens:
            found |= hmac.compare_digest(candidate, token.encode())
        return found


def parse_tokens(value: Secret | None) -> tuple[str, ...]:
    """The tokens of `NEWSWATCH_API_TOKENS` (comma separated); a `ConfigError` naming which one is unusable,
    never showing it."""
    if value is None:
        return ()
    tokens = tuple(part.strip() for part in value.get_secret_value().split(",") if part.strip())
    for number, token in enumerate(tokens, 1):
        which = f"token {number} of {len(tokens)}"
        if len(token) < MIN_TOKEN_LENGTH:
            raise ConfigError(
                f"api: {TOKENS_VARIABLE}: {which} has {len(token)} characters, fewer than {MIN_TOKEN_LENGTH} "
                "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        if not _TOKEN.fullmatch(token):
            raise ConfigError(f"api: {TOKENS_VARIABLE}: {which} has characters other than letters, digits and -._~+/=")
    return tokens


def is_loopback(host: str) -> bool:
    """Whether binding `host` reaches this machine only (an empty host or 0.0.0.0 means every interface)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def access_for(tokens: Secret | None, host: str) -> Access:
    """The access of a server bound to `host`: its tokens, or open on loopback; a `ConfigError` for a server
    that would answer anyone on the network without a token."""
    access = Access(parse_tokens(tokens))
    if access.open and not is_loopback(host):
        raise ConfigError(
            f"api: {TOKENS_VARIABLE} is not set: refusing to serve {host or 'every interface'} without tokens "
            "(set it, or bind to 127.0.0.1)"
        )
    return access


def new_login_nonce() -> str:
    """The random value of one login form and its cookie."""
    return secrets.token_urlsafe(32)


def csrf_value(token: str) -> str:
    """The CSRF value of forms for the session holding `token`: an HMAC of it, so only its holder has it."""
    return hmac.new(token.encode("utf-8", "surrogateescape"), b"newswatch web form", hashlib.sha256).hexdigest()


def same_value(presented: str | None, expected: str | None) -> bool:
    """Two secrets compared in constant time; a missing one matches nothing."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(
        presented.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )
