"""The agency SDK's HTTP client says what went wrong in one line, whatever the hub (or a
proxy in front of it) answered, or if nothing answered at all."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from hub.crypto import generate_key
from hub.errors import HubError
from producers.sdk import HubApi


class _Proxy(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = {"/v1/participants": (502, b"<html>bad gateway</html>")}.get(
            self.path, (200, b"not json")
        )
        self.send_response(body[0])
        self.end_headers()
        self.wfile.write(body[1])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_html_error_page_is_one_line(proxy: str) -> None:
    with pytest.raises(HubError, match=r"^POST /v1/participants: 502: Bad Gateway$"):
        HubApi(proxy, generate_key("cm", demo=True)).new_participant_id()


def test_an_answer_that_is_not_json_is_one_line(proxy: str) -> None:
    api = HubApi(proxy + "/elsewhere", generate_key("cm", demo=True))
    with pytest.raises(HubError, match=r"^POST /v1/participants: the answer is not JSON$"):
        api.new_participant_id()


def test_no_hub_at_all_is_one_line() -> None:
    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(HubError, match=r"^POST /v1/participants: cannot reach the hub: "):
        HubApi(url, generate_key("cm", demo=True), timeout_s=2).new_participant_id()
