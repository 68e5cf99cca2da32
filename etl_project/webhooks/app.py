"""The ASGI receiver: `POST /webhooks/highlevel` and `POST /webhooks/sendowl` (many locations: each shop posts to
`/webhooks/sendowl/<location id>`, signed with that shop's secret), plus a local `GET /healthz`.

Each delivery goes: content type (415) → size (413, from Content-Length and while reading a chunked body) →
signature over the raw bytes (401) → parse and filter (`events`: 200 ignored, 400 malformed) → append to the inbox
(2xx only after the commit; 503 when the store fails, so HighLevel retries). Log lines name the platform, the event
type and the reason, never a signature, a secret or a body.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from etl_project.tenants.resolve import tenancy
from etl_project.webhooks import signing
from etl_project.webhooks.config import ReceiverConfig
from etl_project.webhooks.events import Refusal, highlevel_event, sendowl_event
from etl_project.webhooks.inbox import Inbox, InboxEvent

log = logging.getLogger("etl_project.webhooks")


async def _read_body(request: Request, limit: int) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Refusal(415, "content type is not application/json")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise Refusal(413, "body over the size limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # stop reading a chunked body as soon as it passes the limit
        size += len(chunk)
        if size > limit:
            raise Refusal(413, "body over the size limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _verify_highlevel(config: ReceiverConfig, request: Request, body: bytes) -> None:
    modern = request.headers.get(signing.HIGHLEVEL_HEADER)
    if modern is not None:  # when both headers come, Ed25519 wins: the legacy one is not consulted
        if not signing.verify_ed25519(config.highlevel_keys, body, modern):
            raise Refusal(401, "bad x-ghl-signature")
        return
    legacy = request.headers.get(signing.HIGHLEVEL_LEGACY_HEADER)
    if legacy is not None and config.legacy_rsa:
        if not signing.verify_rsa(config.rsa_keys, body, legacy):
            raise Refusal(401, "bad x-wh-signature")
        return
    raise Refusal(401, "missing signature" if legacy is None else "legacy RSA signature not accepted (switched off)")


def _verify_sendowl(secret: str, request: Request, body: bytes) -> None:
    signature = request.headers.get(signing.SENDOWL_HEADER)
    if signature is None:
        raise Refusal(401, "missing signature")
    if not signing.verify_sendowl(secret, body, signature):
        raise Refusal(401, "bad X-SENDOWL-HMAC-SHA256")


def _sendowl_secret(config: ReceiverConfig, location: str | None) -> str:
    """The key a delivery must be signed with: the one shop's (`SENDOWL_WEBHOOK_SECRET`), or, with a locations
    file, the secret its location names (`sendowl_webhook_secret_env`); each shop posts to its location's path."""
    if location is None:
        if config.locations_file:
            raise Refusal(404, "many locations: post to /webhooks/sendowl/<location id>")
        if not config.sendowl_secret:
            raise Refusal(401, "SENDOWL_WEBHOOK_SECRET is not set")
        return config.sendowl_secret
    if not config.locations_file:
        raise Refusal(404, "one location: post to /webhooks/sendowl")
    owner = tenancy(config.locations_file)
    if location not in owner.listed_ids():
        raise Refusal(200, "location not configured")
    secret = owner.sendowl_webhook_secret(location)
    if not secret:
        raise Refusal(401, "the location's sendowl_webhook_secret_env is not set")
    return secret


def create_app(config: ReceiverConfig, inbox: Inbox) -> Starlette:
    outcomes: Counter[str] = Counter()  # since start, for /healthz (a delivery-rate alert can read it)

    async def store(platform: str, event: InboxEvent) -> JSONResponse:
        try:
            stored = await run_in_threadpool(inbox.append, event)
        except Exception as exc:  # any store failure is ours and transient: the sender retries a 503
            outcomes["store_failed"] += 1
            log.error("%s %s: inbox append failed (%s): 503", platform, event.event_type, type(exc).__name__)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        outcomes["accepted" if stored else "duplicate"] += 1
        if not stored:
            log.info("%s %s: duplicate delivery, already in the inbox", platform, event.event_type)
            return JSONResponse({"status": "duplicate"})
        log.debug("%s %s: accepted", platform, event.event_type)
        return JSONResponse({"status": "accepted"})

    def refused(platform: str, refusal: Refusal) -> JSONResponse:
        outcomes[f"{refusal.status}:{refusal.reason}"] += 1
        log.warning("%s %s: %s: %s", platform, refusal.event_type, refusal.reason, refusal.status)
        answer = "ignored" if refusal.status < 300 else "refused"
        return JSONResponse({"status": answer, "reason": refusal.reason}, status_code=refusal.status)

    async def highlevel(request: Request) -> JSONResponse:
        try:
            body = await _read_body(request, config.max_body_bytes)
            _verify_highlevel(config, request, body)
            event = highlevel_event(body, config, datetime.now(UTC))
        except Refusal as refusal:
            return refused("highlevel", refusal)
        return await store("highlevel", event)

    async def sendowl(request: Request) -> JSONResponse:
        location = request.path_params.get("location_id")
        try:
            body = await _read_body(request, config.max_body_bytes)
            secret = await run_in_threadpool(_sendowl_secret, config, location)
            _verify_sendowl(secret, request, body)
            event = sendowl_event(body, request.headers.get("x-sendowl-event"), datetime.now(UTC), location)
        except Refusal as refusal:
            return refused("sendowl", refusal)
        return await store("sendowl", event)

    async def healthz(request: Request) -> JSONResponse:
        counts = await run_in_threadpool(inbox.counts)
        return JSONResponse({"inbox": counts, "outcomes": dict(outcomes)})

    return Starlette(
        routes=[
            Route("/webhooks/highlevel", highlevel, methods=["POST"]),
            Route("/webhooks/sendowl", sendowl, methods=["POST"]),
            Route("/webhooks/sendowl/{location_id}", sendowl, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
