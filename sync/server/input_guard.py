"""Refuse NUL characters in any request (path, query or JSON body) with 422, on every backend alike.

PostgreSQL cannot store or even compare text containing U+0000 (psycopg raises ``DataError``), while
SQLite stores it silently: without this guard the same request would be a 500 on one backend and
stored data on the other. schemathesis found it (tests/server/test_openapi_fuzz.py). The check runs as
an app-wide dependency, before any route touches the database; JSON can carry NUL only as the escape
``\\u0000`` (an escaped backslash before ``u0000`` is plain text and passes).
"""

from __future__ import annotations

import re

from fastapi import Request

from sync.server.errors import Unprocessable

_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
NUL_REFUSED = "Die Anfrage enthält ein Nullzeichen (U+0000); das ist nicht erlaubt."


async def reject_nul(request: Request) -> None:
    """422 when the path, a query parameter or the body contains U+0000."""
    if "\x00" in request.url.path or any("\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()):
        raise Unprocessable(NUL_REFUSED, field="query")
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = await request.body()
        # The plain substring tests are memchr-fast; the regex (is the backslash escaped?) runs only on a hit.
        if b"\x00" in body or ((b"\\u0000" in body or b"\\U0000" in body) and _JSON_NUL.search(body)):
            raise Unprocessable(NUL_REFUSED, field="body")
