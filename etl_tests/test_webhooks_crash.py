"""A receiver killed with SIGKILL while deliveries arrive loses none it answered 2xx to."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from etl_project.webhooks.process import ReceiverProcess
from etl_tests.webhook_helpers import Keys, encode, highlevel_body, inbox_keys, post_highlevel

SENDERS, PER_SENDER, KILL_AFTER = 4, 100, 120


def test_sigkill_loses_no_answered_event(tmp_path: Path) -> None:
    keys = Keys()
    env = keys.env(tmp_path / "inbox.sqlite3")
    answered: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    receiver = ReceiverProcess(env).start()

    def send() -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(PER_SENDER):
                body = highlevel_body("ContactUpdate")
                try:
                    response = post_highlevel(client, receiver.url("highlevel"), encode(body), keys.ed25519)
                except httpx.TransportError:
                    return  # the receiver is gone: this delivery was never answered
                if response.status_code == 200 and response.json()["status"] == "accepted":
                    with lock:
                        answered.append(f"highlevel:{body['webhookId']}")
                        if len(answered) >= KILL_AFTER:
                            enough.set()

    senders = [threading.Thread(target=send) for _ in range(SENDERS)]
    try:
        for sender in senders:
            sender.start()
        assert enough.wait(120), "the receiver did not answer enough deliveries"
        receiver.kill()  # SIGKILL while the senders are mid-stream
        for sender in senders:
            sender.join(60)
    finally:
        receiver.kill()
    assert KILL_AFTER <= len(answered) < SENDERS * PER_SENDER  # killed mid-stream, not after the last answer

    with ReceiverProcess(env) as restarted, httpx.Client(timeout=30) as client:
        stored = inbox_keys(tmp_path / "inbox.sqlite3")
        assert set(answered) <= stored, f"{len(set(answered) - stored)} answered events lost"
        body = highlevel_body("ContactUpdate")
        assert post_highlevel(client, restarted.url("highlevel"), encode(body), keys.ed25519).status_code == 200
        assert f"highlevel:{body['webhookId']}" in inbox_keys(tmp_path / "inbox.sqlite3")
