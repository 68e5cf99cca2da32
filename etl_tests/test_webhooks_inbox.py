"""The inbox on a temp file: dedupe, and the claim / complete / release protocol a sensor drains it with."""

from __future__ import annotations

import threading
from pathlib import Path

from etl_project.webhooks.inbox import Inbox, InboxEvent


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
