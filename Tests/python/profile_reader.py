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
    assert verified == 1 or (verified == 0 and verified_at == 0), record[49:58]
    length = int.from_bytes(record[58:60], "big")
    name = record[60:60 + length].decode()
    assert set(record[60 + length:]) <= {0}
    return Contact(identity, name or None, verified_at if verified else None, first, last)


def fingerprint(public_key: bytes) -> str:
    """As catroom shows it: hex in eight groups of eight."""
    text = public_key.hex()
    return " ".join(text[i:i + 8] for i in range(0, len(text), 8))


@dataclass
class HistoryEntry:
    kind: int
    time: int
    sender: bytes | None
    name: str
    text: str


def conversation_handle(conversation_key: bytes, kind: int, value: bytes) -> bytes:
    """§3.5: keyed BLAKE2b of u8 kind (1 room, 2 peer) ‖ the room's JID or the peer's key."""
    return nacl_hash.blake2b(bytes([kind]) + value, digest_size=32, key=conversation_key, encoder=encoding.RawEncoder)


def room_handle(conversation_key: bytes, jid: str) -> bytes:
    return conversation_handle(conversation_key, 1, jid.encode())


def settings(path: Path, passphrase: bytes) -> tuple[bool, int | None]:
    """§3.4: whether history is on, and the keep in seconds (None: until deleted)."""
    row_key = subkey(read(path, passphrase).master, 1, b"profrows")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        row = db.execute("SELECT box FROM settings WHERE id = 1").fetchone()
    if row is None:
        return False, None
    record = open_box(row[0], row_key, associated_data("settings", b""))
    assert len(record) == 10 and record[0] == 1 and record[1] in (0, 1), record
    keep = int.from_bytes(record[2:], "big", signed=True)
    return record[1] == 1, keep or None


def read_history(path: Path, passphrase: bytes) -> tuple[bytes, dict[bytes, list[HistoryEntry]]]:
    """The conversation key, and every history row by handle, in row-id order (§3.5)."""
    master = read(path, passphrase).master
    row_key, conversation_key = subkey(master, 1, b"profrows"), subkey(master, 1, b"profconv")
    conversations: dict[bytes, list[HistoryEntry]] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        for row_id, handle, box in db.execute("SELECT id, handle, box FROM history ORDER BY id"):
            record = open_box(box, row_key, associated_data("history", row_id.to_bytes(8, "big") + handle))
            conversations.setdefault(handle, []).append(decode_history(record))
    return conversation_key, conversations


def decode_history(record: bytes) -> HistoryEntry:
    assert record[0] == 1 and 1 <= record[1] <= 5 and len(record) % 64 == 0, record[:2]
    time = int.from_bytes(record[2:10], "big", signed=True)
    sender = record[10:42]
    name_length = int.from_bytes(record[42:44], "big")
    name = record[44:44 + name_length].decode()
    at = 44 + name_length
    text_length = int.from_bytes(record[at:at + 4], "big")
    text = record[at + 4:at + 4 + text_length].decode()
    padding = record[at + 4 + text_length:]
    assert set(padding) <= {0} and len(padding) < 64
    return HistoryEntry(record[1], time, None if sender == bytes(32) else sender, name, text)
