"""Identity resolution: which platform records are the same person.

Match order: an existing link → normalised email → E.164 phone. A match that is ambiguous (an email or phone held
by two different people, or a phone whose person has another email) is recorded as a conflict and the record keeps
an identity of its own: never merged blindly. Deterministic: the same records and links give the same answer in
any input order.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

RecordKey = tuple[str, str]  # (platform, platform_id)


@dataclass(frozen=True)
class MatchInput:
    platform: str
    platform_id: str
    email: str | None  # already normalised
    phone: str | None  # already E.164

    @property
    def key(self) -> RecordKey:
        return (self.platform, self.platform_id)


@dataclass(frozen=True)
class Conflict:
    platform: str
    platform_id: str
    reason: str
    candidates: tuple[str, ...]


@dataclass
class Resolution:
    links: dict[RecordKey, str] = field(default_factory=dict)  # record → person id
    conflicts: list[Conflict] = field(default_factory=list)
    matched_by: dict[RecordKey, str] = field(default_factory=dict)  # link | email | phone | new

    def people(self) -> dict[str, list[RecordKey]]:
        out: dict[str, list[RecordKey]] = defaultdict(list)
        for key, person in sorted(self.links.items()):
            out[person].append(key)
        return dict(out)


def person_id_for(key: RecordKey) -> str:
    """A new person's id derives from its first record, so re-running resolution gives the same ids."""
    return "p_" + hashlib.sha256(f"{key[0]}\x00{key[1]}".encode()).hexdigest()[:16]


def resolve(records: Iterable[MatchInput], existing: Mapping[RecordKey, str] | None = None) -> Resolution:
    existing = dict(existing or {})
    ordered = sorted(records, key=lambda r: r.key)
    result = Resolution()
    by_email: dict[str, set[str]] = defaultdict(set)
    by_phone: dict[str, set[str]] = defaultdict(set)
    emails_of: dict[str, set[str]] = defaultdict(set)
    platforms_of: dict[str, set[str]] = defaultdict(set)

    def attach(record: MatchInput, person: str, how: str) -> None:
        result.links[record.key] = person
        result.matched_by[record.key] = how
        platforms_of[person].add(record.platform)
        if record.email:
            by_email[record.email].add(person)
            emails_of[person].add(record.email)
        if record.phone:
            by_phone[record.phone].add(person)

    # 1. Existing links are kept as they are (they carry past decisions, including resolved conflicts).
    for record in ordered:
        if record.key in existing:
            attach(record, existing[record.key], "link")
    for record in ordered:
        if record.key in result.links:
            continue
        person, how = _match(record, by_email, by_phone, emails_of, platforms_of, result)
        attach(record, person or person_id_for(record.key), how if person else "new")
    return result


def _match(
    record: MatchInput,
    by_email: Mapping[str, set[str]],
    by_phone: Mapping[str, set[str]],
    emails_of: Mapping[str, set[str]],
    platforms_of: Mapping[str, set[str]],
    result: Resolution,
) -> tuple[str | None, str]:
    def conflict(reason: str, candidates: Iterable[str]) -> tuple[None, str]:
        result.conflicts.append(Conflict(record.platform, record.platform_id, reason, tuple(sorted(candidates))))
        return None, "new"

    if record.email and by_email.get(record.email):
        people = by_email[record.email]
        if len(people) > 1:
            return conflict(f"email {record.email} belongs to {len(people)} people", people)
        (person,) = people
        if record.platform in platforms_of[person]:
            return conflict(f"email {record.email} already used by another {record.platform} record", people)
        return person, "email"
    if record.phone and by_phone.get(record.phone):
        people = by_phone[record.phone]
        if len(people) > 1:
            return conflict(f"phone {record.phone} belongs to {len(people)} people", people)
        (person,) = people
        if record.email and emails_of[person] and record.email not in emails_of[person]:
            return conflict(f"phone {record.phone} belongs to a person with another email", people)
        if record.platform in platforms_of[person]:
            return conflict(f"phone {record.phone} already used by another {record.platform} record", people)
        return person, "phone"
    return None, "new"
