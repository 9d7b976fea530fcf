"""The ingress protocol's messages (docs/ingress.md): one binary WebSocket message each, little-endian."""

import json
import struct

PROTOCOL = 1

# client -> node
OPEN = 0x01
FRAMES = 0x02
HEARTBEAT = 0x03
CLOSE_STREAM = 0x04
PONG = 0x05

# node -> client
OPENED = 0x81
COMMITTED = 0x82
RESULT = 0x83
REJECTED = 0x84
PING = 0x85
ERROR = 0xFF

MAX_FRAMES_PER_MESSAGE = 64
FRAME_HEADER = struct.Struct("<BqqI")  # stream index, seq, event time (us), value count
COMMITTED_ALL = (1 << 63) - 1  # a commit of everything: the session finished


class ProtocolError(Exception):
    """A message from the node that does not parse."""


def open_message(spec, token, nonce, client_now_us, resume=None):
    body = {"protocol": PROTOCOL, "spec": spec, "nonce": nonce, "clientNowUs": int(client_now_us)}
    if token is not None:
        body["token"] = token
    if resume is not None:
        body["resume"] = resume
    return bytes([OPEN]) + json.dumps(body, separators=(",", ":")).encode("utf-8")


def frames_message(frames):
    """frames: a list of (stream index, seq, event time us, payload bytes of little-endian float32)."""
    if not 1 <= len(frames) <= MAX_FRAMES_PER_MESSAGE:
        raise ValueError(f"a frames message carries 1..{MAX_FRAMES_PER_MESSAGE} frames, not {len(frames)}")
    parts = [bytes([FRAMES]), struct.pack("<H", len(frames))]
    for index, seq, t_us, payload in frames:
        parts.append(FRAME_HEADER.pack(index, seq, t_us, len(payload) // 4))
        parts.append(payload)
    return b"".join(parts)


def heartbeat_message(index, watermark_us):
    return struct.pack("<BBq", HEARTBEAT, index, watermark_us)


def close_stream_message(index):
    return bytes([CLOSE_STREAM, index])


def pong_message(server_sent_us, client_now_us):
    return struct.pack("<Bqq", PONG, server_sent_us, client_now_us)


def pack_floats(values):
    return struct.pack(f"<{len(values)}f", *values)


def parse(message):
    """(type, body): body is a dict for JSON messages, an int for commits and pings."""
    if not isinstance(message, (bytes, bytearray)) or len(message) == 0:
        raise ProtocolError("the node sends non-empty binary messages only")
    kind = message[0]
    body = bytes(message[1:])
    if kind in (COMMITTED, PING):
        if len(body) != 8:
            raise ProtocolError(f"message 0x{kind:02x} has {len(body)} bytes after its type, not 8")
        return kind, struct.unpack("<q", body)[0]
    if kind in (OPENED, RESULT, REJECTED, ERROR):
        try:
            return kind, json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ProtocolError(f"message 0x{kind:02x} is not JSON: {e}") from None
    raise ProtocolError(f"unknown message type 0x{kind:02x}")
