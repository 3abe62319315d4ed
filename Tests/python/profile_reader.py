"""An independent reader of the profile format (docs/profile-format.md), written from the
document alone with PyNaCl and Python's sqlite3: it unwraps the master key, opens the
identity and the contacts, and checks every row's binding to its place."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from nacl import bindings, encoding, pwhash
from nacl import hash as nacl_hash

LABEL = b"catroom-profile-v1"


def associated_data(place: str, key: bytes) -> bytes:
    return LABEL + bytes([len(place)]) + place.encode() + key


def subkey(master: bytes, subkey_id: int, context: bytes) -> bytes:
    """libsodium's crypto_kdf_derive_from_key, as §2 spells it out."""
    return nacl_hash.blake2b(b"", digest_size=32, key=master, salt=subkey_id.to_bytes(8, "little") + bytes(8),
                             person=context + bytes(8), encoder=encoding.RawEncoder)


def open_box(box: bytes, key: bytes, ad: bytes) -> bytes:
    return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(box[24:], ad, box[:24], key)


@dataclass
class Contact:
    identity: bytes
    name: str | None
    verified_at: int | None
    first_seen: int
    last_seen: int


@dataclass
class Reading:
    master: bytes
    seed: bytes
    public_key: bytes
    contacts: list[Contact]


def kek(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return pwhash.argon2id.kdf(32, passphrase, salt, opslimit=opslimit, memlimit=memlimit)


def read(path: Path, passphrase: bytes) -> Reading:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        salt, opslimit, memlimit, box = db.execute("SELECT salt, opslimit, memlimit, box FROM keyring WHERE id = 1").fetchone()
        binding = salt + opslimit.to_bytes(8, "big") + memlimit.to_bytes(8, "big")
        master = open_box(box, kek(passphrase, salt, opslimit, memlimit), associated_data("keyring", binding))
        row_key, handle_key = subkey(master, 1, b"profrows"), subkey(master, 1, b"profhand")
        (identity_box,) = db.execute("SELECT box FROM identity WHERE id = 1").fetchone()
        seed = open_box(identity_box, row_key, associated_data("identity", b""))
        public_key, _ = bindings.crypto_sign_seed_keypair(seed)
        contacts = []
        for handle, box in db.execute("SELECT handle, box FROM contacts"):
            record = open_box(box, row_key, associated_data("contacts", handle))
            contact = decode_contact(record)
            assert nacl_hash.blake2b(contact.identity, digest_size=32, key=handle_key, encoder=encoding.RawEncoder) == handle
            contacts.append(contact)
    return Reading(master, seed, public_key, contacts)


def decode_contact(record: bytes) -> Contact:
    assert record[0] == 1 and len(record) % 128 == 0, record[:1]
    identity = record[1:33]
    first, last = int.from_bytes(record[33:41], "big", signed=True), int.from_bytes(record[41:49], "big", signed=True)
    verified, verified_at = record[49], int.from_bytes(record[50:58], "big", signed=True)
    length = int.from_bytes(record[58:60], "big")
    name = record[60:60 + length].decode()
    assert set(record[60 + length:]) <= {0}
    return Contact(identity, name or None, verified_at if verified else None, first, last)


def fingerprint(public_key: bytes) -> str:
    """As catroom shows it: hex in eight groups of eight."""
    text = public_key.hex()
    return " ".join(text[i:i + 8] for i in range(0, len(text), 8))
