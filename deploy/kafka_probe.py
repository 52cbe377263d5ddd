"""Is the local broker serving? One Metadata request (after a SCRAM login where the listener speaks
SASL), standard library only.

The listener speaks SASL, so a bare Metadata request is refused: the probe first authenticates
(SaslHandshake v1, then SaslAuthenticate v0 carrying the RFC 5802 exchange) as the admin user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import socket
import struct

SASL_HANDSHAKE, SASL_AUTHENTICATE, METADATA = 17, 36, 3
CLIENT_ID = b"bianmin-local"


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.correlation = sock, 0x0B1A

    def _recv_exact(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        return bytes(buf)

    def call(self, api_key: int, version: int, body: bytes) -> bytes:
        self.correlation += 1
        request = struct.pack(">hhih", api_key, version, self.correlation, len(CLIENT_ID)) + CLIENT_ID + body
        self.sock.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", self._recv_exact(4))
        if not 4 <= size <= 64 << 20:  # not Kafka talking
            raise ConnectionError("not a Kafka response")
        data = self._recv_exact(size)
        if struct.unpack_from(">i", data)[0] != self.correlation:
            raise ConnectionError("response out of order")
        return data[4:]


def _string(value: bytes) -> bytes:
    return struct.pack(">h", len(value)) + value


def _authenticate(conn: _Conn, payload: bytes) -> bytes:
    data = conn.call(SASL_AUTHENTICATE, 0, struct.pack(">i", len(payload)) + payload)
    error, msg_len = struct.unpack_from(">hh", data)
    offset = 4 + max(msg_len, 0)
    if error:
        raise PermissionError(data[4:offset].decode(errors="replace"))
    (size,) = struct.unpack_from(">i", data, offset)
    return data[offset + 4: offset + 4 + size]


def scram_login(conn: _Conn, user: str, password: str, mechanism: str = "SCRAM-SHA-512") -> None:
    digest = mechanism.removeprefix("SCRAM-").replace("-", "").lower()  # sha512
    data = conn.call(SASL_HANDSHAKE, 1, _string(mechanism.encode()))
    if struct.unpack_from(">h", data)[0]:
        raise PermissionError(f"the broker does not offer {mechanism}")
    nonce = secrets.token_urlsafe(18)
    first_bare = f"n={user},r={nonce}"
    server_first = _authenticate(conn, f"n,,{first_bare}".encode()).decode()
    fields = dict(part.split("=", 1) for part in server_first.split(","))
    if not fields["r"].startswith(nonce):
        raise PermissionError("server nonce does not extend ours")
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
    client_key = hmac.new(salted, b"Client Key", digest).digest()
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.new(hashlib.new(digest, client_key).digest(), auth_message, digest).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True))).decode()
    _authenticate(conn, f"{without_proof},p={proof}".encode())


def kafka_ready(host: str, port: int, user: str | None, password: str | None, timeout: float = 2.0, *,
                brokers: int = 1) -> bool:
    """True when, logged in as `user` (no login when None: a PLAINTEXT listener), a Metadata request
    lists at least `brokers` live brokers.

    Metadata v4 is used because Kafka 4 removed v0-v3; the broker only serves requests once it has
    caught up with the metadata log and is unfenced.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            conn = _Conn(sock)
            if user is not None:
                scram_login(conn, user, password or "")
            data = conn.call(METADATA, 4, struct.pack(">ib", -1, 0))  # all topics, no auto-creation
    except (OSError, ConnectionError, PermissionError, struct.error, KeyError, ValueError):
        return False
    _throttle, listed = struct.unpack_from(">ii", data, 0)
    return listed >= max(brokers, 1)
