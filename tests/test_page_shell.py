"""The page shell tells the browser where the server is (dashboard.page_shell): only the HTML page
changes, its length follows, every other response and the websocket pass untouched."""

from __future__ import annotations

import asyncio

from dashboard import page_shell

SHELL = b"<html><head><title>Streamlit</title></head><body></body></html>"


def test_snippet_names_the_root_under_the_base_path():
    assert "window.location.origin + \"/\"" in page_shell.snippet("")
    assert "window.location.origin + \"/cornlens/\"" in page_shell.snippet("/cornlens/")
    assert "window.location.origin + \"/a/b/\"" in page_shell.snippet("a/b")
    assert "</script><" not in page_shell.snippet("</script><script>alert(1)")  # never closes its own tag


def serve(path: str, content_type: bytes, body: bytes, scope_type: str = "http", method: str = "GET"):
    """Run the middleware around an app that answers ``body``; what the app saw, what was sent."""
    seen: dict = {}
    sent: list[dict] = []

    async def app(scope, receive, send):
        seen.update(scope)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                                (b"etag", b'"abc"')]})
        await send({"type": "http.response.body", "body": body[:10], "more_body": True})
        await send({"type": "http.response.body", "body": body[10:]})

    async def send(message):
        sent.append(message)

    scope = {"type": scope_type, "method": method, "path": path,
             "headers": [(b"accept-encoding", b"gzip, br"), (b"host", b"127.0.0.1")]}
    asyncio.run(page_shell.PageShell(app, base_path="")(scope, None, send))
    return seen, sent


def test_the_page_gets_the_snippet_and_its_length():
    seen, sent = serve("/embedding_map", b"text/html; charset=utf-8", SHELL)
    assert (b"accept-encoding", b"gzip, br") not in seen["headers"]  # asked uncompressed, to be edited
    headers = dict(sent[0]["headers"])
    page = b"".join(message.get("body", b"") for message in sent[1:])
    assert page.count(b"BACKEND_BASE_URL") == 1 and page.index(b"BACKEND_BASE_URL") < page.index(b"</head>")
    assert headers[b"content-length"] == str(len(page)).encode() and b"etag" not in headers


def test_every_other_response_passes_untouched():
    script = b"console.log('</head>')" * 3
    for path, content_type, body in [("/static/js/index.js", b"text/javascript", script),
                                     ("/_stcore/health", b"text/plain", b"ok"),
                                     ("/gallery", b"application/json", b'{"a": "</head>"}')]:
        seen, sent = serve(path, content_type, body)
        assert b"".join(message.get("body", b"") for message in sent[1:]) == body
        assert dict(sent[0]["headers"])[b"content-length"] == str(len(body)).encode()
    seen, sent = serve("/", b"text/html", SHELL, method="HEAD")
    assert (b"accept-encoding", b"gzip, br") in seen["headers"]  # not a GET: untouched


def test_the_websocket_passes_untouched():
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    scope = {"type": "websocket", "path": "/_stcore/stream", "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(page_shell.PageShell(app, base_path="")(scope, None, None))
    assert seen == scope
