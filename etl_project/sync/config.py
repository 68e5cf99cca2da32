"""The sync configuration: one validated file (TOML) for flows, field mappings, merge policy, modes and safety.

Errors name the bad key (`targets.sendapp.mode: Input should be 'upsert', …`), so a typo never silently turns a
flow off. The shipped default (`default_sync.toml`) implements flows 1 and 2 of the design.

A file that starts with `extends = "default"` states only what differs from the shipped default: it is merged over
it (tables key by key, at any depth; any other value, arrays included, replaces the default's) and the result is
validated like a whole file, so an unknown key is still an error. A file without `extends` is the whole config.
"""

from __future__ import annotations

import string
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from etl_project.sync.sources import GOLDEN_FIELDS, PAYLOAD_FIELDS

Platform = Literal["highlevel", "sendowl", "sendapp"]


class ConfigError(ValueError):
    """The sync config is invalid; the message lists every bad key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldPolicy(_Strict):
    strategy: Literal["lww", "source"] = "lww"
    source: Platform | None = None
    fallback: Literal["lww", "none"] = Field(default="lww", description="When the source has no value.")

    @model_validator(mode="after")
    def _source_needs_platform(self) -> FieldPolicy:
        if self.strategy == "source" and self.source is None:
            raise ValueError("strategy 'source' needs a 'source' platform")
        return self


class TargetConfig(_Strict):
    mode: Literal["upsert", "update_only", "insert_only", "mirror"] = "upsert"
    deletes: Literal["ignore", "clear", "delete"] = "ignore"
    fields: dict[str, str] = Field(
        description="golden field → the platform's field name; in a file, left out means every golden field the "
        "platform has, under the name the sync reads it by (`sync.sources.PAYLOAD_FIELDS`)"
    )
    custom_fields: dict[str, str] = Field(
        default_factory=dict,
        description="golden field → custom field id, written alongside the standard field whenever it changes",
    )

    @model_validator(mode="after")
    def _known_fields(self) -> TargetConfig:
        unknown = sorted((set(self.fields) | set(self.custom_fields)) - set(GOLDEN_FIELDS))
        if unknown:
            raise ValueError(f"unknown golden field(s) {unknown}; known: {list(GOLDEN_FIELDS)}")
        return self


class Flows(_Strict):
    highlevel_contacts_to_sendapp: bool = True  # flow 1
    sendapp_contacts_to_highlevel: bool = True  # flow 2
    sendowl_purchases_to_highlevel: bool = False  # flow 3
    highlevel_tasks_to_sendapp: bool = False  # flow 4
    highlevel_activity_to_sendapp: bool = False  # flow 5
    welcome_message: bool = False  # flow 6


class _Templates(_Strict):
    """`{placeholder}` texts may name only the fields they are given: a typo is a config error, not a crash mid-run."""

    placeholders: ClassVar[dict[str, tuple[str, ...]]] = {}

    @field_validator("*")
    @classmethod
    def _known_placeholders(cls, value: object, info: ValidationInfo) -> object:
        allowed = cls.placeholders.get(info.field_name or "")
        if allowed is None or not isinstance(value, str):
            return value
        try:
            used = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise ValueError(f"not a valid template: {exc}") from None
        unknown = sorted(used - set(allowed))
        if unknown:
            raise ValueError(f"unknown placeholder(s) {unknown}; known: {list(allowed)}")
        return value


class PurchaseFlow(_Templates):
    """Flow 3: what a SendOwl sale (or a refund or chargeback) does to the buyer's HighLevel contact."""

    states: tuple[str, ...] = ("complete", "subscription_active")
    customer_tag: str = "sendowl-customer"
    product_tag: str = Field(default="bought:{product}", description="One tag per product; {product} is its name.")
    refund_tag: str = "sendowl-refunded"
    chargeback_tag: str = "sendowl-chargeback"
    task_title: str = Field(default="Follow up on SendOwl order {order_id}", description="{order_id}, {products}")
    task_due_days: int = Field(default=3, ge=0, description="The follow-up task is due this many days after the sale.")
    tag_orders: bool = Field(default=True, description="Set each SendOwl order's `tag` to the HighLevel contact id.")
    placeholders: ClassVar[dict[str, tuple[str, ...]]] = {
        "product_tag": ("product",),
        "task_title": ("order_id", "products"),
    }


TaskField = Literal["title", "due", "status"]
TASK_FIELDS: tuple[TaskField, ...] = ("title", "due", "status")


class TaskFlow(_Strict):
    """Flow 4: which task fields a HighLevel task and its SendApp twin keep in step, and who wins when both sides
    changed the same field since they last agreed."""

    fields: tuple[TaskField, ...] = Field(default=TASK_FIELDS, description="title, due (date) and status (done)")
    merge: dict[TaskField, Literal["lww", "highlevel", "sendapp"]] = Field(
        default_factory=dict, description="Per field: last writer wins (the default) or a source of truth."
    )
    untitled: str = Field(default="(untitled task)", description="The SendApp title of a HighLevel task without one.")


