"""In-memory state of the SendApp stand-in: contacts, tags, notes, tasks, channel tokens and sent messages."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from etl_project.sandbox.highlevel.store import iso
from etl_project.sandbox.people import Person, render_email

TAGS = ("whatsapp-lead", "customer", "vip", "broadcast", "support", "promo-optin")
TASK_TITLES = ("Reply to question", "Send catalogue", "Confirm payment", "Follow up on chat")


@dataclass
class SendAppSettings:
    api_key: str = "sandbox-sendapp-key"
    channel_token: str = "sandbox-channel-token"
    requests_per_minute: int = 60
    id_base: int = 1000  # ids are platform-wide: each account's seeded records are numbered from here


@dataclass
class SendAppStore:
    settings: SendAppSettings
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    tasks: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    # number -> time of the customer's last inbound message (opens the 24-hour free-text window)
    last_inbound: dict[str, datetime] = field(default_factory=dict)
    next_id: int = 1000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def seed(self, people: list[Person], seed: int, now: datetime | None = None) -> None:
        """One contact per person with a phone; numbers are digits only (how WhatsApp stores them)."""
        now = now or datetime.now(UTC)
        rng = random.Random(seed * 31 + 3)
        self.contacts.clear()
        self.notes.clear()
        self.tasks.clear()
        self.messages.clear()
        self.last_inbound.clear()
        self.next_id = self.settings.id_base
        for person in people:
            if not person.phone_digits:
                continue
            created = now - timedelta(seconds=rng.randint(3_600, 90 * 86_400))
            age = int((now - created).total_seconds())
            updated = created + timedelta(seconds=rng.randint(0, min(20 * 86_400, age - 60)))
            email = render_email(person.email, rng) if person.email and rng.random() < 0.7 else None
            if person.index % 40 == 13:
                email = f"{person.first_name}@@example"  # typed by hand into a chat form
            contact: dict[str, Any] = {
                "id": self.new_id(),
                "first_name": person.first_name,
                "last_name": person.last_name if rng.random() < 0.85 else "",
                "number": f"1{person.phone_digits}",
                "email": email,
                "tags": sorted(rng.sample(TAGS, rng.randint(0, 2))),
                "custom_fields": {"city": rng.choice(("Austin", "Boston", "Denver", "Miami"))}
                if rng.random() < 0.5
                else {},
                "created_at": iso(created),
                "updated_at": iso(updated),
            }
            self.contacts[contact["id"]] = contact
            if rng.random() < 0.3:
                self.last_inbound[contact["number"]] = now - timedelta(hours=rng.randint(1, 48))
            for _ in range(rng.randint(0, 3)):
                note = {
                    "id": self.new_id(),
                    "contact_id": contact["id"],
                    "body": f"Chat summary {rng.randint(1, 999)}",
                    "created_at": iso(created + timedelta(seconds=rng.randint(0, age))),
                }
                self.notes.setdefault(contact["id"], {})[note["id"]] = note
            for _ in range(rng.randint(0, 2)):
                due = created + timedelta(days=rng.randint(1, 40))
                task = {
                    "id": self.new_id(),
                    "contact_id": contact["id"],
                    "title": rng.choice(TASK_TITLES),
                    "due_at": iso(due),
                    "status": rng.choice(("open", "done")),
                    "updated_at": iso(created + timedelta(seconds=rng.randint(0, age))),
                }
                self.tasks.setdefault(contact["id"], {})[task["id"]] = task

    def touch(self, record: dict[str, Any]) -> None:
        record["updated_at"] = iso(datetime.now(UTC))

    def find_by_number(self, number: str) -> dict[str, Any] | None:
        for contact in self.contacts.values():
            if contact["number"] == number:
                return contact
        return None
