"""What the server adds to the page shell (the ``index.html`` Streamlit serves for every page) so a
first visit waits less in the browser (``dashboard/Home.py`` installs it as ASGI middleware): where
the server is. Opened at a page's own address (``/embedding_map``, a shared link), Streamlit's code
first looks for its server under that path (a 404, then a retry ~0.1 s later one level up);
``window.__streamlit.BACKEND_BASE_URL`` (Streamlit's setting for an app served inside another page)
names that level at once: the parent of the page's address as the browser sees it, so a reverse proxy
that serves the dashboard under a path of its own keeps working. The shell of the root (``/``) is left
as it is (Streamlit finds its server there at once). (Starting the import of the chart library's code
as the page's connection opened, to evaluate it while the server runs the page, was measured too and
left out: no gain beyond the noise on 2 cores, where the browser's main thread is the bottleneck.)

Only a page's shell changes (a whole, uncompressed 200 answer): no other response, no websocket
message. The snippet is fixed text; nothing from a request enters it.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config

SNIPPET = (b"<script>window.__streamlit = Object.assign({}, window.__streamlit, "
           b"{BACKEND_BASE_URL: new URL('.', window.location.href).href});</script>")
PAGE = re.compile(r"/[^/]+")  # one segment: a page's own address (never /static/…, /_stcore/…, /media/…)
UNEDITABLE = (b"range", b"if-range", b"accept-encoding", b"if-none-match", b"if-modified-since")


def page_path(scope: Scope, base_path: str) -> bool:
    """True when the request asks for a page's own address (``/<page>`` under the server's
    ``base_path`` and the ASGI ``root_path``), the shell that gets :data:`SNIPPET`."""
    path = str(scope.get("path", ""))
    for prefix in (str(scope.get("root_path") or ""), "/" + base_path.strip("/") if base_path.strip("/") else ""):
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix):]
    return scope.get("type") == "http" and scope.get("method") == "GET" and PAGE.fullmatch(path) is not None


class PageShell:
    """ASGI middleware: a page's shell gets :data:`SNIPPET` before ``</head>``; every other response
    passes untouched. The shell is asked for whole and uncompressed (it is ~10 KB), so it can be
    edited; an answer that is not a whole, unencoded HTML page passes as it came."""

    def __init__(self, app: ASGIApp, base_path: str | None = None) -> None:
        self.app = app
        self.base_path = config.get_option("server.baseUrlPath") if base_path is None else base_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not page_path(scope, self.base_path or ""):
            await self.app(scope, receive, send)
            return
        scope = dict(scope, headers=[(name, value) for name, value in scope.get("headers", [])
                                     if name.lower() not in UNEDITABLE],
                     extensions={name: value for name, value in (scope.get("extensions") or {}).items()
                                 if name != "http.response.pathsend"})
        held: list[Message] = []
        body: list[bytes] = []

        async def edit(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = {name.lower(): value for name, value in message.get("headers", [])}
                if (message.get("status") == 200 and b"content-encoding" not in headers
                        and headers.get(b"content-type", b"").lower().startswith(b"text/html")):
                    held.append(message)
                    return
            if not held or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(body).replace(b"</head>", SNIPPET + b"</head>", 1)
            headers = [(name, value) for name, value in held[0].get("headers", [])
                       if name.lower() not in (b"content-length", b"etag", b"last-modified")]
            await send(dict(held[0], headers=headers + [(b"content-length", str(len(page)).encode())]))
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, edit)
