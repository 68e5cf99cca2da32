"""A deterministic pool of people shared by every sandbox, so the platforms overlap like real accounts do.

The same seed gives the same people; each platform then renders them its own way (email case and padding,
phone formats) and adds people only it knows.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from faker import Faker

PHONE_STYLES = (
    "+1 ({a}) {b}-{c}",
    "+1{a}{b}{c}",
    "({a}) {b}-{c}",
    "{a}.{b}.{c}",
    "1{a}{b}{c}",
    "+1 {a}-{b}-{c}",
)


@dataclass(frozen=True)
class Person:
    index: int
    first_name: str
    last_name: str
    email: str | None  # canonical (lower-case) address
    phone_digits: str | None  # national significant number, 10 digits (US)
    company: str


def make_people(seed: int, count: int, start: int = 0) -> list[Person]:
    """`count` people from `seed`, numbered from `start` (the number makes each one's phone and address unique, so
    pools numbered apart never share a person by accident)."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    people = []
    for i in range(start, start + count):
        first, last = fake.first_name(), fake.last_name()
        domain = rng.choice(("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "fastmail.com"))
        email = f"{first}.{last}{i}@{domain}".lower() if rng.random() > 0.05 else None
        phone = unique_phone(i) if rng.random() > 0.1 or email is None else None
        people.append(Person(i, first, last, email, phone, fake.company()))
    return people


_AREAS = ("212", "305", "312", "415", "512", "617", "702", "818", "917", "206")
_EXCHANGES = tuple(f"{x}" for x in range(201, 1000) if x % 100 != 11 and x != 555)


def unique_phone(index: int) -> str:
    """A valid-looking, unique US number for person `index` (10 digits, no country code)."""
    line = index % 10_000
    exchange = _EXCHANGES[(index // 10_000) % len(_EXCHANGES)]
    area = _AREAS[(index // (10_000 * len(_EXCHANGES))) % len(_AREAS)]
    return f"{area}{exchange}{line:04d}"


def render_phone(digits: str, rng: random.Random) -> str:
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return rng.choice(PHONE_STYLES).format(a=a, b=b, c=c)


def render_email(email: str, rng: random.Random) -> str:
    """Real accounts hold emails typed by people: some upper-cased, some with stray spaces."""
    roll = rng.random()
    if roll < 0.08:
        return email.upper()
    if roll < 0.14:
        return f"  {email.title()} "
    return email


def make_id(rng: random.Random, length: int = 20) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(length))
