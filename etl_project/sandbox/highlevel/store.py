"""In-memory state of one location of the HighLevel stand-in: contacts, tasks, notes and appointments (its credentials
are the agency's: `highlevel/tokens.py`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from etl_project.sandbox.people import Person, make_id, make_people, render_email, render_phone

TAGS = ("lead", "customer", "vip", "newsletter", "webinar", "whatsapp-optin", "trial", "partner")
TASK_TITLES = ("Call back", "Send proposal", "Follow up on demo", "Check onboarding", "Renewal reminder")
CALENDARS = ("cal-discovery", "cal-onboarding", "cal-support")
APPOINTMENT_STATUSES = ("new", "confirmed", "cancelled", "showed", "noshow")
CUSTOM_FIELDS = {"cf-plan": ("free", "starter", "pro"), "cf-campaign": ("spring", "summer", "black-friday")}
USERS = ("usr-owner", "usr-sales", "usr-support")


def iso(ts: datetime) -> str:
    """HighLevel's (and SendApp's) timestamps: UTC, milliseconds, `Z`. The sandbox states the platforms' wire form
    itself rather than calling the client's `platforms.fields.iso_utc`: a change on the client's side must not
    silently change what the stand-in sends."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class HighLevelSettings:
    location_id: str = "loc-sandbox-0001"
    token: str = "pit-sandbox-token"
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    access_token_ttl: int = 86_399
    allow_duplicates: bool = False


@dataclass
class HighLevelStore:
    settings: HighLevelSettings
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    notes: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    appointments: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    version: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    # -- seeding ---------------------------------------------------------------------------------------------
    def seed(self, people: list[Person] | None, count: int, seed: int, now: datetime | None = None) -> None:
        """Replace all records with `count` contacts rendered from the shared people pool."""
        now = now or datetime.now(UTC)
        rng = random.Random(seed * 7919 + 1)
        self.rng = random.Random(seed)
        self.contacts.clear()
        self.tasks.clear()
        self.notes.clear()
        self.appointments.clear()
        pool = people if people is not None else make_people(seed, count)
        for person in pool[:count]:
            added = now - timedelta(seconds=rng.randint(3_600, 90 * 86_400))
            age = int((now - added).total_seconds())
            updated = added + timedelta(seconds=rng.randint(0, min(30 * 86_400, age - 60)))
            contact = self._seed_contact(person, rng, added, updated)
            self.contacts[contact["id"]] = contact
            self._seed_children(contact["id"], rng, added, now)
        self.version += 1

    def _seed_contact(self, person: Person, rng: random.Random, added: datetime, updated: datetime) -> dict[str, Any]:
        email = render_email(person.email, rng) if person.email else None
        if email and person.index % 40 == 7:  # real accounts hold a few typos that are not addresses at all
            email = rng.choice((f"{person.first_name}.{person.last_name}@", f"{person.first_name} at example.com"))
        tags = sorted(rng.sample(TAGS, rng.randint(0, 3)))
        custom = [{"id": k, "value": rng.choice(v)} for k, v in CUSTOM_FIELDS.items() if rng.random() < 0.6]
        return {
            "id": make_id(rng),
            "locationId": self.settings.location_id,
            "firstName": person.first_name,
            "lastName": person.last_name,
            "name": f"{person.first_name} {person.last_name}",
            "email": email,
            "phone": render_phone(person.phone_digits, rng) if person.phone_digits else None,
            "companyName": person.company if rng.random() < 0.4 else None,
            "type": rng.choice(("lead", "customer")),
            "source": rng.choice(("website", "facebook", "import", "manual")),
            "assignedTo": rng.choice(USERS),
            "dnd": rng.random() < 0.05,
            "tags": tags,
            "customFields": custom,
            "country": "US",
            "timezone": "America/New_York",
            "dateAdded": iso(added),
            "dateUpdated": iso(updated),
        }

    def _seed_children(self, contact_id: str, rng: random.Random, added: datetime, now: datetime) -> None:
        span = max(60, int((now - added).total_seconds()))
        for _ in range(rng.randint(0, 5)):
            due = added + timedelta(seconds=rng.randint(0, span + 30 * 86_400))
            task: dict[str, Any] = {
                "id": make_id(rng),
                "title": rng.choice(TASK_TITLES),
                "body": "Seeded task",
                "assignedTo": rng.choice(USERS),
                "dueDate": iso(due),
                "completed": rng.random() < 0.4,
                "contactId": contact_id,
            }
            if rng.random() < 0.01:
                task["dueDate"] = None  # legacy rows without a due date exist in real accounts
            self.tasks.setdefault(contact_id, {})[task["id"]] = task
        for _ in range(rng.randint(0, 5)):
            note: dict[str, Any] = {
                "id": make_id(rng),
                "body": f"Seeded note {rng.randint(1, 9999)}",
                "userId": rng.choice(USERS),
                "dateAdded": iso(added + timedelta(seconds=rng.randint(0, span))),
                "contactId": contact_id,
            }
            self.notes.setdefault(contact_id, {})[note["id"]] = note
        for _ in range(rng.randint(0, 5)):
            start = added + timedelta(seconds=rng.randint(0, span + 14 * 86_400))
            booked = min(now, added + timedelta(seconds=rng.randint(0, span)))
            event: dict[str, Any] = {
                "id": make_id(rng),
                "calendarId": rng.choice(CALENDARS),
                "contactId": contact_id,
                "locationId": self.settings.location_id,
                "title": "Discovery call",
                "appointmentStatus": rng.choice(APPOINTMENT_STATUSES),
                "assignedUserId": rng.choice(USERS),
                "startTime": iso(start),
                "endTime": iso(start + timedelta(minutes=30)),
                "notes": None,
                "address": "Zoom",
                "dateAdded": iso(booked),
                "dateUpdated": iso(booked),
            }
            self.appointments.setdefault(contact_id, {})[event["id"]] = event

    # -- helpers ---------------------------------------------------------------------------------------------
    def new_id(self) -> str:
        return make_id(self.rng)

    def touch(self, contact: dict[str, Any]) -> None:
        contact["dateUpdated"] = iso(datetime.now(UTC))
        self.version += 1
