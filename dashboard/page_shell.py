"""What the server adds to the page shell (the ``index.html`` Streamlit serves for every page) so a
first visit waits less in the browser (``dashboard/Home.py`` installs it as ASGI middleware): the
server's address. Opened at a page's own address (``/embedding_map``, a shared link), Streamlit's
code first looks for its server under that path (a 404, then a retry ~0.1 s later at the root);
``window.__streamlit.BACKEND_BASE_URL`` (Streamlit's setting for an app served inside another page)
names the root at once. (Starting the import of the chart library's code as the page's connection
opened, so it is evaluated while the server runs the page, was measured too and left out: no gain
beyond the noise on 2 cores, where the browser's main thread is the bottleneck either way.)

Only the shell changes: no other response, no websocket message. The snippet is fixed when the server
starts, from its ``server.baseUrlPath``; nothing from a request enters it.
"""

from __future__ import annotations

import json
from typing import Awaitable, Callable, MutableMapping

from streamlit import config

Scope = MutableMapping[str, object]
Message = MutableMapping[str, object]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

NOT_PAGES = ("/static/", "/_stcore/", "/media/", "/component/", "/app/static/")


def snippet(base_path: str = "") -> str:
    """The ``<script>`` the shell gets before ``</head>``: the server's address, the root under
    ``base_path`` (Streamlit's ``server.baseUrlPath``)."""
    base = "/" + base_path.strip("/") + ("/" if base_path.strip("/") else "")
    code = ("window.__streamlit = Object.assign({}, window.__streamlit, "
            f"{{BACKEND_BASE_URL: window.location.origin + {json.dumps(base)}}});")
    return "<script>" + code.replace("</", "<\\/") + "</script>"


class PageShell:
    """ASGI middleware: the page shell gets :func:`snippet` before ``</head>``; every other response
    passes untouched. The shell is asked for without compression (it is ~10 KB) so it can be edited."""

    def __init__(self, app: ASGIApp, base_path: str | None = None) -> None:
        self.app = app
        self.insert = snippet(config.get_option("server.baseUrlPath") if base_path is None else base_path).encode()

    async def __call__(self, scope: Scope, receive, send) -> None:
        path = str(scope.get("path", ""))
        if scope.get("type") != "http" or scope.get("method") != "GET" or any(part in path for part in NOT_PAGES):
            await self.app(scope, receive, send)
            return
        scope = dict(scope, headers=[(name, value) for name, value in scope.get("headers", [])  # type: ignore[union-attr]
                                     if name.lower() != b"accept-encoding"])
        started: list[Message] = []
        body: list[bytes] = []

        async def edit(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))  # type: ignore[arg-type]
                if not headers.get(b"content-type", b"").startswith(b"text/html"):
                    await send(message)
                    return
                started.append(message)
                return
            if not started or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(bytes(message.get("body", b"")))  # type: ignore[arg-type]
            if message.get("more_body"):
                return
            page = b"".join(body)
            if b"</head>" in page:
                page = page.replace(b"</head>", self.insert + b"</head>", 1)
            start = started[0]
            headers = [(name, value) for name, value in start.get("headers", [])  # type: ignore[union-attr]
                       if name.lower() not in (b"content-length", b"etag")]
            await send(dict(start, headers=headers + [(b"content-length", str(len(page)).encode())]))
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, edit)
