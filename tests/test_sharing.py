"""Safe to share: the server listens on this machine only, and the pages open only the folders the
person who started the dashboard allowed; a bundle's paths never lead the full-size view elsewhere."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from tests.apptest import HOME, card_ids, open_card, open_page

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def only_the_results_folder(empty_results, monkeypatch) -> Path:
    """The dashboard may open bundles under an empty results folder only."""
    monkeypatch.delenv("CORNLENS_ROOTS", raising=False)
    return empty_results


def test_the_server_listens_on_localhost_by_default():
    config = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"


def test_a_typed_folder_outside_the_allowed_roots_is_refused_on_the_page(demo_bundle, only_the_results_folder):
    app = open_page()
    app.text_input(key="bundle_typed").input(str(demo_bundle)).run()
    assert not app.exception
    errors = [element.value for element in app.error]
    assert len(errors) == 1 and "outside the folders this dashboard may open" in errors[0]
    assert "CORNLENS_ROOTS" in errors[0] and not app.table  # nothing of the bundle is shown


def test_a_query_bundle_outside_the_allowed_roots_is_refused_then_allowed_by_the_variable(demo_bundle, monkeypatch):
    app = open_page(demo_bundle)
    assert "CORNLENS_ROOTS" in app.error[0].value and not app.table
    monkeypatch.setenv("CORNLENS_ROOTS", str(demo_bundle.parent))
    app = open_page(demo_bundle)
    assert not app.error and app.table  # the same bundle, now allowed, opens


def test_a_bundle_in_the_results_folder_opens(demo_bundle, only_the_results_folder):
    shutil.copytree(demo_bundle, only_the_results_folder / "demo")
    app = open_page()
    assert not app.error and app.table


def test_the_full_size_view_refuses_an_image_path_that_links_elsewhere(demo_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("CORNLENS_ROOTS", str(tmp_path))
    copy, root = tmp_path / "bundle", tmp_path / "data"
    shutil.copytree(demo_bundle, copy)
    app = open_page(copy)
    app.switch_page("views/gallery.py").run()
    image_id = card_ids(app)[0]
    relative = pd.read_parquet(copy / "images.parquet").set_index("image_id").loc[image_id, "path"]
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"not for the browser")
    (root / relative).parent.mkdir(parents=True)
    (root / relative).symlink_to(secret)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["dataset"]["root"] = str(root)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    app = open_page(copy)
    app.switch_page("views/gallery.py").run()
    open_card(app, image_id)
    assert not app.exception
    refusal = " ".join(element.value for element in app.error)
    assert "images.parquet row" in refusal and f"image_id {image_id!r}" in refusal and "outside the dataset" in refusal
    assert str(secret) not in [image.proto.imgs[0].caption for image in app.image]


def listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as in /proc/net/tcp*) with a socket listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the listening sockets from /proc (Linux)")
def test_the_real_server_listens_on_loopback_only(tmp_path):
    port = free_port()
    log = open(tmp_path / "streamlit.log", "w+")
    process = subprocess.Popen(  # no --server.address: the project's .streamlit/config.toml decides
        [sys.executable, "-m", "streamlit", "run", str(HOME), "--server.port", str(port),
         "--server.fileWatcherType", "none"],
        cwd=PROJECT_ROOT, env=os.environ | {"CORNLENS_RESULTS": str(tmp_path)}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not listening_addresses(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"the dashboard server did not start:\n{log.read()[-3000:]}")
            time.sleep(0.5)
        loopback = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1
        assert listening_addresses(port) <= loopback, listening_addresses(port)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_server_listening_everywhere_by_accident_says_so(monkeypatch):
    import streamlit

    assert "can be reached from other machines" not in " ".join(w.value for w in open_page().warning)
    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option", lambda name: None if name == "server.address" else real(name))
    warnings = " ".join(w.value for w in open_page().warning)
    assert "can be reached from other machines" in warnings and "--server.address localhost" in warnings


def test_the_environment_address_listening_everywhere_is_said_too(monkeypatch):
    import streamlit

    real = streamlit.get_option
    monkeypatch.setattr(streamlit, "get_option", lambda name: "0.0.0.0" if name == "server.address" else real(name))
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "0.0.0.0")
    warnings = " ".join(w.value for w in open_page().warning)
    assert "can be reached from other machines" in warnings and "STREAMLIT_SERVER_ADDRESS=0" in warnings
    monkeypatch.delenv("STREAMLIT_SERVER_ADDRESS")  # the same address from the flag: meant, no warning
    assert "can be reached from other machines" not in " ".join(w.value for w in open_page().warning)


def test_the_server_answers_only_for_its_own_host_names():
    from dashboard.components import allowed_host

    for host in (None, "localhost:8501", "127.0.0.1:8501", "[::1]:8501", "10.1.2.3", "app.localhost:8501",
                 f"{socket.gethostname()}:8501"):
        assert allowed_host(host, {}), host
    for host in ("evil.example:8501", "evil.example", "localhost.evil.example", "rebind.127.0.0.1.nip.io:8501"):
        assert not allowed_host(host, {}), host
    assert allowed_host("cornlens.lab:8501", {"CORNLENS_HOSTS": "other, cornlens.lab"})


def test_a_refused_link_names_the_folder_as_given_not_where_it_leads(monkeypatch):
    asked = "/proc/self/cwd/[x](http://evil.test/)"
    app = open_page(query={"bundle": asked})
    [refusal] = [element.value for element in app.error]
    assert "outside the folders this dashboard may open" in refusal and not app.table
    assert "/proc/self/cwd/" in refusal.replace("\\", "") and os.getcwd() not in refusal.replace("\\", "")
    assert "[x](" not in refusal and "\\[x\\](" in refusal  # no link: the Markdown is escaped
