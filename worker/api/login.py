"""Logging in to the web page with a token, and out again (the rules are in `access.py`).

The token is kept in an HttpOnly, SameSite=Strict cookie (Secure when served over https), for twelve hours.
Both forms are CSRF-safe: the login form's random value must equal its cookie's (a page of another site can
set neither), the log-out form's value is an HMAC of the session's token. Only a path of this site is followed
after logging in (`next`), never another site.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newswatch.worker.api.access import csrf_value, new_login_nonce, same_value
from newswatch.worker.api.gate import SESSION_COOKIE, session_token
from newswatch.worker.api.reading import AppState, app_state
from newswatch.worker.api.render import render

router = APIRouter(include_in_schema=False)
State = Annotated[AppState, Depends(app_state)]
LOGIN_COOKIE = "newswatch_login"
LOGIN_PATH = "/web/login"
SESSION_SECONDS = 12 * 3600
HOME = "/web/"


@router.get(LOGIN_PATH, response_class=HTMLResponse)
def login_form(request: Request, state: State, next: str = HOME) -> Response:
    """The login form, with a fresh value for its cookie; straight on when no login is needed."""
    if state.access.open or state.access.allows(session_token(request.headers)):
        return RedirectResponse(_local(next), status_code=303)
    return _form(request, next=next)


@router.post(LOGIN_PATH, response_class=HTMLResponse)
def login(
    request: Request,
    state: State,
    token: Annotated[str, Form(max_length=1000)] = "",
    nonce: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    """Check the form's value and the token; on success keep the token in the session cookie."""
    if not same_value(nonce, request.cookies.get(LOGIN_COOKIE)):
        return _form(request, next=next, status=403, error="the login form expired: log in again")
    token = token.strip()
    if state.access.open or not state.access.allows(token):
        return _form(request, next=next, status=401, error="wrong token")
    answer = RedirectResponse(_local(next), status_code=303)
    secure = request.url.scheme == "https"
    answer.set_cookie(
        SESSION_COOKIE, token, max_age=SESSION_SECONDS, path="/", httponly=True, samesite="strict", secure=secure
    )
    answer.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH, httponly=True, samesite="strict", secure=secure)
    return answer


@router.post("/web/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    """Forget the session cookie; only with the form's value, so another site cannot log anyone out."""
    token = session_token(request.headers)
    if token is None or not same_value(csrf, csrf_value(token)):
        return render(request, "missing.html.j2", 403, message="the form expired: reload the page and try again")
    answer = RedirectResponse(LOGIN_PATH, status_code=303)
    answer.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return answer


def _form(request: Request, *, next: str, status: int = 200, error: str | None = None) -> Response:
    nonce = new_login_nonce()
    answer = render(request, "login.html.j2", status, nonce=nonce, next=_local(next), error=error)
    answer.set_cookie(
        LOGIN_COOKIE, nonce, path=LOGIN_PATH, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return answer


def _local(target: str) -> str:
    """`target` when it is a path of this site's web page, else the hit list."""
    if target.startswith(HOME) and "//" not in target and "\\" not in target and all(c.isprintable() for c in target):
        return target
    return HOME
