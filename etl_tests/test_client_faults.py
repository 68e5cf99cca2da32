"""The one request method under faults, on an injected transport: unreadable 2xx bodies, 429 storms, resets.

Reads are repeated until they succeed within the bounded wait; a write that may have been applied is not repeated
and says so in a typed error; every error names the platform, method and path.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from etl_project.platforms import errors
from etl_project.platforms.http import RetryPolicy
from etl_project.platforms.sendapp import SendAppClient
from etl_project.platforms.sendowl import SendOwlClient

NOTE = {"data": {"id": 7, "contact_id": 5, "body": "hi", "created_at": "2026-10-01T00:00:00Z"}}
TRUNCATED = b'{"data": [{"id": 1, "body": "hel'
HTML = b"<html><body>502 Bad Gateway</body></html>"


def client_for(
    answers: list[httpx.Response | Exception], sleeps: list[float], retry: RetryPolicy | None = None
) -> tuple[SendAppClient, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    http = httpx.Client(base_url="https://acct.example/api", transport=httpx.MockTransport(handler))
    client = SendAppClient(http, "key", min_interval=0, retry=retry or RetryPolicy(), sleep=sleeps.append)
    return client, calls


def raw(status: int, body: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.Response(status, content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize("bad", [raw(200, TRUNCATED), raw(200, HTML, "text/html")], ids=["truncated", "html"])
def test_a_read_with_an_unreadable_body_is_repeated_until_it_reads(bad: httpx.Response) -> None:
    sleeps: list[float] = []
    good = httpx.Response(200, json={"data": [NOTE["data"]]})
    client, calls = client_for([bad, bad, good], sleeps)
    notes = client.get_notes(5)
    assert [m.id for m, _ in notes.valid] == [7]
    assert calls == ["GET", "GET", "GET"] and len(sleeps) == 2 and client.unreadable == 2


def test_a_read_that_stays_unreadable_fails_naming_platform_method_and_path() -> None:
    sleeps: list[float] = []
    client, calls = client_for([raw(200, HTML, "text/html")], sleeps, RetryPolicy(max_attempts=4))
    with pytest.raises(errors.PlatformDecodeError) as caught:
        client.get_notes(5)
    assert not isinstance(caught.value, errors.AnswerUnreadableError)
    assert len(calls) == 4
    message = str(caught.value)
    assert message.startswith("sendapp GET /contacts/5/notes HTTP 200: unreadable answer")
    assert "text/html" in message and "Bad Gateway" not in message, "the body itself is not repeated"


def test_a_create_answered_with_an_unreadable_2xx_is_applied_and_not_repeated() -> None:
    sleeps: list[float] = []
    client, calls = client_for([raw(201, TRUNCATED), httpx.Response(201, json=NOTE)], sleeps)
    with pytest.raises(errors.AnswerUnreadableError) as caught:
        client.create_note(5, "hi")
    assert calls == ["POST"], "the note exists already: a second POST would make a twin"
    assert errors.may_have_applied(caught.value)
    assert "sendapp POST /contacts/5/notes HTTP 201: applied" in str(caught.value)


@pytest.mark.parametrize("storm_seconds", [3.0, 20.0, 60.0])
def test_a_429_storm_without_retry_after_is_waited_out_beyond_max_attempts(storm_seconds: float) -> None:
    clock = [0.0]  # simulated time: the injected sleep moves it

    def handler(request: httpx.Request) -> httpx.Response:
        if clock[0] < storm_seconds:
            return httpx.Response(429, json={"message": "slow down"})
        return httpx.Response(200, json={"data": [NOTE["data"]]})

    http = httpx.Client(base_url="https://acct.example/api", transport=httpx.MockTransport(handler))
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    client = SendAppClient(http, "key", min_interval=0, sleep=sleep)
    assert [m.id for m, _ in client.get_notes(5).valid] == [7]
    assert sleeps[:6] == sorted(sleeps[:6]), "backoff grows (until max_delay)"
    assert max(sleeps) <= client.retry.max_delay and clock[0] <= client.retry.max_total_wait
    # Past the storm's end by at most one backoff step: that step is capped, and (half-to-full jitter) at most twice
    # the waiting before it plus the base delay; a bound on the jitter's range, not on a lucky draw.
    overshoot = min(client.retry.max_delay, 2 * storm_seconds + client.retry.base_delay)
    assert clock[0] <= storm_seconds + overshoot, "not much longer than the storm"
    if storm_seconds > 40:  # more "slow down" answers than max_attempts allows failures
        assert client.status_counts[429] > client.retry.max_attempts


def test_a_429_storm_with_retry_after_waits_what_it_says_and_a_create_is_repeated() -> None:
    sleeps: list[float] = []
    storm = [httpx.Response(429, json={"message": "slow down"}, headers={"Retry-After": "2"}) for _ in range(10)]
    client, calls = client_for([*storm, httpx.Response(201, json=NOTE)], sleeps)
    assert client.create_note(5, "hi")["id"] == 7, "a 429 proves the create was not processed"
    assert sleeps == [2.0] * 10 and calls == ["POST"] * 11


def test_a_storm_that_never_ends_fails_within_the_total_wait() -> None:
    sleeps: list[float] = []
    retry = RetryPolicy(max_total_wait=20.0)
    client, _calls = client_for([httpx.Response(429, json={}, headers={"Retry-After": "3"})], sleeps, retry)
    with pytest.raises(errors.RateLimitError) as caught:
        client.get_notes(5)
    assert sum(sleeps) == 18.0 and "GET /contacts/5/notes HTTP 429" in str(caught.value)
    assert not errors.may_have_applied(caught.value)


def test_a_sendowl_read_through_a_storm_and_5xx_burst() -> None:
    sleeps: list[float] = []
    answers = [httpx.Response(429, json={}) for _ in range(8)] + [httpx.Response(502, json={}) for _ in range(3)]
    answers.append(httpx.Response(200, json={"order": {"id": 1}}))

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    http = httpx.Client(base_url="https://so.example", transport=httpx.MockTransport(handler))
    client = SendOwlClient(http, min_interval=0, sleep=sleeps.append)
    assert client.get_order(1)["id"] == 1 and len(sleeps) == 11


@pytest.mark.parametrize(
    ("fault", "repeated", "applied"),
    [
        (lambda r: httpx.RemoteProtocolError("reset", request=r), False, True),
        (lambda r: httpx.ReadTimeout("slow", request=r), False, True),
        (lambda r: httpx.ConnectError("refused", request=r), True, False),
    ],
    ids=["reset", "timeout", "connect"],
)
def test_a_create_after_a_transport_fault_is_repeated_only_if_never_sent(
    fault: Callable[[httpx.Request], Exception], repeated: bool, applied: bool
) -> None:
    calls: list[str] = []
    first = [True]

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if first.pop() if first else False:
            raise fault(request)
        return httpx.Response(201, json=NOTE)

    http = httpx.Client(base_url="https://acct.example/api", transport=httpx.MockTransport(handler))
    client = SendAppClient(http, "key", min_interval=0, sleep=lambda _: None)
    if repeated:
        assert client.create_note(5, "hi")["id"] == 7 and calls == ["POST", "POST"]
        return
    with pytest.raises(errors.PlatformTransportError) as caught:
        client.create_note(5, "hi")
    assert calls == ["POST"] and errors.may_have_applied(caught.value) is applied
    assert "sendapp POST /contacts/5/notes" in str(caught.value)


def test_5xx_bursts_resets_and_timeouts_on_reads_are_retried() -> None:
    sleeps: list[float] = []
    answers: list[httpx.Response | Exception] = [
        httpx.Response(503, json={}),
        httpx.RemoteProtocolError("reset"),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"data": [NOTE["data"]]}),
    ]
    client, calls = client_for(answers, sleeps)
    assert [m.id for m, _ in client.get_notes(5).valid] == [7] and len(calls) == 4


def test_what_may_have_been_applied() -> None:
    def err(cls: type[errors.PlatformError], status: int | None) -> errors.PlatformError:
        return cls("sendapp", "x", status_code=status, method="POST", path="/p")

    assert errors.may_have_applied(err(errors.ServerError, 503))
    assert errors.may_have_applied(err(errors.AnswerUnreadableError, 201))
    assert errors.may_have_applied(err(errors.DailyBudgetExhaustedError, 201)), "raised after an applied write"
    assert not errors.may_have_applied(err(errors.DailyBudgetExhaustedError, None)), "raised before a batch"
    for cls, status in [(errors.RateLimitError, 429), (errors.InvalidRequestError, 422), (errors.ConflictError, 409)]:
        assert not errors.may_have_applied(err(cls, status))
