"""The outermost layer of every stand-in: the faults that happen between a client and a platform.

It wraps the app (outside its own auth and rate-limit gate) as plain ASGI, because some faults are not
answers a route could give: a connection closed mid-answer, a body cut short, a 5xx for a write that was applied.
What each knob means is in `limits.Faults`; what it changed is counted in `Stats.injected`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from etl_project.sandbox.limits import Faults, Stats

WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


class FaultInjector:
    def __init__(self, app: ASGIApp, faults: Faults, stats: Stats) -> None:
        self.app, self.faults, self.stats = app, faults, stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        f, path, method = self.faults, scope["path"], scope["method"]
        if f.storming(path, time.monotonic()):
            wait = {"Retry-After": str(f.storm_retry_after)} if f.storm_retry_after > 0 else {}
            await self._answer(send, 429, {"message": "Too many requests (storm)"}, wait, "storm")
            return
        reset = f.hit(f.reset_rate, f.fault_path, path)
        if reset and not f.reset_after_apply:
            await self._reset(send, 200, [], b"", "reset")  # the platform never saw it
            return
        after = None
        if method in WRITES and f.hit(f.apply_then_error_rate, f.apply_then_error_path, path):
            after = "apply_then_error"
        elif reset:
            after = "reset_after_apply"
        elif f.hit(f.truncate_rate, f.fault_path, path):
            after = "truncate"
        elif f.hit(f.non_json_rate, f.fault_path, path):
            after = "non_json"
        if after is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = await capture(self.app, scope, receive)
        if not 200 <= status < 300:  # not applied, or nothing to spoil: answer as the platform did
            await _send_whole(send, status, headers, body)
        elif after == "apply_then_error":
            await self._answer(send, f.error_status, {"message": "Injected failure after applying"}, {}, after)
        elif after == "reset_after_apply":
            await self._reset(send, status, headers, body, after)
        elif after == "truncate" and body:
            self.stats.injected[after] += 1
            await _send_whole(send, status, headers, body[: len(body) // 2])
        elif after == "non_json":
            self.stats.injected[after] += 1
            await _send_whole(send, status, _with_type(headers, b"text/html; charset=utf-8"), HTML)
        else:
            await _send_whole(send, status, headers, body)

    async def _answer(self, send: Send, status: int, body: Any, headers: dict[str, str], kind: str) -> None:
        self.stats.injected[kind] += 1
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        await _send_whole(send, status, _with_type(raw, b"application/json"), json.dumps(body).encode())

    async def _reset(self, send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, kind: str) -> None:
        """Announce a whole answer, send at most half of it, and return: uvicorn then closes the connection."""
        self.stats.injected[kind] += 1
        announced = max(len(body), 64)
        await send({"type": "http.response.start", "status": status, "headers": _with_length(headers, announced)})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})


async def capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the platform on the request and keep its whole answer (the stand-ins' answers are small)."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return int(start["status"]), list(start.get("headers", [])), b"".join(chunks)


async def _send_whole(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _with_length(headers, len(body))})
    await send({"type": "http.response.body", "body": body})


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"transfer-encoding")]
    return [*kept, (b"content-length", str(length).encode())]


def _with_type(headers: list[tuple[bytes, bytes]], content_type: bytes) -> list[tuple[bytes, bytes]]:
    return [*((k, v) for k, v in headers if k.lower() != b"content-type"), (b"content-type", content_type)]
