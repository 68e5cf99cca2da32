"""The inbox on a temp file: dedupe, and the claim / complete / release protocol a sensor drains it with."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from etl_project.webhooks import signing
from etl_project.webhooks.app import create_app
from etl_project.webhooks.config import config_from_env
from etl_project.webhooks.inbox import Inbox, InboxEvent
from etl_tests.webhook_helpers import Keys, encode, highlevel_body


def event(n: int, key: str | None = None) -> InboxEvent:
    return InboxEvent(
        "highlevel", "ContactUpdate", "loc-1", "contact", f"ct-{n}", f"ct-{n}", key or f"k-{n}", "2026-01-01", b"{}"
    )


def test_append_dedupes_on_the_key(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    assert inbox.append(event(1))
    assert not inbox.append(event(2, key="k-1"))
    assert inbox.counts() == {"pending": 1, "claimed": 0, "done": 0}
    assert (tmp_path / "inbox.sqlite3").stat().st_mode & 0o077 == 0  # personal data: owner only


def test_claim_complete_release(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    for n in range(5):
        inbox.append(event(n))
    first = inbox.claim(3)
    assert [e.record_id for e in first.events] == ["ct-0", "ct-1", "ct-2"]
    assert all(e.attempts == 1 for e in first.events)
    second = inbox.claim(10)
    assert [e.record_id for e in second.events] == ["ct-3", "ct-4"]  # never the rows another drain holds
    assert inbox.claim(10).events == ()
    assert inbox.release(second.claim_id) == 2  # its run failed: the rows are pending again
    assert inbox.complete(first.claim_id) == 3  # its run succeeded
    assert inbox.counts() == {"pending": 2, "claimed": 0, "done": 3}
    retry = inbox.claim(10)
    assert [(e.record_id, e.attempts) for e in retry.events] == [("ct-3", 2), ("ct-4", 2)]
    assert inbox.complete("no-such-claim") == 0
    assert inbox.complete(retry.claim_id) == 2
    assert inbox.claim(10).events == ()


def test_an_expired_claim_is_taken_again_and_its_late_completion_is_void(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite3"
    crashed_drain = Inbox(path, claim_timeout=0.0)
    crashed_drain.append(event(1))
    stale = crashed_drain.claim(10)
    other = Inbox(path, claim_timeout=0.0)  # another process, after the timeout
    fresh = other.claim(10)
    assert [e.record_id for e in fresh.events] == ["ct-1"]
    assert crashed_drain.complete(stale.claim_id) == 0  # its claim was taken over: no effect
    assert crashed_drain.release(stale.claim_id) == 0
    assert other.complete(fresh.claim_id) == 1


def test_concurrent_drains_never_share_a_row(tmp_path: Path) -> None:
    path = tmp_path / "inbox.sqlite3"
    Inbox(path).close()
    writer = Inbox(path)
    for n in range(400):
        writer.append(event(n))
    taken: list[list[str]] = [[], []]

    def drain(slot: int) -> None:
        inbox = Inbox(path)  # one connection each, as two processes would have
        while True:
            batch = inbox.claim(7)
            if not batch.events:
                break
            taken[slot].extend(e.dedupe_key for e in batch.events)
            inbox.complete(batch.claim_id)

    threads = [threading.Thread(target=drain, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == 400
    assert writer.counts()["done"] == 400


def test_group_commit_answers_each_caller_with_its_own_outcome(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    outcomes: dict[int, bool] = {}

    def append(n: int) -> None:
        outcomes[n] = inbox.append(event(n, key=f"k-{n % 150}"))  # 300 appends, 150 keys: each key twice

    threads = [threading.Thread(target=append, args=(n,)) for n in range(300)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(outcomes.values()) == 150  # exactly one of each pair stored
    assert inbox.counts()["pending"] == 150


def test_a_failed_commit_raises_for_every_caller_and_stores_nothing(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.sqlite3")
    with pytest.raises(sqlite3.Error):
        inbox.append(InboxEvent(*[None] * 8, body=b"{}"))  # type: ignore[arg-type]  # NOT NULL columns
    assert inbox.counts()["pending"] == 0
    assert inbox.append(event(2))  # the connection is usable again


def test_a_store_failure_is_answered_503(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """HighLevel retries a non-2xx: a delivery the inbox could not store must never get a 2xx."""
    keys = Keys()
    config = config_from_env(keys.env(tmp_path / "inbox.sqlite3"))
    inbox = Inbox(config.inbox_path)

    def broken(event: InboxEvent) -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(inbox, "append", broken)
    raw = encode(highlevel_body("ContactUpdate"))
    headers = {"content-type": "application/json", signing.HIGHLEVEL_HEADER: signing.sign_ed25519(keys.ed25519, raw)}

    async def deliver() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(config, inbox))
        async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
            return await client.post("/webhooks/highlevel", content=raw, headers=headers)

    response = asyncio.run(deliver())
    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})
