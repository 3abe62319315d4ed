"""An outsider's implementation of the catroom specifications, written from xep/ alone.

Covers CR-0001 (X3DH and Double Ratchet), CR-0002 (fan-out), CR-0005 §3.1 (room
names), CR-0006 §5.3 and §5.8 (payloads, acknowledgements, transcript
consistency, gaps), CR-0007 (room safety code) and CR-0008 (invite secrets).
Nothing here is taken from catroom's sources or from the other Python modules
of this directory; section numbers refer to the documents in xep/.

Primitives come from libsodium through PyNaCl (X25519, Ed25519, XChaCha20-Poly1305,
the Ed25519 to X25519 maps); HKDF, HMAC, SHA-256 and every encoding are written here.
"""

from __future__ import annotations

import base64
import binascii
import copy
import decimal
import hashlib
import hmac
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterable

import nacl.bindings as sodium
import nacl.exceptions

# ---------------------------------------------------------------------------
# CR-0001 §4: primitives and encoding
# ---------------------------------------------------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493

LABEL_X3DH = b"catroom-x3dh-v1"
LABEL_RATCHET = b"catroom-ratchet-v1"
LABEL_MESSAGE = b"catroom-message-v1"
LABEL_SPK = b"catroom-spk-v1"
LABEL_ID = b"catroom-id-v1"
LABEL_FANOUT = b"catroom-fanout-v2"
LABEL_ENTRY = b"catroom-entry-v2"
LABEL_INVITE_KEY = b"catroom-invite-key-v1"
LABEL_INVITE_PROOF = b"catroom-invite-proof-v1"
LABEL_SAFETY = b"catroom-safety-v1"

MAX_SKIP = 1000                 # CR-0001 §7.2
MAX_STORED_SKIPPED = 2000
MAX_EARLIER_DHR = 8
MAX_EARLIER_SESSIONS = 4
MAX_REMEMBERED_BASE_KEYS = 10_000

# CR-0001 §7.3 error names; the vectors use exactly these strings.
INVALID_KEY = "invalid key"
INVALID_SIGNATURE = "invalid signature"
UNSUPPORTED_VERSION = "unsupported version"
MALFORMED = "malformed"
UNKNOWN_PREKEY = "unknown prekey"
NO_SESSION = "no session"
IDENTITY_MISMATCH = "identity mismatch"
TOO_FAR = "too far in the future"
DUPLICATE = "duplicate"
DECRYPTION_FAILED = "decryption failed"


