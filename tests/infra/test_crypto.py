"""PII encryption: AES-GCM with key ids, rotation that keeps old values readable, a keyed blind index."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidTag

from infra.crypto import Keyring

PHONE = "+34600123456"


def ring(*keys: tuple[str, str], blind: str = "blind-secret") -> Keyring:
    return Keyring.from_secrets(list(keys), blind)


def test_round_trip_keeps_any_text() -> None:
    keys = ring(("k1", "secret-one"))
    for value in (PHONE, "", "Jürgen Müller", "محمد", "ana.garcia+trip@example.co.uk", "x" * 500):
        assert keys.decrypt(keys.encrypt(value)) == value


def test_the_stored_value_names_its_key_and_hides_the_plaintext() -> None:
    stored = ring(("k1", "secret-one")).encrypt(PHONE)
    prefix, kid, blob = stored.split(":", 2)
    assert (prefix, kid) == ("enc1", "k1")
    assert PHONE not in stored
    assert PHONE.encode() not in base64.urlsafe_b64decode(blob)


def test_the_same_value_encrypts_differently_each_time() -> None:
    keys = ring(("k1", "secret-one"))
    sealed = {keys.encrypt(PHONE) for _ in range(20)}
    assert len(sealed) == 20
    assert {keys.decrypt(s) for s in sealed} == {PHONE}


def test_rotation_encrypts_with_the_new_key_and_still_reads_old_values() -> None:
    old = ring(("k1", "secret-one"))
    stored_before = old.encrypt(PHONE)

    rotated = ring(("k2", "secret-two"), ("k1", "secret-one"))
    stored_after = rotated.encrypt(PHONE)

    assert stored_after.split(":")[1] == "k2"
    assert rotated.decrypt(stored_before) == PHONE
    assert rotated.decrypt(stored_after) == PHONE
    with pytest.raises(LookupError):
        old.decrypt(stored_after)


def test_a_retired_key_no_longer_decrypts_its_values() -> None:
    stored = ring(("k1", "secret-one")).encrypt(PHONE)
    with pytest.raises(LookupError):
        ring(("k2", "secret-two")).decrypt(stored)


def test_the_wrong_secret_under_the_same_key_id_fails_loudly() -> None:
    stored = ring(("k1", "secret-one")).encrypt(PHONE)
    with pytest.raises(InvalidTag):
        ring(("k1", "not-the-secret")).decrypt(stored)


def test_tampering_is_detected() -> None:
    keys = ring(("k1", "secret-one"))
    prefix, kid, blob = keys.encrypt(PHONE).split(":", 2)
    raw = bytearray(base64.urlsafe_b64decode(blob))
    raw[-1] ^= 0x01
    with pytest.raises(InvalidTag):
        keys.decrypt(f"{prefix}:{kid}:{base64.urlsafe_b64encode(bytes(raw)).decode()}")


def test_a_value_cannot_be_relabelled_with_another_key_id() -> None:
    """The key id is authenticated data: same secret under a different id still refuses."""
    keys = ring(("k1", "same-secret"), ("k2", "same-secret"))
    _, _, blob = keys.encrypt(PHONE).split(":", 2)
    with pytest.raises(InvalidTag):
        keys.decrypt(f"enc1:k2:{blob}")


def test_a_plain_value_is_not_mistaken_for_ciphertext() -> None:
    with pytest.raises(ValueError, match="not an encrypted"):
        ring(("k1", "secret-one")).decrypt("plain:k1:" + base64.urlsafe_b64encode(b"x" * 40).decode())


def test_an_empty_keyring_is_refused() -> None:
    with pytest.raises(ValueError):
        Keyring.from_secrets([], "blind-secret")


def test_the_blind_index_is_stable_normalised_and_keyed() -> None:
    keys = ring(("k1", "secret-one"))
    index = keys.blind_index(PHONE)

    assert index == keys.blind_index(PHONE)
    assert index == ring(("k9", "another-pii-key")).blind_index(PHONE)
    assert keys.blind_index("  Ana@Example.com ") == keys.blind_index("ana@example.com")
    assert index != keys.blind_index("+34600123457")
    assert index != ring(("k1", "secret-one"), blind="other-blind-secret").blind_index(PHONE)
    assert index != hashlib.sha256(PHONE.encode()).hexdigest()
    assert PHONE not in index and "600123456" not in index
    assert len(index) == 64
