"""The HTTP API and the web page on stored hits: `newswatch api` serves them (FastAPI on uvicorn).

    access.py   tokens, the loopback decision, CSRF values    gate.py     the token check of every request
    params.py   the hit filters as query parameters           reading.py  what routes and pages read
    routes.py   JSON: /hits, /hits/{id}, /articles/{id}, /rules, /feeds, /stats
    schemas.py  the JSON answers (and so the OpenAPI schema)  app.py      create_app: it all put together
    pages.py    the web page: hit list, timeline, one hit      login.py    logging in and out
    render.py   Jinja2 (autoescaped) and marked text          timeline.py hits per rule per day as bars

Every front end asks the one query of `storage.hit_queries`, so the API, the page and `newswatch hits` answer
the same filters with the same hits.
"""
