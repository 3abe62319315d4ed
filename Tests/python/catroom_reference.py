"""Independent reference implementation of catroom CR-0001 and CR-0002.

Written from xep/CR-0001-sessions.md and xep/CR-0002-fanout.md only, using
PyNaCl's libsodium bindings for the curve / signature / AEAD primitives and
the standard library for everything else (HKDF is implemented here from
RFC 5869; a small pure-Python model of Curve25519 / Ed25519 arithmetic is
used to cross-check the low-order and encoding rules of CR-0001 §4.2/§4.3).
Section numbers in comments refer to those documents.

Randomness is injected: every function that needs random bytes takes a
callable ``rng(n, purpose, peer) -> bytes`` (``purpose`` is one of the DRAW_*
constants, ``peer`` the account id the draw is made for, if any) so that the
tests can replay the scripted random inputs of the test vectors and check that
each draw is the one the script lists at that point.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import struct
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Optional

import nacl.bindings as sodium
import nacl.exceptions

RNG = Callable[[int, str, Optional[str]], bytes]

# What a random draw is for (the tests match these against the vectors' script).
DRAW_IDENTITY_SEED = "identity seed"               # §5.1
DRAW_SIGNED_PREKEY = "signed prekey private"       # §5.2 publishing
DRAW_ONE_TIME_PREKEY = "one-time prekey private"   # §5.2 publishing
DRAW_EPHEMERAL = "X3DH ephemeral private"          # §5.2 initiator step 3
DRAW_RATCHET = "ratchet private"                   # §5.4 GENERATE_DH
DRAW_PAYLOAD_KEY = "payload key"                   # CR-0002 §5.3 step 1
DRAW_MESSAGE_ID = "message id"                     # CR-0002 §5.3 step 1
DRAW_X25519 = "X25519 private"                     # any other X25519 key pair

# ---------------------------------------------------------------------------
# §7.1 labels, §7.2 limits (CR-0001) and CR-0002 §7.1
# ---------------------------------------------------------------------------
LABEL_X3DH = b"catroom-x3dh-v1"
LABEL_RATCHET = b"catroom-ratchet-v1"
LABEL_MESSAGE = b"catroom-message-v1"
LABEL_SPK = b"catroom-spk-v1"
LABEL_ID = b"catroom-id-v1"
LABEL_FANOUT = b"catroom-fanout-v2"
LABEL_ENTRY = b"catroom-entry-v2"

MAX_SKIP = 1000
MAX_STORED_SKIPPED = 2000
MAX_EARLIER_RATCHET_KEYS = 8
MAX_EARLIER_SESSIONS = 4

VERSION = 0x01
TYPE_RATCHET = 0x01
TYPE_INITIAL = 0x02

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493     # RFC 8032 group order
A_MONT = 486662                                        # RFC 7748 §4.1
D_ED = (-121665 * pow(121666, P - 2, P)) % P          # RFC 8032 §5.1


# ---------------------------------------------------------------------------
# Errors (§7.3).  The test vectors' `invalidInputs` distinguish three kinds of
# "invalid key"; they are subclasses here.
# ---------------------------------------------------------------------------
class CatroomError(Exception):
    pass


class InvalidKey(CatroomError):
    pass


class InvalidKeyEncoding(InvalidKey):
    """An X25519 public key that fails §4.3 (length, top bit, >= p)."""


class InvalidIdentityKey(InvalidKey):
    """An Ed25519 identity key that fails §4.3."""


class DHFailed(InvalidKey):
    """DH(a, B) produced 32 zero bytes (§4.2): B has low order."""


class InvalidSignature(CatroomError):
    pass


class UnsupportedVersion(CatroomError):
    pass


class Malformed(CatroomError):
    pass


class UnknownPrekey(CatroomError):
    pass


class NoSession(CatroomError):
    pass


class IdentityMismatch(CatroomError):
    pass


class TooFarInFuture(CatroomError):
    pass


class Duplicate(CatroomError):
    pass


class DecryptionFailed(CatroomError):
    pass


class FanoutError(CatroomError):
    """CR-0002 §5.5: ``error`` is the name the table gives the failed step."""

    def __init__(self, error: str, detail: str = ""):
        super().__init__(f"{error}: {detail}" if detail else error)
        self.error = error


# CR-0002 §5.5 error names, by the §5.4 step that reports them
CONTEXT_INVALID = "context-invalid"                            # step 1
NOT_A_RECIPIENT = "not-a-recipient"                            # step 1
NO_SESSION = "no-session"                                      # step 3
DUPLICATE = "duplicate"                                        # step 3
ENTRY_AUTHENTICATION_FAILED = "entry-authentication-failed"    # step 3
COMMITMENT_MISMATCH = "commitment-mismatch"                    # step 4
PAYLOAD_AUTHENTICATION_FAILED = "payload-authentication-failed"  # step 5
FANOUT_ERRORS = (CONTEXT_INVALID, NOT_A_RECIPIENT, NO_SESSION, DUPLICATE, ENTRY_AUTHENTICATION_FAILED,
                 COMMITMENT_MISMATCH, PAYLOAD_AUTHENTICATION_FAILED)


# ---------------------------------------------------------------------------
# §4.1 notation helpers
# ---------------------------------------------------------------------------
def zeros(n: int) -> bytes:
    return b"\x00" * n


def ones(n: int) -> bytes:
    return b"\xff" * n


def u8(v: int) -> bytes:
    return struct.pack(">B", v)


def u16(v: int) -> bytes:
    return struct.pack(">H", v)


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


# ---------------------------------------------------------------------------
# Pure-Python curve arithmetic (cross-checks only; the protocol uses libsodium)
# ---------------------------------------------------------------------------
def _inv(a: int) -> int:
    return pow(a % P, P - 2, P)


def x25519_rfc7748(k: bytes, u: bytes) -> bytes:
    """RFC 7748 §5 X25519, straight from the RFC's pseudocode."""
    kb = bytearray(k)
    kb[0] &= 248
    kb[31] &= 127
    kb[31] |= 64
    scalar = int.from_bytes(kb, "little")
    x1 = (int.from_bytes(u, "little") & ((1 << 255) - 1)) % P
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    a24 = 121665
    for t in reversed(range(255)):
        kt = (scalar >> t) & 1
        swap ^= kt
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = kt
        a = (x2 + z2) % P
        aa = a * a % P
        b = (x2 - z2) % P
        bb = b * b % P
        e = (aa - bb) % P
        c = (x3 + z3) % P
        d = (x3 - z3) % P
        da = d * a % P
        cb = c * b % P
        x3 = (da + cb) ** 2 % P
        z3 = x1 * (da - cb) ** 2 % P
        x2 = aa * bb % P
        z2 = e * (aa + a24 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def montgomery_small_order(u: bytes) -> Optional[int]:
    """Order of the point with this u-coordinate (on Curve25519 or its twist)
    if it divides 8, else None.  Repeated x-only doubling (RFC 7748 §4.1 curve)."""
    x, z = (int.from_bytes(u, "little") & ((1 << 255) - 1)) % P, 1
    for order in (1, 2, 4, 8):
        if z == 0:
            return order
        x, z = ((x * x - z * z) ** 2) % P, (4 * x * z * (x * x + A_MONT * x * z + z * z)) % P
    return None


def montgomery_on_curve(u: bytes) -> bool:
    """Whether u is the u-coordinate of a point of Curve25519 (else of its twist)."""
    x = int.from_bytes(u, "little") % P
    rhs = (x * x * x + A_MONT * x * x + x) % P
    return rhs == 0 or pow(rhs, (P - 1) // 2, P) == 1


def ed25519_decode(data: bytes) -> Optional[tuple[int, int]]:
    """RFC 8032 §5.1.3 point decoding; None for y >= p or a point not on the curve."""
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little") & ((1 << 255) - 1)
    sign = data[31] >> 7
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D_ED * y * y + 1) % P
    if x2 == 0:
        if sign:
            return None
        return 0, y
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * pow(2, (P - 1) // 4, P) % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x, y


def _ed_add(p1: tuple[int, int], p2: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = p1, p2
    t = D_ED * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + y1 * x2) * _inv(1 + t) % P, (y1 * y2 + x1 * x2) * _inv(1 - t) % P)


def ed25519_mul(k: int, pt: tuple[int, int]) -> tuple[int, int]:
    acc, addend = (0, 1), pt
    while k:
        if k & 1:
            acc = _ed_add(acc, addend)
        addend = _ed_add(addend, addend)
        k >>= 1
    return acc


def ed25519_small_order(pt: tuple[int, int]) -> Optional[int]:
    """Order of the point if it divides 8, else None."""
    q = pt
    for order in (1, 2, 4, 8):
        if q == (0, 1):
            return order
        q = _ed_add(q, q)
    return None


# ---------------------------------------------------------------------------
# §4.2 primitives
# ---------------------------------------------------------------------------
def x25519(k: bytes, u: bytes) -> bytes:
    """RFC 7748 §5 with the scalar clamped (libsodium clamps internally).

    libsodium refuses to return an all-zero output (and refuses some low-order
    inputs outright); when it refuses, the RFC 7748 function is evaluated here
    to find out what the output would have been."""
    try:
        return sodium.crypto_scalarmult(k, u)
    except nacl.exceptions.RuntimeError:
        return x25519_rfc7748(k, u)


def x25519_public(private: bytes) -> bytes:
    return sodium.crypto_scalarmult_base(private)


def dh(private: bytes, public: bytes) -> bytes:
    """DH(a, B) = X25519(a.private, B); fails on the all-zero output (§4.2)."""
    out = x25519(private, public)
    if hmac.compare_digest(out, zeros(32)):
        raise DHFailed("DH output is all zero (low-order point)")
    return out


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """RFC 5869 §2.2."""
    if not salt:
        salt = zeros(hashlib.sha256().digest_size)
    return hmac_sha256(salt, ikm)


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 §2.3."""
    if length > 255 * 32:
        raise ValueError("HKDF output too long")
    okm = b""
    t = b""
    counter = 1
    while len(okm) < length:
        t = hmac_sha256(prk, t + info + bytes([counter]))
        okm += t
        counter += 1
    return okm[:length]


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return hkdf_expand(hkdf_extract(salt, ikm), info, length)


def aead_seal(key: bytes, nonce: bytes, ad: bytes, plaintext: bytes) -> bytes:
    return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_open(key: bytes, nonce: bytes, ad: bytes, ciphertext: bytes) -> bytes:
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except nacl.exceptions.CryptoError as e:
        raise DecryptionFailed(str(e)) from None


def ed25519_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """RFC 8032 §5.1.5 from a 32-byte seed: (public, libsodium 64-byte secret)."""
    return sodium.crypto_sign_seed_keypair(seed)


def ed25519_sign(secret64: bytes, msg: bytes) -> bytes:
    return sodium.crypto_sign(msg, secret64)[:64]


def ed25519_verify(public: bytes, msg: bytes, sig: bytes) -> None:
    """§4.2 Ed25519-Verify: fails for an invalid key (§4.3), S >= L, a small-order R."""
    validate_identity_key(public)
    if len(sig) != 64:
        raise InvalidSignature("signature must be 64 bytes")
    if int.from_bytes(sig[32:], "little") >= L:
        raise InvalidSignature("S is not below L")
    r = ed25519_decode(sig[:32])
    if r is None or ed25519_small_order(r) is not None:
        raise InvalidSignature("R is not a valid point of large order")
    try:
        sodium.crypto_sign_open(sig + msg, public)
    except nacl.exceptions.BadSignatureError:
        raise InvalidSignature("bad signature") from None


def ed2x_public(ed_public: bytes) -> bytes:
    """Ed2X(IK.public): libsodium crypto_sign_ed25519_pk_to_curve25519."""
    return sodium.crypto_sign_ed25519_pk_to_curve25519(ed_public)


def ed2x_public_by_formula(ed_public: bytes) -> bytes:
    """Ed2X(IK.public) as RFC 7748 §4.1 states it: u = (1 + y) / (1 - y)."""
    y = int.from_bytes(ed_public, "little") & ((1 << 255) - 1)
    u = (1 + y) * _inv(1 - y) % P
    return u.to_bytes(32, "little")


def ed2x_private(secret64: bytes) -> bytes:
    """Ed2X(IK.private): libsodium crypto_sign_ed25519_sk_to_curve25519."""
    return sodium.crypto_sign_ed25519_sk_to_curve25519(secret64)


def ed2x_private_by_formula(seed: bytes) -> bytes:
    """Ed2X(IK.private) as §4.2 states it: SHA-512(seed)[0..<32], clamped per RFC 8032 §5.1.5."""
    hb = bytearray(hashlib.sha512(seed).digest()[:32])
    hb[0] &= 248
    hb[31] &= 127
    hb[31] |= 64
    return bytes(hb)


# ---------------------------------------------------------------------------
# §4.3 key validation
# ---------------------------------------------------------------------------
def validate_x25519_public(key: bytes) -> bytes:
    if len(key) != 32:
        raise InvalidKeyEncoding("X25519 key must be 32 bytes")
    if key[31] & 0x80:
        raise InvalidKeyEncoding("X25519 key has the top bit set")
    if int.from_bytes(key, "little") >= P:
        raise InvalidKeyEncoding("X25519 key is not below p")
    return key


def validate_identity_key(key: bytes) -> bytes:
    if len(key) != 32:
        raise InvalidIdentityKey("Ed25519 key must be 32 bytes")
    if (int.from_bytes(key, "little") & ((1 << 255) - 1)) >= P:
        raise InvalidIdentityKey("Ed25519 key encoding is not canonical")
    if not sodium.crypto_core_ed25519_is_valid_point(key):
        raise InvalidIdentityKey("Ed25519 key is not a valid prime-order point")
    return key


# ---------------------------------------------------------------------------
# §5.1 identity, account id, fingerprint
# ---------------------------------------------------------------------------
def account_id(ik_public: bytes) -> str:
    digest_ = hashlib.sha256(LABEL_ID + ik_public).digest()[:20]
    return base64.b32encode(digest_).decode("ascii").lower().rstrip("=")


def fingerprint(ik_public: bytes) -> str:
    hx = ik_public.hex()
    return " ".join(hx[i:i + 8] for i in range(0, 64, 8))


@dataclass
class Identity:
    seed: bytes
    public: bytes = b""
    secret64: bytes = b""

    def __post_init__(self) -> None:
        self.public, self.secret64 = ed25519_keypair(self.seed)

    @property
    def account_id(self) -> str:
        return account_id(self.public)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)

    @property
    def x25519_private(self) -> bytes:
        return ed2x_private(self.secret64)

    @property
    def x25519_public(self) -> bytes:
        return ed2x_public(self.public)


def generate_dh(rng: RNG, purpose: str = DRAW_X25519, peer: Optional[str] = None) -> tuple[bytes, bytes]:
    """GENERATE_DH() (§5.4): 32 random bytes as an X25519 private scalar."""
    private = rng(32, purpose, peer)
    return private, x25519_public(private)


# ---------------------------------------------------------------------------
# §5.2 prekeys and X3DH
# ---------------------------------------------------------------------------
def spk_signature(identity: Identity, spk_public: bytes) -> bytes:
    return ed25519_sign(identity.secret64, LABEL_SPK + spk_public)


def verify_spk_signature(ik_public: bytes, spk_public: bytes, signature: bytes) -> None:
    ed25519_verify(ik_public, LABEL_SPK + spk_public, signature)


@dataclass
class SignedPreKey:
    key_id: int
    private: bytes
    public: bytes
    signature: bytes


@dataclass
class OneTimePreKey:
    key_id: int
    private: bytes
    public: bytes


def make_signed_prekey(identity: Identity, key_id: int, private: bytes) -> SignedPreKey:
    pub = x25519_public(private)
    return SignedPreKey(key_id, private, pub, spk_signature(identity, pub))


def make_one_time_prekey(key_id: int, private: bytes) -> OneTimePreKey:
    return OneTimePreKey(key_id, private, x25519_public(private))


@dataclass
class Bundle:
    identity_public: bytes
    spk_id: int
    spk_public: bytes
    spk_signature: bytes
    opk_id: Optional[int] = None
    opk_public: Optional[bytes] = None


@dataclass
class X3DHResult:
    sk: bytes
    ad: bytes
    dh1: bytes
    dh2: bytes
    dh3: bytes
    dh4: Optional[bytes]
    ikm: bytes
    base_key: bytes            # EK_A.public
    spk_id: int
    opk_id: Optional[int]


def x3dh_kdf(dh1: bytes, dh2: bytes, dh3: bytes, dh4: Optional[bytes]) -> tuple[bytes, bytes]:
    ikm = ones(32) + dh1 + dh2 + dh3 + (dh4 if dh4 is not None else b"")
    return ikm, hkdf(zeros(32), ikm, LABEL_X3DH, 32)


def x3dh_initiate(ik_a: Identity, bundle: Bundle, id_b: str, rng: RNG) -> tuple[X3DHResult, bytes, bytes]:
    """Initiator side (§5.2 steps 1-7).

    Returns the result, SPK_B (the initial DHr) and EK_A.private; the caller
    uses the private key only to report it (test vectors) and then drops it."""
    validate_identity_key(bundle.identity_public)                      # step 1
    validate_x25519_public(bundle.spk_public)
    if bundle.opk_public is not None:
        validate_x25519_public(bundle.opk_public)
    if account_id(bundle.identity_public) != id_b:
        raise IdentityMismatch(id_b)
    verify_spk_signature(bundle.identity_public, bundle.spk_public, bundle.spk_signature)  # step 2
    ek_private, ek_public = generate_dh(rng, DRAW_EPHEMERAL, id_b)     # step 3
    dh1 = dh(ik_a.x25519_private, bundle.spk_public)                   # step 4
    dh2 = dh(ek_private, ed2x_public(bundle.identity_public))
    dh3 = dh(ek_private, bundle.spk_public)
    dh4 = dh(ek_private, bundle.opk_public) if bundle.opk_public is not None else None
    ikm, sk = x3dh_kdf(dh1, dh2, dh3, dh4)                             # step 5
    ad = ik_a.public + bundle.identity_public                          # step 6
    result = X3DHResult(sk, ad, dh1, dh2, dh3, dh4, ikm, ek_public, bundle.spk_id, bundle.opk_id)
    return result, bundle.spk_public, ek_private


def x3dh_respond(ik_b: Identity, spk: SignedPreKey, opk: Optional[OneTimePreKey],
                 ik_a_public: bytes, ek_a_public: bytes) -> X3DHResult:
    """Responder side (§5.2 responder step 4)."""
    dh1 = dh(spk.private, ed2x_public(ik_a_public))
    dh2 = dh(ik_b.x25519_private, ek_a_public)
    dh3 = dh(spk.private, ek_a_public)
    dh4 = dh(opk.private, ek_a_public) if opk is not None else None
    ikm, sk = x3dh_kdf(dh1, dh2, dh3, dh4)
    ad = ik_a_public + ik_b.public
    return X3DHResult(sk, ad, dh1, dh2, dh3, dh4, ikm, ek_a_public, spk.key_id,
                      opk.key_id if opk else None)


def x3dh_trace(r: X3DHResult) -> dict:
    """The X3DH values under the names of CR-0001 Appendix A."""
    out = {"adX3DH": r.ad, "dh1": r.dh1, "dh2": r.dh2, "dh3": r.dh3,
           "kdfInputKeyMaterial": r.ikm, "sharedSecret": r.sk}
    if r.dh4 is not None:
        out["dh4"] = r.dh4
    return out


# ---------------------------------------------------------------------------
# §5.4 Double Ratchet functions
# ---------------------------------------------------------------------------
def kdf_rk(rk: bytes, dh_out: bytes) -> tuple[bytes, bytes]:
    out = hkdf(rk, dh_out, LABEL_RATCHET, 64)
    return out[:32], out[32:]


def kdf_ck(ck: bytes) -> tuple[bytes, bytes]:
    """Returns (next chain key, message key)."""
    return hmac_sha256(ck, b"\x02"), hmac_sha256(ck, b"\x01")


def message_aead_keys(mk: bytes) -> tuple[bytes, bytes]:
    k = hkdf(zeros(32), mk, LABEL_MESSAGE, 56)
    return k[:32], k[32:56]


def encrypt(mk: bytes, plaintext: bytes, ad: bytes) -> bytes:
    key, nonce = message_aead_keys(mk)
    return aead_seal(key, nonce, ad, plaintext)


def decrypt(mk: bytes, ciphertext: bytes, ad: bytes) -> bytes:
    key, nonce = message_aead_keys(mk)
    return aead_open(key, nonce, ad, ciphertext)


# ---------------------------------------------------------------------------
# §5.5 message encoding
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PrekeyFields:
    ik_a: bytes
    ek_a: bytes
    spk_id: int
    opk_id: Optional[int]

    def encode(self) -> bytes:
        out = self.ik_a + self.ek_a + u32(self.spk_id)
        if self.opk_id is None:
            return out + u8(0)
        return out + u8(1) + u32(self.opk_id)


def encode_header_bytes(prekey: Optional[PrekeyFields], dh_pub: bytes, pn: int, n: int) -> bytes:
    msg_type = TYPE_INITIAL if prekey is not None else TYPE_RATCHET
    out = u8(VERSION) + u8(msg_type)
    if prekey is not None:
        out += prekey.encode()
    return out + dh_pub + u32(pn) + u32(n)


@dataclass
class ParsedMessage:
    msg_type: int
    prekey: Optional[PrekeyFields]
    dh: bytes
    pn: int
    n: int
    header_bytes: bytes
    ciphertext: bytes


def parse_message(data: bytes) -> ParsedMessage:
    """§5.5, with every rejection it lists made before any cryptography."""
    if len(data) < 2:
        raise Malformed("too short")
    if data[0] != VERSION:
        raise UnsupportedVersion(data[0])
    msg_type = data[1]
    pos = 2
    prekey = None
    if msg_type == TYPE_INITIAL:
        if len(data) < pos + 69:
            raise Malformed("truncated prekey fields")
        ik_a = validate_identity_key(data[pos:pos + 32])
        ek_a = validate_x25519_public(data[pos + 32:pos + 64])
        (spk_id,) = struct.unpack(">I", data[pos + 64:pos + 68])
        has_opk = data[pos + 68]
        pos += 69
        opk_id = None
        if has_opk == 1:
            if len(data) < pos + 4:
                raise Malformed("truncated opk id")
            (opk_id,) = struct.unpack(">I", data[pos:pos + 4])
            pos += 4
        elif has_opk != 0:
            raise Malformed("has_opk must be 0 or 1")
        prekey = PrekeyFields(ik_a, ek_a, spk_id, opk_id)
    elif msg_type != TYPE_RATCHET:
        raise Malformed("unknown type")
    if len(data) < pos + 40:
        raise Malformed("truncated header")
    dh_pub = validate_x25519_public(data[pos:pos + 32])
    pn, n = struct.unpack(">II", data[pos + 32:pos + 40])
    pos += 40
    ciphertext = data[pos:]
    if len(ciphertext) < 16:
        raise Malformed("ciphertext shorter than a tag")
    return ParsedMessage(msg_type, prekey, dh_pub, pn, n, data[:pos], ciphertext)


# ---------------------------------------------------------------------------
# §5.3 / §5.4 session state and RatchetEncrypt / RatchetDecrypt
# ---------------------------------------------------------------------------
@dataclass
class SessionState:
    ad: bytes                           # AD_x3dh
    peer_identity: bytes
    peer_id: str
    base_key: bytes
    rk: bytes
    dhs_private: Optional[bytes]
    dhs_public: Optional[bytes]
    dhr: Optional[bytes]
    cks: Optional[bytes] = None
    ckr: Optional[bytes] = None
    ns: int = 0
    nr: int = 0
    pn: int = 0
    pending_prekey: Optional[PrekeyFields] = None
    earlier_dhr: list = field(default_factory=list)          # oldest first
    skipped: "OrderedDict[tuple[bytes, int], bytes]" = field(default_factory=OrderedDict)


class Session:
    def __init__(self, state: SessionState):
        self.state = state

    # §5.3
    @classmethod
    def initiator(cls, x3dh: X3DHResult, ik_a: Identity, peer_identity: bytes, peer_id: str,
                  spk_b: bytes) -> "Session":
        return cls(SessionState(
            ad=x3dh.ad, peer_identity=peer_identity, peer_id=peer_id, base_key=x3dh.base_key,
            rk=x3dh.sk, dhs_private=None, dhs_public=None, dhr=spk_b,
            pending_prekey=PrekeyFields(ik_a.public, x3dh.base_key, x3dh.spk_id, x3dh.opk_id)))

    @classmethod
    def responder(cls, x3dh: X3DHResult, spk: SignedPreKey, peer_identity: bytes, peer_id: str) -> "Session":
        return cls(SessionState(
            ad=x3dh.ad, peer_identity=peer_identity, peer_id=peer_id, base_key=x3dh.base_key,
            rk=x3dh.sk, dhs_private=spk.private, dhs_public=spk.public, dhr=None))

    # RatchetEncrypt
    def encrypt(self, plaintext: bytes, context: bytes, rng: RNG) -> tuple[bytes, dict]:
        s = self.state
        trace: dict = {}
        if s.cks is None:
            # the deferred sending half of a DH step
            priv, pub = generate_dh(rng, DRAW_RATCHET, s.peer_id)
            dh_out = dh(priv, s.dhr)
            rk_before = s.rk
            s.rk, s.cks = kdf_rk(s.rk, dh_out)
            s.dhs_private, s.dhs_public = priv, pub
            trace["dhStep"] = {
                "ratchetPrivate": priv, "ratchetPublic": pub, "remoteRatchetPublic": s.dhr,
                "dhOutput": dh_out, "rootKeyBefore": rk_before, "rootKeyAfter": s.rk,
                "chainKey": s.cks,
            }
        ck = s.cks
        s.cks, mk = kdf_ck(ck)
        header_bytes = encode_header_bytes(s.pending_prekey, s.dhs_public, s.pn, s.ns)
        s.ns += 1
        ad = s.ad + header_bytes + context
        ciphertext = encrypt(mk, plaintext, ad)
        key, nonce = message_aead_keys(mk)
        encoded = header_bytes + ciphertext
        trace.update({
            "plaintext": plaintext, "chainKey": ck, "messageKey": mk, "nextChainKey": s.cks,
            "aeadKey": key, "aeadNonce": nonce, "headerBytes": header_bytes,
            "messageAD": ad, "encoded": encoded,
        })
        return encoded, trace

    @staticmethod
    def _skip(s: SessionState, until: int) -> None:
        if s.ckr is None:
            return
        while s.nr < until:
            s.ckr, mk = kdf_ck(s.ckr)
            s.skipped[(s.dhr, s.nr)] = mk
            while len(s.skipped) > MAX_STORED_SKIPPED:
                s.skipped.popitem(last=False)
            s.nr += 1

    # RatchetDecrypt
    def decrypt(self, msg: ParsedMessage, context: bytes) -> tuple[bytes, dict]:
        s = copy.deepcopy(self.state)          # work on a copy
        ad = s.ad + msg.header_bytes + context
        trace: dict = {}
        key = (msg.dh, msg.n)
        if key in s.skipped:                                   # step 1
            mk = s.skipped.pop(key)
            plaintext = decrypt(mk, msg.ciphertext, ad)
        else:
            if msg.dh != s.dhr:                                # step 2
                if msg.dh in s.earlier_dhr:                    # 2.1
                    raise Duplicate("old ratchet key")
                rest = msg.pn - s.nr if s.ckr is not None else 0
                if max(rest, 0) + msg.n > MAX_SKIP:            # 2.2
                    raise TooFarInFuture()
                self._skip(s, msg.pn)                          # 2.3
                if s.dhs_private is None:                      # 2.4
                    raise DecryptionFailed("new ratchet key while the sending half is due")
                if s.dhr is not None:
                    s.earlier_dhr.append(s.dhr)
                    del s.earlier_dhr[:-MAX_EARLIER_RATCHET_KEYS]
                s.pn, s.ns, s.nr = s.ns, 0, 0
                s.dhr = msg.dh
                dh_out = dh(s.dhs_private, s.dhr)
                rk_before = s.rk
                s.rk, s.ckr = kdf_rk(s.rk, dh_out)
                s.dhs_private = s.dhs_public = None
                s.cks = None
                trace["dhStep"] = {
                    "remoteRatchetPublic": s.dhr, "dhOutput": dh_out,
                    "rootKeyBefore": rk_before, "rootKeyAfter": s.rk, "chainKey": s.ckr,
                }
            else:                                              # step 3
                if s.ckr is None:
                    raise DecryptionFailed("no receiving chain")
                if msg.n < s.nr:
                    raise Duplicate("old message number")
                if msg.n - s.nr > MAX_SKIP:
                    raise TooFarInFuture()
            self._skip(s, msg.n)                               # step 4
            s.ckr, mk = kdf_ck(s.ckr)
            s.nr += 1
            plaintext = decrypt(mk, msg.ciphertext, ad)
        s.pending_prekey = None                                # step 5
        self.state = s                                         # commit
        trace["plaintext"] = plaintext
        trace["skippedKeysInSession"] = len(s.skipped)
        return plaintext, trace


# ---------------------------------------------------------------------------
# A member: identity, prekeys, sessions per peer (§5.2 responder, §5.6)
# ---------------------------------------------------------------------------
class Member:
    def __init__(self, identity: Identity, spk: SignedPreKey, opks: list[OneTimePreKey], rng: RNG):
        self.identity = identity
        self.spks = {spk.key_id: spk}
        self.opks = {o.key_id: o for o in opks}
        self.rng = rng
        self.sessions: dict[str, list[Session]] = {}      # current first, then earlier, newest first
        self.used_base_keys: "OrderedDict[bytes, None]" = OrderedDict()

    @classmethod
    def generate(cls, rng: RNG, spk_id: int, opk_ids: list[int]) -> "Member":
        """§5.1 identity from a 32-byte seed, then the signed prekey and the
        one-time prekeys (§5.2 publishing), each from 32 random bytes."""
        identity = Identity(rng(32, DRAW_IDENTITY_SEED, None))
        spk = make_signed_prekey(identity, spk_id, rng(32, DRAW_SIGNED_PREKEY, None))
        opks = [make_one_time_prekey(i, rng(32, DRAW_ONE_TIME_PREKEY, None)) for i in opk_ids]
        return cls(identity, spk, opks, rng)

    @property
    def account_id(self) -> str:
        return self.identity.account_id

    def bundle(self) -> Bundle:
        """A bundle as the server hands it out: IK, the signed prekey and at most
        one one-time prekey (the lowest unused id, if any is left)."""
        spk = next(iter(self.spks.values()))
        opk = self.opks[min(self.opks)] if self.opks else None
        return Bundle(self.identity.public, spk.key_id, spk.public, spk.signature,
                      opk.key_id if opk else None, opk.public if opk else None)

    def _install(self, peer: str, session: Session) -> None:
        lst = [x for x in self.sessions.get(peer, []) if x is not session]
        self.sessions[peer] = [session] + lst[:MAX_EARLIER_SESSIONS]

    def initiate(self, peer_id: str, bundle: Bundle) -> tuple[Session, X3DHResult, dict]:
        result, spk_b, ek_private = x3dh_initiate(self.identity, bundle, peer_id, self.rng)
        session = Session.initiator(result, self.identity, bundle.identity_public, peer_id, spk_b)
        self._install(peer_id, session)
        trace = x3dh_trace(result)
        trace.update({"aliceEphemeralPrivate": ek_private, "aliceEphemeralPublic": result.base_key,
                      "signedPreKeyId": result.spk_id})
        if result.opk_id is not None:
            trace["oneTimePreKeyId"] = result.opk_id
        return session, result, trace

    def send(self, peer_id: str, plaintext: bytes, context: bytes = b"") -> tuple[bytes, dict]:
        return self.sessions[peer_id][0].encrypt(plaintext, context, self.rng)

    def receive(self, peer_id: str, data: bytes, context: bytes = b"") -> tuple[bytes, dict]:
        msg = parse_message(data)
        sessions = self.sessions.get(peer_id, [])
        if msg.msg_type == TYPE_INITIAL:
            pk = msg.prekey
            if account_id(pk.ik_a) != peer_id:
                raise IdentityMismatch(peer_id)
            for session in sessions:
                if session.state.base_key == pk.ek_a:
                    plaintext, trace = session.decrypt(msg, context)
                    self._install(peer_id, session)
                    return plaintext, trace
            if pk.ek_a in self.used_base_keys:
                raise Duplicate("replayed initial message")
            spk = self.spks.get(pk.spk_id)
            if spk is None:
                raise UnknownPrekey(pk.spk_id)
            opk = None
            if pk.opk_id is not None:
                opk = self.opks.get(pk.opk_id)
                if opk is None:
                    raise UnknownPrekey(pk.opk_id)
            result = x3dh_respond(self.identity, spk, opk, pk.ik_a, pk.ek_a)
            session = Session.responder(result, spk, pk.ik_a, peer_id)
            plaintext, trace = session.decrypt(msg, context)      # raises before any commit
            if opk is not None:
                del self.opks[opk.key_id]
            self.used_base_keys[pk.ek_a] = None
            while len(self.used_base_keys) > 10_000:
                self.used_base_keys.popitem(last=False)
            self._install(peer_id, session)
            trace["x3dh"] = result
            return plaintext, trace
        if not sessions:
            raise NoSession(peer_id)
        errors: list[CatroomError] = []
        for session in sessions:
            try:
                plaintext, trace = session.decrypt(msg, context)
            except CatroomError as e:
                errors.append(e)
                continue
            self._install(peer_id, session)
            return plaintext, trace
        # §5.6: duplicate if any session found one, else too far in the future
        for kind in (Duplicate, TooFarInFuture):
            for e in errors:
                if isinstance(e, kind):
                    raise e
        raise errors[-1]


# ---------------------------------------------------------------------------
# CR-0002 room fan-out
# ---------------------------------------------------------------------------
KIND_ROOM = 0x01
KIND_PRIVATE = 0x02
FANOUT_VERSION = 0x02


def payload_keys(k: bytes) -> tuple[bytes, bytes, bytes]:
    """CR-0002 §5.2: (aead_key, aead_nonce, commitment)."""
    m = hkdf(zeros(32), k, LABEL_FANOUT, 88)
    return m[:32], m[32:56], m[56:88]


def sort_recipients(ids: list[str]) -> list[str]:
    return sorted(ids, key=lambda s: s.encode("utf-8"))


def build_context(kind: int, room: str, sender: str, message_id: bytes,
                  recipients: list[str], commitment: bytes) -> bytes:
    """CR-0002 §5.1, with the rules checked (`context-invalid`); the list is sorted here."""
    rcpts = sort_recipients(recipients)
    room_b = room.encode("utf-8")
    sender_b = sender.encode("utf-8")
    ids_b = [r.encode("utf-8") for r in rcpts]

    def invalid(detail: str) -> FanoutError:
        return FanoutError(CONTEXT_INVALID, detail)

    if kind not in (KIND_ROOM, KIND_PRIVATE):
        raise invalid("kind")
    if not 1 <= len(room_b) <= 1023:
        raise invalid("room length")
    if not 1 <= len(sender_b) <= 255:
        raise invalid("sender length")
    if len(message_id) != 16 or len(commitment) != 32:
        raise invalid("message id / commitment length")
    if not 1 <= len(ids_b) <= 1024:
        raise invalid("recipient count")
    if len(set(ids_b)) != len(ids_b):
        raise invalid("duplicate recipient")
    if any(not 1 <= len(i) <= 255 for i in ids_b):
        raise invalid("id length")
    if sender_b in ids_b:
        raise invalid("sender is a recipient")
    if kind == KIND_PRIVATE and len(ids_b) != 1:
        raise invalid("private message needs exactly one recipient")
    out = u8(FANOUT_VERSION) + u8(kind) + u16(len(room_b)) + room_b + u8(len(sender_b)) + sender_b
    out += message_id + u16(len(ids_b))
    for i in ids_b:
        out += u8(len(i)) + i
    return out + commitment


def context_digest(context: bytes) -> bytes:
    """D0 (CR-0002 §5.1): the payload's associated data."""
    return hashlib.sha256(context).digest()


def payload_digest(payload: bytes) -> bytes:
    """SHA-256(payload), over the exact bytes carried (CR-0002 §5.1)."""
    return hashlib.sha256(payload).digest()


def entry_digest(d0: bytes, payload: bytes) -> bytes:
    """D (CR-0002 §5.1): every key entry's context."""
    return hashlib.sha256(LABEL_ENTRY + d0 + payload_digest(payload)).digest()


@dataclass
class SealedMessage:
    kind: int
    room: str
    sender: str
    message_id: bytes
    recipients: list
    commitment: bytes
    payload: bytes
    entries: dict            # recipient id -> encoded CR-0001 message
    # intermediate values, for the tests
    payload_key: bytes = b""
    aead_key: bytes = b""
    aead_nonce: bytes = b""
    context: bytes = b""
    context_digest: bytes = b""
    entry_digest: bytes = b""
    entry_traces: dict = field(default_factory=dict)


def seal(sender: Member, kind: int, room: str, recipients: list[str], plaintext: bytes) -> SealedMessage:
    """CR-0002 §5.3."""
    k = sender.rng(32, DRAW_PAYLOAD_KEY, None)                      # step 1
    message_id = sender.rng(16, DRAW_MESSAGE_ID, None)
    aead_key, aead_nonce, commitment = payload_keys(k)
    rcpts = sort_recipients(recipients)                             # step 2
    context = build_context(kind, room, sender.account_id, message_id, rcpts, commitment)
    d0 = context_digest(context)
    payload = aead_seal(aead_key, aead_nonce, d0, plaintext)        # step 3
    d = entry_digest(d0, payload)                                   # step 4
    entries, traces = {}, {}
    for r in rcpts:                                                 # step 5, sorted order
        entries[r], traces[r] = sender.send(r, k, context=d)
    return SealedMessage(kind, room, sender.account_id, message_id, rcpts, commitment, payload,
                         entries, k, aead_key, aead_nonce, context, d0, d, traces)


@dataclass
class OpenedMessage:
    plaintext: bytes
    entry_digest: bytes      # D: names exactly what was accepted (§5.4 step 6)
    context_digest: bytes    # D0
    payload_key: bytes       # K: every recipient learns it (§1)


def open_message(me: Member, sender_id: str, kind: int, room: str, message_id: bytes,
                 recipients: list[str], commitment: bytes, payload: bytes, entry: bytes) -> OpenedMessage:
    """CR-0002 §5.4: each failure raises FanoutError with its §5.5 name and changes nothing."""
    context = build_context(kind, room, sender_id, message_id, recipients, commitment)   # step 1
    if me.account_id not in recipients:
        raise FanoutError(NOT_A_RECIPIENT)
    d0 = context_digest(context)                                                         # step 2
    d = entry_digest(d0, payload)
    saved = copy.deepcopy((me.sessions, me.opks, me.used_base_keys))
    try:
        try:
            k, _ = me.receive(sender_id, entry, context=d)                               # step 3
        except NoSession as e:
            raise FanoutError(NO_SESSION, str(e)) from e
        except Duplicate as e:
            raise FanoutError(DUPLICATE, str(e)) from e
        except CatroomError as e:
            raise FanoutError(ENTRY_AUTHENTICATION_FAILED, type(e).__name__) from e
        if len(k) != 32:                                                                 # step 4
            raise FanoutError(COMMITMENT_MISMATCH, "entry does not carry 32 bytes")
        aead_key, aead_nonce, derived_commitment = payload_keys(k)
        if not hmac.compare_digest(derived_commitment, commitment):
            raise FanoutError(COMMITMENT_MISMATCH)
        try:
            plaintext = aead_open(aead_key, aead_nonce, d0, payload)                    # step 5
        except DecryptionFailed as e:
            raise FanoutError(PAYLOAD_AUTHENTICATION_FAILED) from e
    except Exception:
        # step 6: the session, the one-time prekey and the base key are kept only on success
        me.sessions, me.opks, me.used_base_keys = saved
        raise
    return OpenedMessage(plaintext, d, d0, k)
