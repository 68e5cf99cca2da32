"""One port per platform, many locations behind it: an ASGI dispatcher hands each request to one location's app.

The real platforms have one base URL and tell accounts apart by credentials, so API requests are routed by them
(HighLevel's bearer token, SendOwl's Basic-auth key, SendApp's API key); unknown credentials go to location 0, whose
gate answers the same 401 as ever. Admin requests (`/_sandbox/...`) name their location with a query parameter
(`location` on HighLevel, `account` on SendOwl and SendApp; absent: location 0; `all`: every location, the answers
gathered in `{"locations": {id: answer}}`, with a `total` of the counts for `GET /_sandbox/stats` and `health`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from etl_project.sandbox.faults import capture

ALL = "all"
COUNTED = ("/stats", "/health")  # admin answers whose numbers add up across locations
Target = ASGIApp | list[tuple[str, ASGIApp]] | None  # one app, every location's (label, app), or unknown (404)
Route = Callable[[Scope], Target]


def query_param(scope: Scope, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode()).get(name)
    return values[0] if values else None


def header(scope: Scope, name: str) -> str:
    wanted = name.lower().encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return ""


class Dispatcher:
    def __init__(self, route: Route, param: str) -> None:
        self.route, self.param = route, param

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self.route(scope)
        if target is None:
            unknown = query_param(scope, self.param)
            await _send_json(send, 404, {"error": f"unknown {self.param}: {unknown}"})
        elif isinstance(target, list):
            await self._fan_out(target, scope, receive, send)
        else:
            await target(scope, receive, send)

    async def _fan_out(self, targets: list[tuple[str, ASGIApp]], scope: Scope, receive: Receive, send: Send) -> None:
        """Run an admin request on every location in turn (the same body each time) and gather the answers."""
        body = await _read_body(receive)
        answers: dict[str, Any] = {}
        status = 200
        for label, app in targets:
            code, _, raw = await capture(app, scope, _replay(body))
            answers[label] = json.loads(raw) if raw else None
            status = code if code >= 400 else status
        gathered: dict[str, Any] = {"locations": answers}
        if scope["method"] == "GET" and scope["path"].endswith(COUNTED):
            gathered["total"] = _sum(list(answers.values()))
        await _send_json(send, status, gathered)


def _sum(answers: list[Any]) -> Any:
    """The counts of several answers added up: numbers summed, objects key by key, anything else left out."""
    if all(isinstance(a, int | float) and not isinstance(a, bool) for a in answers):
        return sum(answers)
    if all(isinstance(a, dict) for a in answers):
        keys = dict.fromkeys(k for a in answers for k in a)
        summed = {k: _sum([a[k] for a in answers if k in a]) for k in keys}
        return {k: v for k, v in summed.items() if v is not None}
    return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """A `receive` that hands over `body` once, then waits as an open connection does."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never set: the caller stops listening when its answer is done
        return {"type": "http.disconnect"}

    return receive


async def _send_json(send: Send, status: int, body: Any) -> None:
    raw = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})