class ActivityFlow(_Templates):
    """Flow 5: how HighLevel notes and appointments are written into the SendApp contact's notes."""

    notes: bool = True
    appointments: bool = True
    note_format: str = Field(default="HighLevel note: {body}", description="{body}, {added_at}")
    appointment_format: str = Field(
        default="Appointment '{title}' at {start}: {status}.", description="{title}, {start}, {status}"
    )
    placeholders: ClassVar[dict[str, tuple[str, ...]]] = {
        "note_format": ("body", "added_at"),
        "appointment_format": ("title", "start", "status"),
    }


class WelcomeFlow(_Templates):
    """Flow 6: one WhatsApp template message to each person new to the sync (with a phone, without DND)."""

    template: str = "welcome"
    language: str = "en"
    note: str = Field(default="WhatsApp welcome message sent ({template}).", description="The HighLevel note.")
    placeholders: ClassVar[dict[str, tuple[str, ...]]] = {"note": ("template",)}


class Thresholds(_Strict):
    max_update_share: float = Field(default=0.25, ge=0, le=1, description="Stop a plan updating more than this.")
    max_delete_share: float = Field(default=0.05, ge=0, le=1, description="Stop a plan deleting more than this.")
    min_records_for_share: int = Field(default=20, ge=0, description="Below this size the shares do not apply.")
    max_quarantine_share: float = Field(
        default=0.05, ge=0, le=1, description="Warn when more of a day's extracted records are quarantined."
    )
    max_extract_age_hours: float = Field(
        default=6, gt=0, description="Fail the freshness check when a live extraction is older than this."
    )


class SyncConfig(_Strict):
    dry_run: bool = False
    allow_real_writes: bool = Field(default=False, description="Writes to non-sandbox URLs need this opt-in.")
    max_write_attempts: int = Field(default=5, ge=1, description="Runs that may try one outbox row before it is dead.")
    default_region: str = Field(default="US", min_length=2, max_length=2, description="For phones without +.")
    platform_order: tuple[Platform, ...] = ("highlevel", "sendapp", "sendowl")
    flows: Flows = Flows()
    merge: dict[str, FieldPolicy] = Field(default_factory=dict)
    targets: dict[Platform, TargetConfig] = Field(default_factory=dict)
    thresholds: Thresholds = Thresholds()
    purchases: PurchaseFlow = PurchaseFlow()
    tasks: TaskFlow = TaskFlow()
    activity: ActivityFlow = ActivityFlow()
    welcome: WelcomeFlow = WelcomeFlow()

    @model_validator(mode="before")
    @classmethod
    def _default_target_fields(cls, data: Any) -> Any:
        """A target without `fields` writes each golden field under the platform's own name for it: the names the
        sync reads (`PAYLOAD_FIELDS`), stated once rather than copied into every config file."""
        if not isinstance(data, dict) or not isinstance(data.get("targets"), dict):
            return data
        targets = {
            platform: {"fields": dict(PAYLOAD_FIELDS[platform]), **target}
            if isinstance(target, dict) and "fields" not in target and platform in PAYLOAD_FIELDS
            else target
            for platform, target in data["targets"].items()
        }
        return {**data, "targets": targets}

    @model_validator(mode="after")
    def _merge_fields_known(self) -> SyncConfig:
        unknown = sorted(set(self.merge) - set(GOLDEN_FIELDS))
        if unknown:
            raise ValueError(f"merge: unknown golden field(s) {unknown}; known: {list(GOLDEN_FIELDS)}")
        return self


DEFAULT_FILE = "default_sync.toml"
EXTENDS_KEY = "extends"


def _default_text() -> str:
    return resources.files("etl_project.sync").joinpath(DEFAULT_FILE).read_text()


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` laid on `base`: tables merge key by key at any depth; any other value replaces the base's."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def parse_config(text: str, source: str = "<string>") -> SyncConfig:
    data = _read_toml(text, source)
    if EXTENDS_KEY in data:
        base = data.pop(EXTENDS_KEY)
        if base != "default":
            raise ConfigError(f'{source}: invalid sync config\n  {EXTENDS_KEY}: only "default" can be extended')
        data = merged(_read_toml(_default_text(), DEFAULT_FILE), data)
    try:
        return SyncConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{source}: invalid sync config\n  " + "\n  ".join(lines)) from None


def load_config(path: str | Path | None = None) -> SyncConfig:
    """The file at `path` (over the shipped default if it says `extends = "default"`), or the shipped default."""
    if path is None:
        return parse_config(_default_text(), DEFAULT_FILE)
    return parse_config(Path(path).read_text(), str(path))
