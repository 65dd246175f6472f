"""The page shell tells the browser where the server is (dashboard.page_shell): only a page's own
HTML shell changes, its length follows; every other answer, the root's shell and the websocket pass
untouched."""

from __future__ import annotations

import asyncio

import pytest

from dashboard import page_shell

SHELL = b"<html><head><title>Streamlit</title></head><body></body></html>"
ASKED = [(b"accept-encoding", b"gzip, br"), (b"range", b"bytes=0-99"), (b"if-none-match", b'"abc"'),
         (b"host", b"127.0.0.1")]


@pytest.mark.parametrize("path, method, base, root, page", [
    ("/gallery", "GET", "", "", True),
    ("/", "GET", "", "", False),  # the root: Streamlit finds its server there at once
    ("/gallery/", "GET", "", "", False),
    ("/static/js/index.js", "GET", "", "", False),
    ("/_stcore/health", "GET", "", "", False),
    ("/gallery", "HEAD", "", "", False),
    ("/cornlens/gallery", "GET", "cornlens", "", True),  # under server.baseUrlPath
    ("/cornlens/", "GET", "/cornlens/", "", False),
    ("/proxy/gallery", "GET", "", "/proxy", True),  # under an ASGI root_path
])
def test_only_a_page_address_is_a_page(path, method, base, root, page):
    scope = {"type": "http", "method": method, "path": path, "root_path": root}
    assert page_shell.page_path(scope, base) is page


def test_the_snippet_is_fixed_text_naming_the_parent_of_the_page():
    assert b"new URL('.', window.location.href)" in page_shell.SNIPPET  # a proxy's own path prefix kept
    assert page_shell.SNIPPET.count(b"</script>") == 1


def serve(path: str, content_type: bytes, body: bytes, status: int = 200, extra: list | None = None):
    """Run the middleware around an app that answers ``body`` in two parts; what the app was asked,
    what was sent."""
    seen: dict = {}
    sent: list[dict] = []

    async def app(scope, receive, send):
        seen.update(scope)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                                (b"etag", b'"abc"'), (b"last-modified", b"Fri, 04 Dec 2026 14:17:34 GMT"),
                                *(extra or [])]})
        await send({"type": "http.response.body", "body": body[:10], "more_body": True})
        await send({"type": "http.response.body", "body": body[10:]})

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": list(ASKED),
             "extensions": {"http.response.pathsend": {}, "other": {}}}
    asyncio.run(page_shell.PageShell(app, base_path="")(scope, None, send))
    return seen, sent


def sent_body(sent: list[dict]) -> bytes:
    return b"".join(message.get("body", b"") for message in sent[1:])


@pytest.mark.parametrize("content_type", [b"text/html; charset=utf-8", b"Text/HTML"])
def test_a_page_gets_the_snippet_and_its_length(content_type):
    seen, sent = serve("/embedding_map", content_type, SHELL)
    assert [name for name, _ in seen["headers"]] == [b"host"]  # whole, uncompressed, never "not modified"
    assert "http.response.pathsend" not in seen["extensions"] and "other" in seen["extensions"]
    headers = dict(sent[0]["headers"])
    page = sent_body(sent)
    assert page.count(page_shell.SNIPPET) == 1 and page.index(page_shell.SNIPPET) < page.index(b"</head>")
    assert headers[b"content-length"] == str(len(page)).encode()
    assert b"etag" not in headers and b"last-modified" not in headers  # a cache never keeps an edited shell


@pytest.mark.parametrize("path, content_type, status, extra", [
    ("/static/js/index.js", b"text/javascript", 200, []),
    ("/", b"text/html", 200, []),
    ("/gallery", b"application/json", 200, []),
    ("/gallery", b"text/html", 206, []),  # part of a page: its byte range must stay true
    ("/gallery", b"text/html", 200, [(b"content-encoding", b"gzip")]),
    ("/gallery", b"text/html", 404, []),
])
def test_every_other_answer_passes_untouched(path, content_type, status, extra):
    body = b"<head>console.log('</head>')</head>" * 3
    _, sent = serve(path, content_type, body, status, extra)
    assert sent_body(sent) == body
    assert dict(sent[0]["headers"])[b"content-length"] == str(len(body)).encode()


def test_the_websocket_passes_untouched():
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    scope = {"type": "websocket", "path": "/_stcore/stream", "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(page_shell.PageShell(app, base_path="")(scope, None, None))
    assert seen == scope
