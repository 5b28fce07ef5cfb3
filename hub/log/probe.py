"""Finding a free loopback port, and knowing a Kafka broker answers there: the real
ApiVersions request every client sends first, not merely an open socket."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Collection


def free_port(host: str, avoid: Collection[int] = ()) -> int:
    """A port nothing listens on now, other than ``avoid``: one broker's listeners each need
    their own, and two probes in a row may be handed the same port."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port not in avoid:
            return port


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding."""
    return urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def kafka_api_versions(
    host: str, port: int, timeout: float = 1.0, tls: ssl.SSLContext | None = None
) -> bool:
    """True when a Kafka broker answers ApiVersions v0 at host:port without error.

    A listening socket is not enough: the broker must speak the protocol before the
    hub creates topics, so this sends the real request every client sends first. On a
    SASL_SSL listener (``tls``) ApiVersions is answered after the TLS handshake and before
    authentication (KIP-43), so the probe needs no credentials.
    """
    correlation_id = 0x1EAD
    client_id = b"leadhub-probe"
    request = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    try:
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(socket.create_connection((host, port), timeout=timeout))
            # the TLS socket takes the descriptor over: it is the one to close
            sock = stack.enter_context(tls.wrap_socket(raw, server_hostname=host)) if tls else raw
            sock.sendall(struct.pack(">i", len(request)) + request)
            header = _recv_exactly(sock, 4)
            (size,) = struct.unpack(">i", header)
            if size < 6 or size > 1 << 20:
                return False
            body = _recv_exactly(sock, size)
    except OSError:  # ssl.SSLError is an OSError
        return False
    got_id, error_code = struct.unpack(">ih", body[:6])
    return bool(got_id == correlation_id and error_code == 0)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed mid-response")
        buf += chunk
    return buf