class ProtocolError(Exception):
    """A CR-0001 rejection. `name` is the §7.3 error; `detail` says more.

    `skipped` is the `skipped` of §5.4 when the skip-limit check was reached.
    `session_errors` holds, for a ratchet message tried on several sessions
    (§5.6), each session's own error.
    """

    def __init__(self, name: str, detail: str = "", skipped: int | None = None):
        super().__init__(f"{name}: {detail}" if detail else name)
        self.name = name
        self.detail = detail
        self.skipped = skipped
        self.session_errors: list[ProtocolError] = []


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 HKDF-SHA-256, Extract then Expand."""
    prk = hmac_sha256(salt, ikm)
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac_sha256(prk, block + info + bytes([counter]))
        out += block
        counter += 1
    return out[:length]


def zeros(n: int) -> bytes:
    return bytes(n)


def ones(n: int) -> bytes:
    return b"\xff" * n


def u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def x25519(private: bytes, public: bytes) -> bytes:
    """RFC 7748 X25519; returns None for the all-zero output (libsodium refuses it)."""
    try:
        out = sodium.crypto_scalarmult(private, public)
    except nacl.exceptions.RuntimeError:
        return None
    return None if out == zeros(32) else out


def x25519_public(private: bytes) -> bytes:
    return sodium.crypto_scalarmult_base(private)


def dh(private: bytes, public: bytes) -> bytes:
    """CR-0001 §4.2 DH: fails (invalid key) when the output is 32 zero bytes."""
    out = x25519(private, public)
    if out is None:
        raise ProtocolError(INVALID_KEY, "DH output is zero (low-order public key)")
    return out


def aead_seal(key: bytes, nonce: bytes, ad: bytes, plaintext: bytes) -> bytes:
    return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_open(key: bytes, nonce: bytes, ad: bytes, ciphertext: bytes) -> bytes | None:
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except nacl.exceptions.CryptoError:
        return None


# CR-0001 §4.3 key validation -------------------------------------------------

def x25519_key_is_valid(key: bytes) -> bool:
    """32 bytes, top bit of the last byte clear, little-endian value below p."""
    return (isinstance(key, (bytes, bytearray)) and len(key) == 32 and key[31] & 0x80 == 0
            and int.from_bytes(key, "little") < P)


def identity_key_is_valid(key: bytes) -> bool:
    """Canonical (y < p), on the curve, not small order, in the prime-order subgroup."""
    if not isinstance(key, (bytes, bytearray)) or len(key) != 32:
        return False
    y = int.from_bytes(key, "little") & (2**255 - 1)
    if y >= P:
        return False
    return bool(sodium.crypto_core_ed25519_is_valid_point(bytes(key)))


# Ed25519 (RFC 8032) ------------------------------------------------------------

@dataclass
class IdentityKey:
    seed: bytes
    public: bytes
    secret: bytes            # libsodium's 64-byte form (seed || public)

    @classmethod
    def from_seed(cls, seed: bytes) -> "IdentityKey":
        public, secret = sodium.crypto_sign_seed_keypair(seed)
        return cls(seed, public, secret)

    def sign(self, message: bytes) -> bytes:
        return sodium.crypto_sign(message, self.secret)[:64]

    @property
    def x25519_private(self) -> bytes:
        return sodium.crypto_sign_ed25519_sk_to_curve25519(self.secret)

    @property
    def x25519_public(self) -> bytes:
        return ed2x_public(self.public)


def ed2x_public(public: bytes) -> bytes:
    return sodium.crypto_sign_ed25519_pk_to_curve25519(public)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """CR-0001 §4.2: fails for S >= L, for an identity key §4.3 rejects, and (in
    libsodium's verification) for a small-order R."""
    if len(signature) != 64 or not identity_key_is_valid(public):
        return False
    if int.from_bytes(signature[32:], "little") >= L:
        return False
    try:
        sodium.crypto_sign_open(signature + message, public)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


# CR-0001 §5.1 ----------------------------------------------------------------

def account_id(identity_public: bytes) -> str:
    digest = sha256(LABEL_ID + identity_public)[:20]
    return base64.b32encode(digest).decode("ascii").lower()   # 20 bytes: 32 characters, no padding


def fingerprint(identity_public: bytes) -> str:
    h = identity_public.hex()
    return " ".join(h[i:i + 8] for i in range(0, 64, 8))


# ---------------------------------------------------------------------------
# Random inputs: each party draws from its own scripted source
# ---------------------------------------------------------------------------

class ScriptedRandom:
    """Hands out the listed values in order; `draw(n)` checks the length."""

    def __init__(self, party: str, values: Iterable[bytes]):
        self.party = party
        self.values = list(values)
        self.used = 0

    def draw(self, n: int = 32) -> bytes:
        if self.used >= len(self.values):
            raise AssertionError(f"{self.party} drew more random values than the script lists")
        value = self.values[self.used]
        if len(value) != n:
            raise AssertionError(f"{self.party}'s draw {self.used + 1} is {len(value)} bytes, {n} wanted")
        self.used += 1
        return value

    @property
    def exhausted(self) -> bool:
        return self.used == len(self.values)


class SystemRandom:
    def draw(self, n: int = 32) -> bytes:
        import os
        return os.urandom(n)


# ---------------------------------------------------------------------------
# CR-0001 §5.5 message encoding
# ---------------------------------------------------------------------------

TYPE_RATCHET = 0x01
TYPE_INITIAL = 0x02


@dataclass(frozen=True)
class PreKeyFields:
    ik_a: bytes
    ek_a: bytes
    spk_id: int
    opk_id: int | None

    def encode(self) -> bytes:
        out = self.ik_a + self.ek_a + u32(self.spk_id)
        return out + (b"\x01" + u32(self.opk_id) if self.opk_id is not None else b"\x00")


@dataclass(frozen=True)
class Header:
    dh: bytes
    pn: int
    n: int

    def encode(self) -> bytes:
        return self.dh + u32(self.pn) + u32(self.n)


@dataclass(frozen=True)
class WireMessage:
    prekey: PreKeyFields | None
    header: Header
    ciphertext: bytes

    @property
    def type(self) -> int:
        return TYPE_INITIAL if self.prekey else TYPE_RATCHET

    @property
    def header_bytes(self) -> bytes:
        return bytes([0x01, self.type]) + (self.prekey.encode() if self.prekey else b"") + self.header.encode()

    def encode(self) -> bytes:
        return self.header_bytes + self.ciphertext


def parse_message(data: bytes) -> WireMessage:
    """CR-0001 §5.5 (0.2): each field checked as it is read, the first failure named."""
    data = bytes(data)
    if len(data) < 1:
        raise ProtocolError(MALFORMED, "empty")
    if data[0] != 0x01:
        raise ProtocolError(UNSUPPORTED_VERSION, f"version {data[0]}")
    if len(data) < 2:
        raise ProtocolError(MALFORMED, "no type")
    kind, pos, prekey = data[1], 2, None
    if kind not in (TYPE_RATCHET, TYPE_INITIAL):
        raise ProtocolError(MALFORMED, f"unknown type {kind}")

    def take(n: int) -> bytes:
        nonlocal pos
        if len(data) < pos + n:
            raise ProtocolError(MALFORMED, "truncated")
        chunk = data[pos:pos + n]
        pos += n
        return chunk

    if kind == TYPE_INITIAL:
        ik_a = take(32)
        if not identity_key_is_valid(ik_a):
            raise ProtocolError(INVALID_KEY, "IK_A fails §4.3")
        ek_a = take(32)
        if not x25519_key_is_valid(ek_a):
            raise ProtocolError(INVALID_KEY, "EK_A fails §4.3")
        spk_id = int.from_bytes(take(4), "big")
        has_opk = take(1)[0]
        if has_opk not in (0, 1):
            raise ProtocolError(MALFORMED, f"has_opk = {has_opk}")
        opk_id = int.from_bytes(take(4), "big") if has_opk else None
        prekey = PreKeyFields(ik_a, ek_a, spk_id, opk_id)
    dh = take(32)
    if not x25519_key_is_valid(dh):
        raise ProtocolError(INVALID_KEY, "ratchet key fails §4.3")
    header = Header(dh, int.from_bytes(take(4), "big"), int.from_bytes(take(4), "big"))
    ciphertext = data[pos:]
    if len(ciphertext) < 16:
        raise ProtocolError(MALFORMED, "ciphertext shorter than 16 bytes")
    return WireMessage(prekey, header, ciphertext)


# ---------------------------------------------------------------------------
# CR-0001 §5.3, §5.4 Double Ratchet
# ---------------------------------------------------------------------------

def kdf_rk(rk: bytes, dh_out: bytes) -> tuple[bytes, bytes]:
    out = hkdf(rk, dh_out, LABEL_RATCHET, 64)
    return out[:32], out[32:]


def kdf_ck(ck: bytes) -> tuple[bytes, bytes]:
    """Returns (next chain key, message key)."""
    return hmac_sha256(ck, b"\x02"), hmac_sha256(ck, b"\x01")


def message_keys(mk: bytes) -> tuple[bytes, bytes]:
    k = hkdf(zeros(32), mk, LABEL_MESSAGE, 56)
    return k[:32], k[32:]


@dataclass
class KeyPair:
    private: bytes
    public: bytes

    @classmethod
    def from_private(cls, private: bytes) -> "KeyPair":
        return cls(private, x25519_public(private))


@dataclass
class Session:
    """One CR-0001 session. `trace` records the last operation's values (not state)."""
    ad: bytes
    peer_ik: bytes
    base_key: bytes
    rk: bytes
    dhs: KeyPair | None
    dhr: bytes | None
    cks: bytes | None = None
    ckr: bytes | None = None
    ns: int = 0
    nr: int = 0
    pn: int = 0
    pending: PreKeyFields | None = None       # initiator: prekey fields until the first reply
    earlier_dhr: list = field(default_factory=list)
    skipped: OrderedDict = field(default_factory=OrderedDict)   # (dh, n) -> mk, oldest first
    trace: dict = field(default_factory=dict, compare=False)

    def state(self) -> tuple:
        """Everything that must not change on a rejected message."""
        return (self.ad, self.peer_ik, self.base_key, self.rk,
                (self.dhs.private, self.dhs.public) if self.dhs else None, self.dhr, self.cks, self.ckr,
                self.ns, self.nr, self.pn, self.pending, tuple(self.earlier_dhr), tuple(self.skipped.items()))

    # -- sending -------------------------------------------------------------
    def encrypt(self, plaintext: bytes, rng, context: bytes = b"") -> bytes:
        trace: dict = {}
        if self.cks is None:
            dhs = KeyPair.from_private(rng.draw(32))
            dh_out = dh(dhs.private, self.dhr)
            rk_before = self.rk
            self.rk, self.cks = kdf_rk(self.rk, dh_out)
            self.dhs = dhs
            trace["dhStep"] = {"ratchetPrivate": dhs.private, "ratchetPublic": dhs.public,
                               "remoteRatchetPublic": self.dhr, "dhOutput": dh_out,
                               "rootKeyBefore": rk_before, "rootKeyAfter": self.rk, "chainKey": self.cks}
        chain_key = self.cks
        self.cks, mk = kdf_ck(self.cks)
        header = Header(self.dhs.public, self.pn, self.ns)
        self.ns += 1
        shell = WireMessage(self.pending, header, b"")
        ad = self.ad + shell.header_bytes + context
        key, nonce = message_keys(mk)
        encoded = shell.header_bytes + aead_seal(key, nonce, ad, plaintext)
        trace.update({"plaintext": plaintext, "chainKey": chain_key, "messageKey": mk, "nextChainKey": self.cks,
                      "aeadKey": key, "aeadNonce": nonce, "headerBytes": shell.header_bytes,
                      "messageAD": ad, "encoded": encoded, "messageNumber": header.n})
        self.trace = trace
        return encoded

    # -- receiving -------------------------------------------------------------
    def try_decrypt(self, message: WireMessage, context: bytes = b"") -> tuple[bytes, "Session"]:
        """§5.4 RatchetDecrypt on a copy: returns (plaintext, new state) or raises;
        `self` never changes."""
        s = copy.deepcopy(self)
        s.trace = {}
        plaintext = s._decrypt(message, context)
        return plaintext, s

    def _skip_to(self, until: int) -> None:
        while self.nr < until:
            self.ckr, mk = kdf_ck(self.ckr)
            self.skipped[(self.dhr, self.nr)] = mk
            while len(self.skipped) > MAX_STORED_SKIPPED:
                self.skipped.popitem(last=False)
            self.nr += 1

    def _open(self, mk: bytes, message: WireMessage, context: bytes) -> bytes:
        key, nonce = message_keys(mk)
        plaintext = aead_open(key, nonce, self.ad + message.header_bytes + context, message.ciphertext)
        if plaintext is None:
            raise ProtocolError(DECRYPTION_FAILED, "AEAD tag mismatch")
        return plaintext

    def _decrypt(self, message: WireMessage, context: bytes) -> bytes:
        h = message.header
        # Step 1: a stored skipped key.
        if (h.dh, h.n) in self.skipped:
            plaintext = self._open(self.skipped[(h.dh, h.n)], message, context)
            del self.skipped[(h.dh, h.n)]
            self.trace["usedSkippedKey"] = (h.dh, h.n)
            self._received()
            return plaintext
        if self.dhr is None or h.dh != self.dhr:
            # Step 2.1: an earlier receiving ratchet key.
            if h.dh in self.earlier_dhr:
                raise ProtocolError(DUPLICATE, "earlier receiving ratchet key")
            # Step 2.2: skip limit, before deriving any key (Python integers cannot overflow).
            skipped = (max(h.pn - self.nr, 0) + h.n) if self.ckr is not None else h.n
            self.trace["skipped"] = skipped
            if skipped > MAX_SKIP:
                raise ProtocolError(TOO_FAR, f"{skipped} skipped keys needed", skipped)
            # Step 2.3: the rest of the current receiving chain.
            if self.ckr is not None:
                self._skip_to(h.pn)
            # Step 2.4: receiving half of the DH step.
            if self.dhs is None:
                raise ProtocolError(DECRYPTION_FAILED, "new ratchet key but no own ratchet key", skipped)
            dh_out = x25519(self.dhs.private, h.dh)
            if dh_out is None:
                raise ProtocolError(INVALID_KEY, "DH step on a low-order ratchet key", skipped)
            if self.dhr is not None:
                self.earlier_dhr.append(self.dhr)
                del self.earlier_dhr[:-MAX_EARLIER_DHR]
            self.pn, self.ns, self.nr, self.dhr = self.ns, 0, 0, h.dh
            rk_before = self.rk
            self.rk, self.ckr = kdf_rk(self.rk, dh_out)
            self.dhs, self.cks = None, None
            self.trace["dhStep"] = {"remoteRatchetPublic": h.dh, "dhOutput": dh_out, "rootKeyBefore": rk_before,
                                    "rootKeyAfter": self.rk, "chainKey": self.ckr}
        else:
            # Step 3.
            if self.ckr is None:
                raise ProtocolError(DECRYPTION_FAILED, "no receiving chain")
            if h.n < self.nr:
                raise ProtocolError(DUPLICATE, "message number already used")
            skipped = h.n - self.nr
            self.trace["skipped"] = skipped
            if skipped > MAX_SKIP:
                raise ProtocolError(TOO_FAR, f"{skipped} skipped keys needed", skipped)
        # Step 4.
        self._skip_to(h.n)
        self.ckr, mk = kdf_ck(self.ckr)
        self.nr += 1
        try:
            plaintext = self._open(mk, message, context)
        except ProtocolError as error:
            error.skipped = self.trace.get("skipped")
            raise
        self._received()
        return plaintext

    def _received(self) -> None:
        # Step 5: a reply proves the responder holds the session.
        self.pending = None


# ---------------------------------------------------------------------------
# CR-0001 §5.2 X3DH and §5.6 several sessions per peer: a member
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Bundle:
    identity: bytes
    spk_id: int
    spk: bytes
    signature: bytes
    opk_id: int | None = None
    opk: bytes | None = None


@dataclass
class Opened:
    """A decrypted message whose state change waits for `commit()` (CR-0002 §5.4 step 6)."""
    plaintext: bytes
    commit: Callable[[], None]
    message: WireMessage
    session: Session


class Member:
    """A CR-0001 party: identity, prekeys, and per peer a current session and up to four earlier ones."""

    def __init__(self, name: str, rng):
        self.name = name
        self.rng = rng
        self.identity = IdentityKey.from_seed(rng.draw(32))
        self.spk_id = 1
        self.spk = KeyPair.from_private(rng.draw(32))
        self.spk_signature = self.identity.sign(LABEL_SPK + self.spk.public)
        self.opks: dict[int, KeyPair] = {1: KeyPair.from_private(rng.draw(32))}
        self.sessions: dict[str, list[Session]] = {}
        self.base_keys: OrderedDict = OrderedDict()
        self.x3dh_trace: dict = {}

    @property
    def id(self) -> str:
        return account_id(self.identity.public)

    def party_fields(self) -> dict:
        opk = self.opks.get(1)
        return {"accountID": self.id, "fingerprint": fingerprint(self.identity.public),
                "identityPublic": self.identity.public, "identitySeed": self.identity.seed,
                "identityX25519Private": self.identity.x25519_private,
                "identityX25519Public": self.identity.x25519_public,
                "oneTimePreKeyId": 1, "oneTimePreKeyPrivate": opk.private if opk else None,
                "oneTimePreKeyPublic": opk.public if opk else None,
                "signedPreKeyId": self.spk_id, "signedPreKeyPrivate": self.spk.private,
                "signedPreKeyPublic": self.spk.public, "signedPreKeySignature": self.spk_signature}

    def bundle(self, with_opk: bool = True) -> Bundle:
        opk_id = min(self.opks) if (with_opk and self.opks) else None
        return Bundle(self.identity.public, self.spk_id, self.spk.public, self.spk_signature,
                      opk_id, self.opks[opk_id].public if opk_id is not None else None)

    def state(self) -> tuple:
        sessions = tuple((peer, tuple(s.state() for s in lst)) for peer, lst in sorted(self.sessions.items()))
        opks = tuple((i, k.private) for i, k in sorted(self.opks.items()))
        return sessions, opks, tuple(self.base_keys)

    def skipped_key_count(self, peer: str) -> int:
        current = self.sessions.get(peer)
        return len(current[0].skipped) if current else 0

    def _install(self, peer: str, session: Session) -> None:
        """Make `session` current; the previous ones become earlier ones (at most four)."""
        sessions = [s for s in self.sessions.get(peer, []) if s is not session]
        self.sessions[peer] = ([session] + sessions)[:1 + MAX_EARLIER_SESSIONS]

    # -- initiator ----------------------------------------------------------------
    def initiate(self, peer: str, bundle: Bundle) -> Session:
        # Step 1: validate every key, then the account id.
        if not identity_key_is_valid(bundle.identity):
            raise ProtocolError(INVALID_KEY, "IK_B fails §4.3")
        if not x25519_key_is_valid(bundle.spk) or (bundle.opk is not None and not x25519_key_is_valid(bundle.opk)):
            raise ProtocolError(INVALID_KEY, "prekey fails §4.3")
        if account_id(bundle.identity) != peer:
            raise ProtocolError(IDENTITY_MISMATCH, "IK_B does not derive the peer's id")
        # Step 2: signature before any DH (and before drawing EK_A).
        if not ed25519_verify(bundle.identity, LABEL_SPK + bundle.spk, bundle.signature):
            raise ProtocolError(INVALID_SIGNATURE, "signed prekey")
        # Steps 3 to 6.
        ek = KeyPair.from_private(self.rng.draw(32))
        dh1 = dh(self.identity.x25519_private, bundle.spk)
        dh2 = dh(ek.private, ed2x_public(bundle.identity))
        dh3 = dh(ek.private, bundle.spk)
        dhs = [dh1, dh2, dh3]
        if bundle.opk is not None:
            dhs.append(dh(ek.private, bundle.opk))
        ikm = ones(32) + b"".join(dhs)
        sk = hkdf(zeros(32), ikm, LABEL_X3DH, 32)
        ad = self.identity.public + bundle.identity
        self.x3dh_trace = {"aliceEphemeralPrivate": ek.private, "aliceEphemeralPublic": ek.public,
                           "dh1": dh1, "dh2": dh2, "dh3": dh3, "kdfInputKeyMaterial": ikm,
                           "sharedSecret": sk, "adX3DH": ad, "signedPreKeyId": bundle.spk_id}
        if bundle.opk is not None:
            self.x3dh_trace.update(dh4=dhs[3], oneTimePreKeyId=bundle.opk_id)
        # Step 7 and §5.3 (initiator).
        session = Session(ad=ad, peer_ik=bundle.identity, base_key=ek.public, rk=sk, dhs=None, dhr=bundle.spk,
                          pending=PreKeyFields(self.identity.public, ek.public, bundle.spk_id, bundle.opk_id))
        self._install(peer, session)
        return session

    # -- sending ----------------------------------------------------------------------
    def encrypt(self, peer: str, plaintext: bytes, context: bytes = b"") -> bytes:
        sessions = self.sessions.get(peer)
        if not sessions:
            raise ProtocolError(NO_SESSION, f"no session with {peer}")
        return sessions[0].encrypt(plaintext, self.rng, context)

    # -- receiving --------------------------------------------------------------------
    def open(self, peer: str, data: bytes, context: bytes = b"") -> Opened:
        """Decrypts without changing state; the result's `commit()` applies the change."""
        message = parse_message(data)
        if message.prekey is not None:
            return self._open_initial(peer, message, context)
        sessions = self.sessions.get(peer, [])
        if not sessions:
            raise ProtocolError(NO_SESSION, f"no session with {peer}")
        errors = []
        for session in sessions:          # current first, then earlier ones, newest first
            try:
                plaintext, new = session.try_decrypt(message, context)
            except ProtocolError as error:
                errors.append(error)
                continue
            return Opened(plaintext, lambda old=session, new=new: self._replace(peer, old, new), message, new)
        # §5.6: duplicate if any session said so, else too far if any, else decryption failed.
        names = [e.name for e in errors]
        chosen = DUPLICATE if DUPLICATE in names else TOO_FAR if TOO_FAR in names else DECRYPTION_FAILED
        first = next((e for e in errors if e.name == chosen), errors[0])
        aggregate = ProtocolError(chosen, "; ".join(str(e) for e in errors), first.skipped)
        aggregate.session_errors = errors
        raise aggregate

    def receive(self, peer: str, data: bytes, context: bytes = b"") -> bytes:
        opened = self.open(peer, data, context)
        opened.commit()
        return opened.plaintext

    def _replace(self, peer: str, old: Session, new: Session) -> None:
        sessions = self.sessions[peer]
        index = next(i for i, s in enumerate(sessions) if s is old)
        sessions[index] = new
        self._install(peer, new)

    def _open_initial(self, peer: str, message: WireMessage, context: bytes) -> Opened:
        pk = message.prekey
        # Responder step 1 (keys were validated by parse_message).
        if account_id(pk.ik_a) != peer:
            raise ProtocolError(IDENTITY_MISMATCH, "IK_A does not derive the sender's id")
        # Step 2: a session with this base key, or a replay.
        for session in self.sessions.get(peer, []):
            if session.base_key == pk.ek_a:
                plaintext, new = session.try_decrypt(message, context)
                return Opened(plaintext, lambda old=session, new=new: self._replace(peer, old, new), message, new)
        if pk.ek_a in self.base_keys:
            raise ProtocolError(DUPLICATE, "base key used before")
        # Step 3.
        if pk.spk_id != self.spk_id:
            raise ProtocolError(UNKNOWN_PREKEY, f"signed prekey {pk.spk_id}")
        if pk.opk_id is not None and pk.opk_id not in self.opks:
            raise ProtocolError(UNKNOWN_PREKEY, f"one-time prekey {pk.opk_id}")
        # Step 4, in this order; DH2 is the first use of EK_A.
        dhs = [dh(self.spk.private, ed2x_public(pk.ik_a)),
               dh(self.identity.x25519_private, pk.ek_a),
               dh(self.spk.private, pk.ek_a)]
        if pk.opk_id is not None:
            dhs.append(dh(self.opks[pk.opk_id].private, pk.ek_a))
        sk = hkdf(zeros(32), ones(32) + b"".join(dhs), LABEL_X3DH, 32)
        ad = pk.ik_a + self.identity.public
        # Step 5 and §5.3 (responder).
        fresh = Session(ad=ad, peer_ik=pk.ik_a, base_key=pk.ek_a, rk=sk, dhs=copy.deepcopy(self.spk), dhr=None)
        plaintext, new = fresh.try_decrypt(message, context)

        def commit() -> None:
            if pk.opk_id is not None:
                self.opks.pop(pk.opk_id, None)
            self.base_keys[pk.ek_a] = True
            while len(self.base_keys) > MAX_REMEMBERED_BASE_KEYS:
                self.base_keys.popitem(last=False)
            self._install(peer, new)
        return Opened(plaintext, commit, message, new)


# ---------------------------------------------------------------------------
# CR-0002 fan-out
# ---------------------------------------------------------------------------

KIND_ROOM = 0x01
KIND_PRIVATE = 0x02


class FanoutError(Exception):
    def __init__(self, name: str, detail: str = "", cause: ProtocolError | None = None):
        super().__init__(f"{name}: {detail}" if detail else name)
        self.name = name
        self.cause = cause


def sort_ids(ids: Iterable) -> list[bytes]:
    """Ascending bytewise (Python compares bytes as unsigned, shorter prefix first)."""
    return sorted(i.encode() if isinstance(i, str) else bytes(i) for i in ids)


def build_context(kind: int, room: bytes, sender: bytes, message_id: bytes, recipients: list[bytes],
                  commitment: bytes) -> bytes:
    """CR-0002 §5.1; the receiver passes the list as received and it is sorted here."""
    rec = sort_ids(recipients)
    problems = []
    if kind not in (KIND_ROOM, KIND_PRIVATE):
        problems.append("kind")
    if not 1 <= len(room) <= 1023:
        problems.append("room length")
    if not 1 <= len(sender) <= 255:
        problems.append("sender length")
    if len(message_id) != 16 or len(commitment) != 32:
        problems.append("message id or commitment length")
    if not 1 <= len(rec) <= 1024:
        problems.append("recipient count")
    if any(not 1 <= len(r) <= 255 for r in rec):
        problems.append("recipient length")
    if len(set(rec)) != len(rec):
        problems.append("duplicate recipient")
    if sender in rec:
        problems.append("sender is a recipient")
    if kind == KIND_PRIVATE and len(rec) != 1:
        problems.append("private message without exactly one recipient")
    if problems:
        raise FanoutError("context-invalid", ", ".join(problems))
    out = bytes([0x02, kind]) + u16(len(room)) + room + bytes([len(sender)]) + sender + message_id + u16(len(rec))
    for r in rec:
        out += bytes([len(r)]) + r
    return out + commitment


def payload_keys(k: bytes) -> tuple[bytes, bytes, bytes]:
    m = hkdf(zeros(32), k, LABEL_FANOUT, 88)
    return m[:32], m[32:56], m[56:88]


def entry_digest(d0: bytes, payload: bytes) -> bytes:
    return sha256(LABEL_ENTRY + d0 + sha256(payload))


@dataclass
class Sealed:
    kind: int
    room: bytes
    sender: str
    message_id: bytes
    recipients: list[bytes]          # sorted
    commitment: bytes
    payload: bytes
    entries: dict                    # recipient id (str) -> entry bytes
    trace: dict


def seal(member: Member, kind: int, room: str | bytes, recipients: Iterable[str], plaintext: bytes) -> Sealed:
    """CR-0002 §5.3."""
    room_b = room.encode() if isinstance(room, str) else room
    k = member.rng.draw(32)
    message_id = member.rng.draw(16)
    aead_key, aead_nonce, commitment = payload_keys(k)
    rec = sort_ids(recipients)
    context = build_context(kind, room_b, member.id.encode(), message_id, rec, commitment)
    d0 = sha256(context)
    payload = aead_seal(aead_key, aead_nonce, d0, plaintext)
    d = entry_digest(d0, payload)
    entries, entry_traces = {}, []
    for r in rec:
        peer = r.decode()
        entries[peer] = member.encrypt(peer, k, context=d)
        entry_traces.append(dict(member.sessions[peer][0].trace, recipient=peer))
    trace = {"payloadKey": k, "messageID": message_id, "aeadKey": aead_key, "aeadNonce": aead_nonce,
             "commitment": commitment, "context": context, "contextDigest": d0, "payload": payload,
             "payloadDigest": sha256(payload), "entryDigest": d, "plaintext": plaintext, "kind": kind,
             "sender": member.id, "sortedRecipients": [r.decode() for r in rec], "keyEntries": entry_traces}
    return Sealed(kind, room_b, member.id, message_id, rec, commitment, payload, entries, trace)


@dataclass
class OpenedFanout:
    plaintext: bytes
    entry_digest: bytes
    recipients: list[str]
    payload_key: bytes               # K: every recipient learns it (CR-0002 §1)


def open_fanout(me: Member, kind: int, room: str | bytes, sender: str, message_id: bytes, recipients: Iterable,
                commitment: bytes, payload: bytes, entry: bytes) -> OpenedFanout:
    """CR-0002 §5.4, steps in order; no state changes unless every step succeeds."""
    room_b = room.encode() if isinstance(room, str) else room
    rec = [r.encode() if isinstance(r, str) else bytes(r) for r in recipients]
    context = build_context(kind, room_b, sender.encode(), message_id, rec, commitment)          # step 1
    if me.id.encode() not in rec:
        raise FanoutError("not-a-recipient")
    d0 = sha256(context)                                                                           # step 2
    d = entry_digest(d0, payload)
    try:                                                                                           # step 3
        opened = me.open(sender, entry, context=d)
    except ProtocolError as error:
        name = {DUPLICATE: "duplicate", NO_SESSION: "no-session"}.get(error.name, "entry-authentication-failed")
        raise FanoutError(name, str(error), error) from None
    k = opened.plaintext                                                                           # step 4
    aead_key, aead_nonce, expected = payload_keys(k) if len(k) == 32 else (None, None, None)
    if expected is None or not hmac.compare_digest(expected, commitment):
        raise FanoutError("commitment-mismatch")
    plaintext = aead_open(aead_key, aead_nonce, d0, payload)                                       # step 5
    if plaintext is None:
        raise FanoutError("payload-authentication-failed")
    opened.commit()                                                                                # step 6
    return OpenedFanout(plaintext, d, sorted(r.decode() for r in rec), k)


def open_sealed(me: Member, sealed: Sealed, **presented) -> OpenedFanout:
    """Opens `sealed` as `me` receives it, with any field replaced as `presented`."""
    values = dict(kind=sealed.kind, room=sealed.room, sender=sealed.sender, message_id=sealed.message_id,
                  recipients=sealed.recipients, commitment=sealed.commitment, payload=sealed.payload,
                  entry=sealed.entries.get(me.id, b""))
    values.update(presented)
    return open_fanout(me, **values)


# ---------------------------------------------------------------------------
# CR-0005 §3.1 room addresses
# ---------------------------------------------------------------------------

class RoomNameError(Exception):
    def __init__(self, name: str, character: str | None = None):
        super().__init__(name + (f" {character}" if character else ""))
        self.name = name
        self.character = character


_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def code_point(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def canonical_room_name(typed: str) -> str:
    """CR-0005 §3.1 'Canonicalising a name', rules in order, stopping at the first broken."""
    if typed == "":
        raise RoomNameError("empty")
    out = []
    for ch in typed:
        if ch not in _NAME_CHARS:
            raise RoomNameError("disallowed-character", code_point(ch))
        out.append(ch.lower() if "A" <= ch <= "Z" else ch)
    name = "".join(out)
    if not (name[0].isascii() and name[0].isalnum()):
        raise RoomNameError("bad-first-character", code_point(name[0]))
    if len(name) > 64:
        raise RoomNameError("too-long")
    return name


def canonical_domain(domain: str) -> str:
    """The server's domain as RFC 7622 §3.2 compares it: lowercase, no trailing dot.

    This outsider accepts ASCII host names only (LDH labels of 1 to 63 characters);
    anything else is `invalid-domain`. See the findings: CR-0005 does not say which
    domains an implementation must accept.
    """
    d = domain[:-1] if domain.endswith(".") else domain
    d = d.lower() if d.isascii() else d
    labels = d.split(".")
    if not d or len(d) > 1023 or not all(_LABEL.match(label) for label in labels):
        raise RoomNameError("invalid-domain")
    return d


def room_address(typed_name: str, domain: str) -> str:
    service = "rooms." + canonical_domain(domain)
    return canonical_room_name(typed_name) + "@" + service


# ---------------------------------------------------------------------------
# CR-0007 room safety code
# ---------------------------------------------------------------------------

class RosterInvalid(Exception):
    name = "roster-invalid"


def safety_roster(room: str | bytes, members: Iterable[tuple]) -> bytes:
    """CR-0007 §5.1 rules and §5.2 encoding. `members`: (account id, Ed25519 key) pairs."""
    room_b = room.encode() if isinstance(room, str) else bytes(room)
    entries = [(i.encode() if isinstance(i, str) else bytes(i), bytes(k)) for i, k in members]
    if not 1 <= len(entries) <= 65535:
        raise RosterInvalid("entry count")
    if any(not 1 <= len(i) <= 255 for i, _ in entries):
        raise RosterInvalid("id length")
    if len({i for i, _ in entries}) != len(entries) or len({k for _, k in entries}) != len(entries):
        raise RosterInvalid("id or key twice")
    if not 1 <= len(room_b) <= 1023:
        raise RosterInvalid("room length")
    if any(len(k) != 32 for _, k in entries):
        raise RosterInvalid("identity key length")
    out = LABEL_SAFETY + u16(len(room_b)) + room_b + u16(len(entries))
    for i, k in sorted(entries):
        out += bytes([len(i)]) + i + k
    return out


def render_safety_code(digest: bytes) -> str:
    return " ".join(f"{int.from_bytes(digest[4 * i:4 * i + 4], 'big') % 100000:05d}" for i in range(8))


def safety_code(room: str | bytes, members: Iterable[tuple]) -> str:
    return render_safety_code(sha256(safety_roster(room, members)))


def safety_short_form(code: str) -> str:
    return " ".join(code.split(" ")[:2]) + "…"


# ---------------------------------------------------------------------------
# CR-0008 invite secrets
# ---------------------------------------------------------------------------

class InviteError(Exception):
    pass


def invite_secret_text(secret: bytes) -> str:
    if len(secret) != 32:
        raise InviteError("an invite secret is 32 bytes")
    return base64.b32encode(secret).decode("ascii").rstrip("=").lower()


def parse_invite_secret(text: str) -> bytes:
    """52 base32 characters (RFC 4648 §6, no padding), case-insensitive on input."""
    if len(text) != 52 or not re.fullmatch(r"[A-Za-z2-7]{52}", text):
        raise InviteError("an invite secret is 52 base32 characters")
    raw = base64.b32decode(text.upper() + "====")
    # 52 characters carry 260 bits: the last 4 must be zero, or two texts would name one secret.
    if invite_secret_text(raw) != text.lower():
        raise InviteError("non-canonical base32 (trailing bits set)")
    return raw


def _room_field(room: str | bytes) -> bytes:
    room_b = room.encode() if isinstance(room, str) else bytes(room)
    if not 1 <= len(room_b) <= 1023:
        raise InviteError("the room is 1 to 1023 bytes")
    return u16(len(room_b)) + room_b


def invite_key_info(room: str | bytes) -> bytes:
    return LABEL_INVITE_KEY + _room_field(room)


def invite_key(secret: bytes, room: str | bytes) -> bytes:
    return hkdf(zeros(32), secret, invite_key_info(room), 32)


def invite_proof_message(room: str | bytes, ik_sender: bytes, ik_recipient: bytes) -> bytes:
    if len(ik_sender) != 32 or len(ik_recipient) != 32:
        raise InviteError("identity keys are 32 bytes")
    return LABEL_INVITE_PROOF + _room_field(room) + ik_sender + ik_recipient


def invite_proof(secret: bytes, room: str | bytes, ik_sender: bytes, ik_recipient: bytes) -> bytes:
    return hmac_sha256(invite_key(secret, room), invite_proof_message(room, ik_sender, ik_recipient))


def encode_invite_proof(proof: bytes) -> str:
    return base64.b64encode(proof).decode("ascii")


_STRICT_B64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")


def decode_strict_base64(text: str) -> bytes | None:
    """Standard alphabet, length a multiple of four, at most two '=', unused bits zero
    (RFC 4648 §3.5, CR-0004 §5.1 0.2); None otherwise."""
    if not isinstance(text, str) or not _STRICT_B64.match(text):
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return raw if base64.b64encode(raw).decode("ascii") == text else None


def check_hello_invite(payload: dict, secret: bytes, room: str | bytes, ik_sender_from_session: bytes,
                       ik_me: bytes) -> bool:
    """CR-0008 §5.4 steps 1 to 3: True if S is invited. (A non-string `invite` never
    gets here: decode_payload() makes such a payload unreadable.)"""
    value = payload.get("invite")
    if value is None:
        return False
    raw = decode_strict_base64(value)
    if raw is None or len(raw) != 32:
        return False
    return hmac.compare_digest(raw, invite_proof(secret, room, ik_sender_from_session, ik_me))


# ---------------------------------------------------------------------------
# CR-0006 §5.3 payloads
# ---------------------------------------------------------------------------

PAYLOAD_BLOCK = 64
MAX_ACKS = 64
MAX_DEPTH = 32  # objects and arrays, the payload object being level 1 (0.5)
KNOWN_TYPES = {"hello", "text", "action", "nick", "ack"}


class Unreadable(Exception):
    pass


def encode_payload(obj: dict) -> bytes:
    """UTF-8 JSON, sorted keys (at every level), no insignificant whitespace, padded
    with spaces to a multiple of 64 bytes (no padding when already a multiple)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return text + b" " * (-len(text) % PAYLOAD_BLOCK)


def decode_payload(data: bytes) -> dict:
    """CR-0006 §5.3: padding first, then JSON object with v = 1.

    Also unreadable (this outsider's reading, see the findings): a known key whose
    value has the wrong JSON type (`invite`, `nick`, `body`, `type` not strings,
    `acks` not an array).
    """
    if not data or len(data) % PAYLOAD_BLOCK:
        raise Unreadable("payload empty or not padded to a multiple of 64 bytes")

    def no_repeats(pairs):
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise Unreadable("a repeated name")
        return dict(pairs)

    try:
        # Numbers with a fraction or exponent as exact decimals: "integral" is judged on the
        # value written, not on a 64-bit float's rounding of it.
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=no_repeats, parse_float=decimal.Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Unreadable(f"not JSON: {error}") from None
    if not isinstance(obj, dict):
        raise Unreadable("not a JSON object")
    if _depth(obj) > MAX_DEPTH:
        raise Unreadable("nested too deep")
    _no_lone_surrogates(obj)
    # 0.3: an optional key set to null is absent.
    obj = {key: value for key, value in obj.items() if value is not None}

    def integral(value) -> bool:
        whole = type(value) is int or (type(value) is decimal.Decimal and value == value.to_integral_value())
        return whole and -2**63 <= value < 2**63

    if not integral(obj.get("v")) or obj["v"] != 1:
        raise Unreadable("v is not 1")
    if not integral(obj.get("ts")):
        raise Unreadable("ts is not a 64-bit integer")
    if not isinstance(obj.get("type"), str):
        raise Unreadable("type is missing or not a string")
    for key in ("nick", "body", "invite", "topic", "topicBy"):
        if key in obj and not isinstance(obj[key], str):
            raise Unreadable(f"{key} is not a string")
    if "topicTs" in obj and not integral(obj["topicTs"]):
        raise Unreadable("topicTs is not a 64-bit integer")
    if "acks" in obj:
        acks = obj["acks"]
        if not isinstance(acks, list) or not all(
                isinstance(a, dict) and all(isinstance(a.get(k), str) for k in ("sender", "id", "digest")) for a in acks):
            raise Unreadable("acks is not an array of objects with string sender, id and digest")
    obj["ts"] = int(obj["ts"])
    return obj


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _no_lone_surrogates(value) -> None:
    """Python's json accepts "\ud800"; CR-0006 §5.3 (0.3) makes it unreadable."""
    if isinstance(value, str):
        if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise Unreadable("an unpaired surrogate")
    elif isinstance(value, dict):
        for name, item in value.items():
            _no_lone_surrogates(name)
            _no_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _no_lone_surrogates(item)


def topic_as_shown(raw: str) -> str:
    """CR-0006 §5.11: §5.6's neutralising (C0 but LF and TAB, DEL, C1, bidi embeddings,
    overrides and isolates become U+FFFD), then LF and TAB become spaces, then 256 scalars."""
    def one(c: str) -> str:
        o = ord(c)
        if c in "\n\t":
            return " "
        if o < 0x20 or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            return "\ufffd"
        return c
    return "".join(one(c) for c in raw[:256])


def topic_reported(claims: list[dict]) -> dict | None:
    """CR-0006 §5.11: among hellos' (topic, topicBy, topicTs), the greatest topicTs, then the
    smaller topicBy, then the smaller topic (Python compares str by code points)."""
    complete = [c for c in claims if all(k in c for k in ("topic", "topicBy", "topicTs"))]
    if not complete:
        return None
    best = min(complete, key=lambda c: (-c["topicTs"], c["topicBy"], topic_as_shown(c["topic"])))
    return {"topic": topic_as_shown(best["topic"]), "topicBy": best["topicBy"], "topicTs": best["topicTs"]}


def hello_payload(nick: str, ts: int, invite: bytes | None = None) -> dict:
    obj = {"v": 1, "type": "hello", "nick": nick, "ts": ts}
    if invite is not None:
        obj["invite"] = encode_invite_proof(invite)
    return obj


# ---------------------------------------------------------------------------
# CR-0006 §5.8 acknowledgements and transcript consistency
# ---------------------------------------------------------------------------

REMEMBERED_MESSAGES = 4096
REMEMBERED_CLAIMS = 4096
ACK_ONLY_AFTER = 1.0
GAP_REPORT_AFTER = 5.0
_ACCOUNT_ID = re.compile(r"^[a-z2-7]{32}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Ack:
    sender: str
    message_id: bytes      # 16 bytes
    digest: bytes          # D, 32 bytes

    def to_json(self) -> dict:
        return {"sender": self.sender, "id": self.message_id.hex(), "digest": self.digest.hex()}


def parse_ack(entry) -> Ack | None:
    """One element of `acks`; None if malformed (an object whose `sender` is an account
    id of CR-0001 §5.1, `id` 32 lowercase hex digits, `digest` 64; other keys ignored)."""
    if not isinstance(entry, dict):
        return None
    sender, mid, digest = entry.get("sender"), entry.get("id"), entry.get("digest")
    if not (isinstance(sender, str) and isinstance(mid, str) and isinstance(digest, str)):
        return None
    if not (_ACCOUNT_ID.match(sender) and _HEX32.match(mid) and _HEX64.match(digest)):
        return None
    return Ack(sender, bytes.fromhex(mid), bytes.fromhex(digest))


@dataclass
class SplitView:
    sender: str
    witness: str
    message_id: bytes
    text: str | None

    def warning(self, name_of: Callable[[str], str] = lambda i: i) -> str:
        return (f'split view: {name_of(self.witness)} received {name_of(self.sender)}\'s "{self.text}" '
                f"in another version than you did")


@dataclass
class _Remembered:
    digest: bytes
    text: str | None
    recipients: frozenset | None = None       # for own messages
    acked_by: set = field(default_factory=set)


class Transcript:
    """CR-0006 §5.8 for one member: what to acknowledge, what was acknowledged, claims, split views."""

    def __init__(self, me: str, clock: Callable[[], float]):
        self.me = me
        self.clock = clock
        self.to_ack: list[Ack] = []
        self.first_added_at: float | None = None
        self.last_room_message_at: float | None = None
        self.remembered: OrderedDict = OrderedDict()       # (sender, id) -> _Remembered
        self.claims: OrderedDict = OrderedDict()            # (witness, sender, id) -> D
        self.split_views: list[SplitView] = []

    # -- remembering --------------------------------------------------------------
    def _remember(self, key: tuple, entry: _Remembered) -> None:
        self.remembered[key] = entry
        self.remembered.move_to_end(key)
        while len(self.remembered) > REMEMBERED_MESSAGES:
            self.remembered.popitem(last=False)

    def accepted(self, sender: str, message_id: bytes, digest: bytes, payload: dict | None, text: str | None) -> None:
        """A room message (kind 0x01) from another member opened (CR-0002 §5.4 step 6);
        `payload` is None when it was unreadable (remembered, not acknowledged)."""
        key = (sender, message_id)
        if key in self.remembered:
            return
        self._remember(key, _Remembered(digest, text))
        # Step 3, later half: claims made before the message arrived.
        for claim_key in [c for c in self.claims if c[1:] == key]:
            claimed = self.claims.pop(claim_key)
            if claimed != digest:
                self.split_views.append(SplitView(sender, claim_key[0], message_id, text))
        kind = payload.get("type") if payload else None
        if payload is not None and kind != "ack":
            if not self.to_ack:
                self.first_added_at = self.clock()
            self.to_ack.append(Ack(sender, message_id, digest))

    # -- sending --------------------------------------------------------------------
    def acks_for_next_room_message(self) -> list[Ack]:
        """The first 64 entries, dropped from the list; called for every room message sent."""
        out, self.to_ack = self.to_ack[:MAX_ACKS], self.to_ack[MAX_ACKS:]
        self.first_added_at = self.clock() if self.to_ack else None
        return out

    def sent(self, message_id: bytes, digest: bytes, recipients: Iterable[str], text: str | None) -> None:
        self.last_room_message_at = self.clock()
        self._remember((self.me, message_id), _Remembered(digest, text, frozenset(recipients)))

    def ack_only_due(self) -> bool:
        """An `ack` message is due when the list has waited 1 s with no room message sent since."""
        return bool(self.to_ack) and self.clock() - self.first_added_at >= ACK_ONLY_AFTER

    # -- comparing ------------------------------------------------------------------
    def compare(self, witness: str, acks) -> None:
        """The acknowledgements in a room message accepted from `witness`."""
        if not isinstance(acks, list):
            return
        for raw in acks[:MAX_ACKS]:
            ack = parse_ack(raw)
            if ack is None or ack.sender == witness:
                continue
            key = (ack.sender, ack.message_id)
            mine = self.remembered.get(key)
            if mine is None:
                # Step 3: remember the claim, one per witness and message (the first stands),
                # never about one's own messages.
                claim_key = (witness, ack.sender, ack.message_id)
                if ack.sender == self.me or claim_key in self.claims:
                    continue
                self.claims[claim_key] = ack.digest
                while len(self.claims) > REMEMBERED_CLAIMS:
                    self.claims.popitem(last=False)
            elif mine.digest != ack.digest:
                self.split_views.append(SplitView(ack.sender, witness, ack.message_id, mine.text))  # step 1
            elif ack.sender == self.me and mine.recipients is not None and witness in mine.recipients:
                mine.acked_by.add(witness)                                                            # step 2

    def delivery(self, message_id: bytes) -> str:
        """`✓ 2/3`: how many of the recipients of an own room message acknowledged it."""
        mine = self.remembered[(self.me, message_id)]
        return f"✓ {len(mine.acked_by)}/{len(mine.recipients)}"

    def acknowledged_by(self, message_id: bytes) -> set:
        return set(self.remembered[(self.me, message_id)].acked_by)


class GapTracker:
    """CR-0006 §5.8 'Gaps': skipped keys left by a peer's messages, reported after 5 s."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.waiting: dict = {}       # key -> (peer, time the key was left behind)
        self.reported: set = set()

    def message(self, peer: str, new_skipped: Iterable, filled) -> str | None:
        """Called after a message from `peer` was accepted; returns 'late' if it filled a reported gap."""
        now = self.clock()
        for key in new_skipped:
            self.waiting[key] = (peer, now)
        if filled is not None:
            self.waiting.pop(filled, None)
            if filled in self.reported:
                self.reported.discard(filled)
                return "late"
        return None

    def due_reports(self) -> list[tuple[str, int]]:
        """(peer, n) for keys unfilled for 5 s, each reported once."""
        now, counts = self.clock(), {}
        for key, (peer, since) in list(self.waiting.items()):
            if now - since >= GAP_REPORT_AFTER:
                del self.waiting[key]
                self.reported.add(key)
                counts[peer] = counts.get(peer, 0) + 1
        return sorted(counts.items())


# ---------------------------------------------------------------------------
# A minimal CR-0006 room client over the outsider's CR-0002 (no XMPP): enough to
# run hellos, room messages, acknowledgements, split views and gaps end to end.
# ---------------------------------------------------------------------------

class RoomClient:
    def __init__(self, nick: str, rng, room: str, clock: Callable[[], float]):
        self.nick = nick
        self.member = Member(nick, rng)
        self.room = room
        self.clock = clock
        self.transcript = Transcript(self.id, clock)
        self.gaps = GapTracker(clock)
        self.ready: dict[str, str] = {}          # account id -> display name
        self.hello_sent: set = set()
        self.shown: list[tuple] = []             # (sender, type, text, note)
        self.errors: list[tuple] = []            # (sender, error)

    @property
    def id(self) -> str:
        return self.member.id

    def _payload(self, kind: str, **fields) -> dict:
        obj = {"v": 1, "type": kind, "ts": int(self.clock() * 1000)}
        obj.update({k: v for k, v in fields.items() if v is not None})
        return obj

    # -- hellos (CR-0006 §5.1, §5.2) ------------------------------------------------
    def start_with(self, other: "RoomClient") -> Sealed:
        """This client joined after `other`: it starts the session and sends a hello."""
        self.member.initiate(other.id, other.member.bundle())
        return self.send_private(other.id, self._payload("hello", nick=self.nick))

    def send_private(self, peer: str, obj: dict) -> Sealed:
        if obj.get("type") == "hello":
            self.hello_sent.add(peer)
        return seal(self.member, KIND_PRIVATE, self.room, [peer], encode_payload(obj))

    # -- room messages (§5.5, §5.8 acknowledging) ------------------------------------
    def send_room(self, kind: str = "text", body: str | None = None, recipients: Iterable[str] | None = None,
                  payload: dict | None = None) -> Sealed:
        obj = payload if payload is not None else self._payload(kind, body=body)
        acks = self.transcript.acks_for_next_room_message()
        if acks:
            obj["acks"] = [a.to_json() for a in acks]
        rec = sorted(self.ready) if recipients is None else sorted(recipients)
        sealed = seal(self.member, KIND_ROOM, self.room, rec, encode_payload(obj))
        self.transcript.sent(sealed.message_id, sealed.trace["entryDigest"], rec, obj.get("body"))
        sealed.trace["payloadObject"] = obj
        return sealed

    def flush_acks(self) -> list[Sealed]:
        """The acknowledgement-only messages due now (1 s after the list's first entry)."""
        out = []
        if self.transcript.ack_only_due():
            while self.transcript.to_ack:
                out.append(self.send_room("ack"))
        return out

    # -- receiving (§5.6, §5.8 comparing, gaps) ---------------------------------------
    def _skipped(self, peer: str) -> set:
        return {key for s in self.member.sessions.get(peer, []) for key in s.skipped}

    def receive(self, sealed: Sealed, **presented) -> dict | None:
        sender = sealed.sender
        before = self._skipped(sender)
        try:
            opened = open_sealed(self.member, sealed, **presented)
        except FanoutError as error:
            self.errors.append((sender, error.name))
            return None
        after = self._skipped(sender)
        filled = next(iter(before - after), None)
        note = self.gaps.message(sender, after - before, filled)
        try:
            obj = decode_payload(opened.plaintext)
        except Unreadable:
            self.errors.append((sender, "unreadable"))
            obj = None
        kind = presented.get("kind", sealed.kind)
        if obj is not None and obj.get("type") == "hello":
            if kind != KIND_PRIVATE:
                # Rejected, yet accepted by CR-0002 and readable: acknowledged (CR-0006 §5.8, 0.3).
                self.errors.append((sender, "hello as a room message"))
                self.transcript.accepted(sender, sealed.message_id, opened.entry_digest, obj, None)
                self.transcript.compare(sender, obj.get("acks") or [])
                return None
            if "nick" in obj:
                self.ready[sender] = obj["nick"]
            return obj
        if kind == KIND_ROOM:
            self.transcript.accepted(sender, sealed.message_id, opened.entry_digest, obj,
                                     obj.get("body") if obj else None)
            if obj is not None and "acks" in obj:
                self.transcript.compare(sender, obj["acks"])
        if obj is not None and obj.get("type") != "ack":
            self.shown.append((sender, obj.get("type"), obj.get("body"), note))
        return obj

    def answer_hello(self, peer: str) -> Sealed | None:
        if peer in self.ready and peer not in self.hello_sent:
            return self.send_private(peer, self._payload("hello", nick=self.nick))
        return None

    def gap_reports(self) -> list[str]:
        return [f"{n} messages from {self.ready.get(peer, peer)} did not reach you" for peer, n in self.gaps.due_reports()]
