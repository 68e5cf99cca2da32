"""The signing helpers: what verifies, what does not (one changed byte, another key, bad encodings)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from etl_project.webhooks import signing
from etl_project.webhooks.config import config_from_env
from etl_tests.webhook_helpers import Keys

BODY = b'{"type":"ContactUpdate","id":"ct-1","locationId":"loc-1"}'


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


def test_ed25519_verifies_the_exact_bytes_with_any_configured_key(keys: Keys) -> None:
    configured = [keys.rotated.public_key(), keys.ed25519.public_key()]
    signature = signing.sign_ed25519(keys.ed25519, BODY)
    assert signing.verify_ed25519(configured, BODY, signature)
    assert not signing.verify_ed25519(configured, BODY.replace(b"ct-1", b"ct-2"), signature)
    assert not signing.verify_ed25519(configured, BODY, signing.sign_ed25519(keys.stranger, BODY))
    assert not signing.verify_ed25519(configured, BODY + b" ", signature)  # re-serialised bodies do not verify
    for garbage in ("", "not base64!", "AAAA", signature[:-4]):
        assert not signing.verify_ed25519(configured, BODY, garbage)


def test_rsa_legacy_signature(keys: Keys) -> None:
    public = [keys.rsa.public_key()]
    signature = signing.sign_rsa(keys.rsa, BODY)
    assert signing.verify_rsa(public, BODY, signature)
    assert not signing.verify_rsa(public, BODY[:-1] + b"!", signature)
    assert not signing.verify_rsa(public, BODY, "")


def test_sendowl_hmac_and_an_empty_secret_never_verifies() -> None:
    signature = signing.sign_sendowl("s3cret", BODY)
    assert signing.verify_sendowl("s3cret", BODY, signature)
    assert not signing.verify_sendowl("other", BODY, signature)
    assert not signing.verify_sendowl("s3cret", BODY + b"\n", signature)
    assert not signing.verify_sendowl("", BODY, signing.sign_sendowl("x", b""))
    with pytest.raises(ValueError):
        signing.sign_sendowl("", BODY)


def test_published_keys_are_the_defaults() -> None:
    config = config_from_env({"HIGHLEVEL_WEBHOOK_LEGACY_RSA": "on"})
    assert [signing.public_key_b64(key) for key in config.highlevel_keys] == [signing.HIGHLEVEL_ED25519_KEY]
    assert config.rsa_keys[0].key_size == 4096
    assert config.port == 8110 and config.max_age_seconds == 300
    assert config_from_env({}).rsa_keys == ()  # legacy RSA is off unless switched on


def test_location_falls_back_to_the_sync_setting_and_bad_keys_fail_at_start() -> None:
    assert config_from_env({"HIGHLEVEL_LOCATION_ID": "loc-a"}).location_ids == {"loc-a"}
    both = {"HIGHLEVEL_LOCATION_ID": "loc-a", "HIGHLEVEL_LOCATION_IDS": "loc-b, loc-c"}
    assert config_from_env(both).location_ids == {"loc-b", "loc-c"}
    rsa_as_ed = signing.public_key_b64(Keys().rsa.public_key())
    with pytest.raises(ValueError):
        config_from_env({"HIGHLEVEL_WEBHOOK_PUBLIC_KEYS": rsa_as_ed})
    ed = signing.public_key_b64(Ed25519PrivateKey.generate().public_key())
    assert len(config_from_env({"HIGHLEVEL_WEBHOOK_PUBLIC_KEYS": f"{ed}, {ed}"}).highlevel_keys) == 2
