"""The app: routes, the web page and the token gate, put together for one set of settings and tokens.

`create_app` builds a new app each time and connects nowhere until a request comes; `newswatch api` decides
the tokens (`access.access_for`) and serves it with uvicorn. The OpenAPI schema and its explorer are routes of
their own, behind the gate like the rest.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from newswatch.storage.db import session_scope
from newswatch.worker.api import login, pages, routes
from newswatch.worker.api.access import Access
from newswatch.worker.api.gate import TokenGate
from newswatch.worker.api.reading import AppState
from newswatch.worker.api.render import render
from newswatch.worker.api.schemas import Health
from newswatch.worker.config import Settings
from newswatch.worker.rules import RuleCache

LOGGER = logging.getLogger(__name__)
DESCRIPTION = """Stored hits of newswatch's watch rules, with the same filters as `newswatch hits`.

Every route but `/healthz` needs `Authorization: Bearer TOKEN`, a token of `NEWSWATCH_API_TOKENS`."""


def create_app(settings: Settings, access: Access) -> FastAPI:
    """The API and the web page on `settings`' database and rules file, open to holders of `access`' tokens."""
    app = FastAPI(
        title="newswatch", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.newswatch = AppState(settings, access, RuleCache(settings.rules))
    app.include_router(routes.router)
    app.include_router(pages.router)
    app.include_router(login.router)
    app.add_api_route("/healthz", healthz, response_model=Health, tags=["health"], responses=_UNAVAILABLE)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="newswatch API")

    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_middleware(TokenGate, access=access)
    return app


_UNAVAILABLE: dict[int | str, dict[str, Any]] = {503: {"model": Health, "description": "The database cannot be read."}}


def healthz(request: Request) -> Response:
    """Whether the API can read its database; needs no token and says nothing else."""
    state: AppState = request.app.state.newswatch
    try:
        with session_scope(state.database_url) as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any failure to read is "unavailable"; the log has the reason
        LOGGER.exception("api: health check failed")
        return JSONResponse(Health(status="unavailable").model_dump(), status_code=503)
    return JSONResponse(Health(status="ok").model_dump())


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    """A 422 in FastAPI's shape for the API; for the web page, the hit list with what is wrong with its filters
    (other forms say only that something is wrong: they may be shown to someone not logged in)."""
    if request.url.path == "/web/":
        return await run_in_threadpool(pages.invalid_page, request, exc)
    if request.url.path.startswith("/web/"):
        return render(request, "missing.html.j2", 422, message="this request is not valid")
    return await request_validation_exception_handler(request, exc)
