"""Interop: a real slixmpp drives a real ``catroom serve`` over loopback.

Rung 3 of the testing ladder (DESIGN §6). Nothing is mocked: the server is the
binary named by ``CATROOM_BIN`` (default ``<repo>/.build/debug/catroom``), started
with a fresh data directory and its generated self-signed certificate; the clients
are unmodified ``slixmpp.ClientXMPP`` instances with the stock plugins for
XEP-0030 (disco), XEP-0045 (MUC), XEP-0077 (in-band registration) and XEP-0199
(ping). Certificate *verification* is off on the client side (the certificate is
self-signed), but every client checks that its stream really runs over TLS and
that the peer certificate is the one whose fingerprint the server printed.

The tests run in file order and read as one transcript:

1. alice, bob and carol register (XEP-0077) and log in: alice and bob with
   STARTTLS (alice with SCRAM-SHA-256, bob with PLAIN), carol with direct TLS
   (XEP-0368); everyone pings the server and reads its disco.
2. They join ``lobby@rooms.<domain>``; a nick other than one's own account name
   is refused with ``not-acceptable``.
3. Room messages carry the ``urn:catroom:e2e:0`` element; each occupant receives
   only its own ``<key/>``; a plaintext groupchat message is refused.
4. A private message to an occupant JID is delivered when encrypted and refused
   when not.
5. Everyone leaves; the last one out destroys the room.
   Two XEP-0045 points found on the way (anonymity, the 201 flow) are checked too.
6. SIGTERM: every connected client gets ``<system-shutdown/>`` and the server
   exits 0.

Each step also brings up whatever earlier state it needs, so a single test can be
run alone with ``-k``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import signal
import ssl
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable

import pytest

from catroom_processes import Server, free_port
import slixmpp
from slixmpp.exceptions import IqError, PresenceError
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

DOMAIN = "catroom.test"
ROOMS = f"rooms.{DOMAIN}"
LOBBY = f"lobby@{ROOMS}"
E2E = "urn:catroom:e2e:0"
MUC_USER = "http://jabber.org/protocol/muc#user"

WAIT = 5.0        # the longest any single expected event may take
QUIET = 0.4       # how long "nothing else arrives" is watched for
STARTUP = 10.0    # a debug build generating its certificate


# ---------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------
class CatroomServer(Server):
    """The shared ``catroom serve`` on DOMAIN, with STARTTLS and direct TLS ports, and its checks."""

    def __init__(self, data_dir: Path):
        try:
            super().__init__(data_dir, "--domain", DOMAIN, "--allow-plain-registration", "--threads", "2",
                             direct_tls_port=free_port(), trace=False, startup=STARTUP)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)
        assert self.serving.strip() == (
            f"catroom serving {DOMAIN} on port {self.port} (STARTTLS) and {self.direct_tls_port} (TLS); rooms on {ROOMS}"
        ), f"unexpected start-up line: {self.serving!r}"

    def terminate(self, timeout: float = 8.0) -> int:
        """SIGTERM and wait; the exit status, or fail if it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"catroom serve ignored SIGTERM for {timeout} s\n{self.diagnostics()}", pytrace=False)


# ---------------------------------------------------------------------------
# One slixmpp client, with an inbox of every message and presence it receives
# ---------------------------------------------------------------------------
class Participant:
    def __init__(self, name: str, server: CatroomServer, loop: asyncio.AbstractEventLoop, *,
                 mechanism: str | None = None, direct_tls: bool = False):
        self.name = name
        self.server = server
        self.loop = loop
        self.direct_tls = direct_tls
        self.password = f"{name}-interop-password-0123"   # catroom wants 16 to 1024 bytes
        self.occupant_jid = f"{LOBBY}/{name}"
        self.in_lobby = False

        self.registration_form = None
        self.registration_result = None
        self.registration_error: Exception | None = None
        self.mechanism_used: str | None = None
        self.stream_errors: list[str] = []
        self.inbox: list = []
        self._arrived = asyncio.Event()
        self.session_started = loop.create_future()
        self.disconnected = loop.create_future()

        xmpp = slixmpp.ClientXMPP(f"{name}@{DOMAIN}/interop", self.password, sasl_mech=mechanism)
        xmpp.loop = loop
        for plugin in ("xep_0030", "xep_0045", "xep_0077", "xep_0199"):
            xmpp.register_plugin(plugin)
        # Self-signed certificate: no chain or name check (the fingerprint is compared instead).
        xmpp.ssl_context.check_hostname = False
        xmpp.ssl_context.verify_mode = ssl.CERT_NONE
        xmpp.enable_plaintext = False
        xmpp.enable_starttls = not direct_tls
        xmpp.enable_direct_tls = direct_tls
        xmpp.add_event_handler("register", self._register)
        xmpp.add_event_handler("auth_success", self._authenticated)
        xmpp.add_event_handler("failed_auth", lambda _: self._settle(self.session_started, AssertionError(f"{name}: SASL failed")))
        xmpp.add_event_handler("session_start", lambda _: self._settle(self.session_started, True))
        xmpp.add_event_handler("stream_error", lambda error: self.stream_errors.append(error["condition"]))
        xmpp.add_event_handler("disconnected", lambda _: self._settle(self.disconnected, True))
        xmpp.register_handler(Callback(f"{name} message tap", MatchXPath("{jabber:client}message"), self._received))
        xmpp.register_handler(Callback(f"{name} presence tap", MatchXPath("{jabber:client}presence"), self._received))
        self.xmpp = xmpp

    def __repr__(self) -> str:
        return self.name

    # -- connection ---------------------------------------------------------
    @staticmethod
    def _settle(future: asyncio.Future, outcome) -> None:
        if not future.done():
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def _register(self, form) -> None:
        """XEP-0077 §3.1: fill in the username and password the server's form asks for."""
        self.registration_form = form
        iq = self.xmpp.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = self.name
        iq["register"]["password"] = self.password
        try:
            self.registration_result = await iq.send(timeout=WAIT)
        except Exception as error:  # IqError or IqTimeout: reported by connect()
            self.registration_error = error
            self._settle(self.session_started, AssertionError(f"{self.name}: registration failed: {error!r}"))
            self.xmpp.disconnect()

    def _authenticated(self, _) -> None:
        self.mechanism_used = self.xmpp.plugin["feature_mechanisms"].mech.name

    async def connect(self) -> None:
        port = self.server.direct_tls_port if self.direct_tls else self.server.port
        self.xmpp.connect(host="127.0.0.1", port=port)
        try:
            await asyncio.wait_for(asyncio.shield(self.session_started), WAIT)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: no session within {WAIT} s\n{self.server.diagnostics()}") from None

    @property
    def tls(self) -> ssl.SSLObject | None:
        transport = self.xmpp.transport
        return transport.get_extra_info("ssl_object") if transport is not None else None

    # -- inbox --------------------------------------------------------------
    def _received(self, stanza) -> None:
        self.inbox.append(stanza)
        self._arrived.set()

    async def expect(self, what: str, predicate: Callable, timeout: float = WAIT):
        """Takes the first stanza in the inbox that matches, waiting up to `timeout`."""
        deadline = self.loop.time() + timeout
        while True:
            for index, stanza in enumerate(self.inbox):
                if predicate(stanza):
                    return self.inbox.pop(index)
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"{self.name} did not receive {what} within {timeout} s; inbox holds:\n"
                    + "\n".join(str(stanza) for stanza in self.inbox))
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def forget_inbox(self) -> None:
        self.inbox.clear()


# ---------------------------------------------------------------------------
# Stanza helpers
# ---------------------------------------------------------------------------
def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def encrypted_element(keys: dict[str, bytes], payload: bytes) -> ET.Element:
    """``<encrypted xmlns='urn:catroom:e2e:0' id commitment><recipient/>…<key/>…<payload/></encrypted>``
    (Sources/CatroomProtocol/EncryptedElement.swift). The bytes are random: this is a transport
    test, not a crypto one."""
    element = ET.Element(f"{{{E2E}}}encrypted", {"id": b64(os.urandom(16)), "commitment": b64(os.urandom(32))})
    for recipient in keys:
        ET.SubElement(element, f"{{{E2E}}}recipient", {"id": recipient})
    for recipient, key in keys.items():
        ET.SubElement(element, f"{{{E2E}}}key", {"recipient": recipient}).text = b64(key)
    ET.SubElement(element, f"{{{E2E}}}payload").text = b64(payload)
    return element


def fields(element: ET.Element | None) -> dict | None:
    """The fields of an encrypted element, decoded; None for no element."""
    if element is None:
        return None
    payload = element.find(f"{{{E2E}}}payload")
    return {
        "id": element.get("id"),
        "commitment": element.get("commitment"),
        "recipients": [r.get("id") for r in element.findall(f"{{{E2E}}}recipient")],
        "keys": {k.get("recipient"): base64.b64decode(k.text or "") for k in element.findall(f"{{{E2E}}}key")},
        "payload": base64.b64decode(payload.text or "") if payload is not None else None,
    }


def read_encrypted(stanza) -> dict | None:
    """The fields of a received stanza's encrypted element, or None if it has none."""
    return fields(stanza.xml.find(f"{{{E2E}}}encrypted"))


def send_message(sender: Participant, to: str, mtype: str, *, encrypted: ET.Element | None = None,
                 body: str | None = None) -> str:
    message = sender.xmpp.make_message(mto=to, mtype=mtype, mbody=body)
    message["id"] = mid = sender.xmpp.new_id()
    if encrypted is not None:
        message.xml.append(encrypted)
    message.send()
    return mid


def is_message(*, sender: str, mtype: str, encrypted: bool = True) -> Callable:
    return lambda s: (s.name == "message" and s["type"] == mtype and s["from"].full == sender
                      and (read_encrypted(s) is not None) == encrypted)


def is_error_reply(mid: str) -> Callable:
    return lambda s: s["type"] == "error" and s["id"] == mid


def is_presence(*, occupant: str, unavailable: bool = False) -> Callable:
    return lambda s: (s.name == "presence" and s["from"].full == occupant
                      and (s["type"] == "unavailable") == unavailable)


def status_codes(presence) -> set[int]:
    return {int(status.get("code")) for status in presence.xml.iter(f"{{{MUC_USER}}}status")}


def others(occupants, me: Participant) -> list[str]:
    """The occupant JIDs in a join result, less one's own (slixmpp lists the self-presence too)."""
    return [p["from"].full for p in occupants if p["from"].full != me.occupant_jid]


def describe(stanza) -> str:
    return str(stanza).replace("\n", "")


# ---------------------------------------------------------------------------
# Fixtures: one server, one event loop, three people for the whole module
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture(scope="module")
def run(loop):
    def run(coroutine, timeout: float = 4 * WAIT):
        return loop.run_until_complete(asyncio.wait_for(coroutine, timeout))
    return run


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = CatroomServer(tmp_path_factory.mktemp("catroom"))
    yield server
    if server.process.poll() is None:
        server.terminate()
    server.stop()


@pytest.fixture(scope="module")
def people(server, loop, run):
    people = {
        "alice": Participant("alice", server, loop),                        # STARTTLS, SCRAM-SHA-256
        "bob": Participant("bob", server, loop, mechanism="PLAIN"),         # STARTTLS, PLAIN over TLS
        "carol": Participant("carol", server, loop, direct_tls=True),       # direct TLS (XEP-0368)
    }
    yield people
    for person in people.values():
        if person.xmpp.transport is not None:
            person.xmpp.abort()
    run(asyncio.sleep(0.05))


def online(people, run, *names) -> list[Participant]:
    chosen = [people[name] for name in names]
    run(asyncio.gather(*(p.connect() for p in chosen if not p.session_started.done())))
    for person in chosen:
        person.session_started.result()   # re-raises a failed login from an earlier step
    return chosen


def in_lobby(people, run, *names) -> list[Participant]:
    chosen = online(people, run, *names)
    for person in chosen:
        if not person.in_lobby:
            run(person.xmpp.plugin["xep_0045"].join_muc_wait(LOBBY, person.name, timeout=WAIT))
            person.in_lobby = True
    run(asyncio.sleep(0.2))
    for person in chosen:
        person.forget_inbox()
    return chosen


# ---------------------------------------------------------------------------
# 1. Registration, STARTTLS / direct TLS, SASL, bind, ping, disco
# ---------------------------------------------------------------------------
def test_register_login_ping_and_disco(people, server, run):
    alice, bob, carol = online(people, run, "alice", "bob", "carol")

    for person in (alice, bob, carol):
        # XEP-0077 §3.1: the form offered username and password, and the set was answered with a result.
        assert person.registration_error is None, f"{person}: registration refused: {person.registration_error!r}"
        assert {"username", "password"} <= set(person.registration_form["register"]["fields"]), (
            f"{person}: registration form lacks username/password: {describe(person.registration_form)}")
        assert person.registration_result is not None and person.registration_result["type"] == "result"

        # TLS really carries the stream, with the certificate the server printed.
        assert person.tls is not None, f"{person}: the stream is not over TLS"
        assert person.tls.version() in ("TLSv1.2", "TLSv1.3"), f"{person}: {person.tls.version()}"
        seen = hashlib.sha256(person.tls.getpeercert(binary_form=True)).hexdigest().upper()
        assert ":".join(seen[i:i + 2] for i in range(0, len(seen), 2)) == server.fingerprint, (
            f"{person}: the peer certificate is not the one catroom serve announced")

        # RFC 6120 §7: the requested resource was bound.
        assert person.xmpp.boundjid.full == f"{person.name}@{DOMAIN}/interop"

    assert "starttls" in alice.xmpp.features and "starttls" in bob.xmpp.features, "STARTTLS was not negotiated"
    assert "starttls" not in carol.xmpp.features, "carol should have used direct TLS, not STARTTLS"
    assert alice.mechanism_used == "SCRAM-SHA-256", f"alice authenticated with {alice.mechanism_used}"
    assert bob.mechanism_used == "PLAIN", f"bob authenticated with {bob.mechanism_used}"
    assert carol.mechanism_used == "SCRAM-SHA-256", f"carol authenticated with {carol.mechanism_used}"

    # XEP-0199: alice pings the server.
    pong = run(alice.xmpp.plugin["xep_0199"].send_ping(DOMAIN, timeout=WAIT))
    assert pong["type"] == "result" and pong["from"].full == DOMAIN, f"ping answered with {describe(pong)}"

    # XEP-0030: the server's features and items.
    info = run(alice.xmpp.plugin["xep_0030"].get_info(jid=DOMAIN, timeout=WAIT))
    features = set(info["disco_info"]["features"])
    for feature in ("urn:xmpp:ping", "http://jabber.org/protocol/disco#info",
                    "urn:catroom:bundles:0", "urn:catroom:e2e:0"):
        assert feature in features, f"server disco#info lacks {feature}: {sorted(features)}"
    identities = {(category, kind) for category, kind, *_ in info["disco_info"]["identities"]}
    assert ("server", "im") in identities, f"server identity: {identities}"

    items = run(bob.xmpp.plugin["xep_0030"].get_items(jid=DOMAIN, timeout=WAIT))
    item_jids = {str(jid) for jid, *_ in items["disco_items"]["items"]}
    assert ROOMS in item_jids, f"server disco#items does not list {ROOMS}: {item_jids}"

    # The room service answers disco#info as a conference service (XEP-0045 §6.2).
    service = run(carol.xmpp.plugin["xep_0030"].get_info(jid=ROOMS, timeout=WAIT))
    assert ("conference", "text") in {(c, t) for c, t, *_ in service["disco_info"]["identities"]}
    assert "http://jabber.org/protocol/muc" in service["disco_info"]["features"]


# ---------------------------------------------------------------------------
# 2. Joining the lobby (XEP-0045 §7.2); the nick is the account name
# ---------------------------------------------------------------------------
def test_join_lobby_with_account_name_as_nick(people, run):
    alice, bob, carol = online(people, run, "alice", "bob", "carol")
    muc = {p.name: p.xmpp.plugin["xep_0045"] for p in (alice, bob, carol)}

    # No room before the first join.
    with pytest.raises(IqError) as missing:
        run(alice.xmpp.plugin["xep_0030"].get_info(jid=LOBBY, timeout=WAIT))
    assert missing.value.condition == "item-not-found"

    # alice asks for a nick that is not her account name: refused, and no room is made.
    with pytest.raises(PresenceError) as refused:
        run(muc["alice"].join_muc_wait(LOBBY, "mallory", timeout=WAIT))
    assert refused.value.condition == "not-acceptable", describe(refused.value.presence)
    assert refused.value.presence["from"].full == f"{LOBBY}/mallory"
    with pytest.raises(IqError):
        run(alice.xmpp.plugin["xep_0030"].get_info(jid=LOBBY, timeout=WAIT))

    # alice joins as alice: she creates the room (110 self-presence, 201 new room).
    self_presence, subject, occupants, _ = run(muc["alice"].join_muc_wait(LOBBY, "alice", timeout=WAIT))
    alice.in_lobby = True
    assert self_presence["from"].full == alice.occupant_jid
    assert {110, 201} <= status_codes(self_presence), describe(self_presence)
    assert others(occupants, alice) == [], f"alice saw occupants in a new room: {occupants}"

    # carol tries to take alice's nick: refused the same way (not a mere conflict).
    with pytest.raises(PresenceError) as impostor:
        run(muc["carol"].join_muc_wait(LOBBY, "alice", timeout=WAIT))
    assert impostor.value.condition == "not-acceptable", describe(impostor.value.presence)

    # bob joins: he sees alice, then himself (110, no 201); alice sees bob arrive.
    self_presence, _, occupants, _ = run(muc["bob"].join_muc_wait(LOBBY, "bob", timeout=WAIT))
    bob.in_lobby = True
    assert status_codes(self_presence) == {110}, describe(self_presence)
    assert others(occupants, bob) == [alice.occupant_jid]
    arrival = run(alice.expect("bob's join presence", is_presence(occupant=bob.occupant_jid)))
    assert 110 not in status_codes(arrival)

    # carol joins over direct TLS: she sees alice and bob; both see her.
    self_presence, _, occupants, _ = run(muc["carol"].join_muc_wait(LOBBY, "carol", timeout=WAIT))
    carol.in_lobby = True
    assert 110 in status_codes(self_presence)
    assert sorted(others(occupants, carol)) == [alice.occupant_jid, bob.occupant_jid]
    for person in (alice, bob):
        run(person.expect("carol's join presence", is_presence(occupant=carol.occupant_jid)))

    for person in (alice, bob, carol):
        assert sorted(muc[person.name].get_roster(LOBBY)) == ["alice", "bob", "carol"]

    # The room now exists and says it takes encrypted messages.
    info = run(bob.xmpp.plugin["xep_0030"].get_info(jid=LOBBY, timeout=WAIT))
    assert {"http://jabber.org/protocol/muc", E2E} <= set(info["disco_info"]["features"])

    # Occupant presence items carry role participant (XEP-0045 §7.2.2).
    assert arrival.xml.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}item").get("role") == "participant"

    # Once in, bob cannot change his nick either (XEP-0045 §7.6, nicks locked down): not-acceptable.
    change = bob.xmpp.make_presence(pto=f"{LOBBY}/robert")
    change["id"] = change_id = bob.xmpp.new_id()
    change.send()
    refusal = run(bob.expect("an error for his nick change", is_error_reply(change_id)))
    assert refusal.name == "presence" and refusal["error"]["condition"] == "not-acceptable", describe(refusal)
    run(asyncio.sleep(QUIET))
    for person in (alice, carol):
        assert not [s for s in person.inbox if "robert" in s["from"].full], "others saw a refused nick change"
    assert sorted(muc["alice"].get_roster(LOBBY)) == ["alice", "bob", "carol"]


# ---------------------------------------------------------------------------
# 3. Room messages: one stanza, each occupant gets only its own key entry
# ---------------------------------------------------------------------------
def test_groupchat_carries_only_the_recipients_key(people, run):
    alice, bob, carol = in_lobby(people, run, "alice", "bob", "carol")

    keys = {"bob": os.urandom(40), "carol": os.urandom(40)}
    element = encrypted_element(keys, os.urandom(64))
    sent = fields(element)
    mid = send_message(alice, LOBBY, "groupchat", encrypted=element)

    for reader in (bob, carol):
        received = run(reader.expect("alice's room message", is_message(sender=alice.occupant_jid, mtype="groupchat")))
        got = read_encrypted(received)
        assert got["keys"] == {reader.name: keys[reader.name]}, (
            f"{reader} should get exactly its own key entry, got {sorted(got['keys'])}")
        assert got["recipients"] == ["bob", "carol"], "the recipient list must reach everyone intact"
        assert (got["id"], got["commitment"], got["payload"]) == (sent["id"], sent["commitment"], sent["payload"])
        assert received["to"].full == reader.xmpp.boundjid.full

    echo = run(alice.expect("the echo of her room message", is_message(sender=alice.occupant_jid, mtype="groupchat")))
    assert echo["id"] == mid, "XEP-0045 §7.4: the reflected message keeps the sender's id"
    got = read_encrypted(echo)
    assert got["keys"] == {}, f"the sender's echo carries nobody's key, got {sorted(got['keys'])}"
    assert got["recipients"] == ["bob", "carol"] and got["payload"] == sent["payload"]

    # A plaintext room message is refused (DESIGN §5: encrypted-only rooms) and reaches nobody.
    plain = send_message(bob, LOBBY, "groupchat", body="hello in the clear")
    error = run(bob.expect("an error for his plaintext room message", is_error_reply(plain)))
    assert error["error"]["condition"] == "not-acceptable", describe(error)
    assert error["from"].full == LOBBY
    run(asyncio.sleep(QUIET))
    for person in (alice, carol):
        assert not [s for s in person.inbox if s.name == "message"], (
            f"{person} received something after the refused message: {[describe(s) for s in person.inbox]}")
    assert not [s for s in bob.inbox if s.name == "message"], "bob got an echo of a refused message"


# ---------------------------------------------------------------------------
# 4. Private messages between occupants (XEP-0045 §7.5)
# ---------------------------------------------------------------------------
def test_private_message_between_occupants(people, run):
    alice, bob, carol = in_lobby(people, run, "alice", "bob", "carol")

    element = encrypted_element({"alice": os.urandom(48)}, os.urandom(32))
    sent = fields(element)
    mid = send_message(bob, alice.occupant_jid, "chat", encrypted=element)

    received = run(alice.expect("bob's private message", is_message(sender=bob.occupant_jid, mtype="chat")))
    assert received["id"] == mid
    assert received["to"].full == alice.xmpp.boundjid.full
    assert read_encrypted(received) == sent, "a private message is relayed untouched"

    plain = send_message(bob, alice.occupant_jid, "chat", body="psst, in the clear")
    error = run(bob.expect("an error for his plaintext private message", is_error_reply(plain)))
    assert error["error"]["condition"] == "not-acceptable", describe(error)
    assert error["from"].full == alice.occupant_jid

    # XEP-0045 §7.5: to an occupant who is not there, item-not-found; of type groupchat, bad-request.
    nobody = send_message(bob, f"{LOBBY}/mallory", "chat", encrypted=encrypted_element({"mallory": b"k"}, b"p"))
    error = run(bob.expect("an error for a message to nobody", is_error_reply(nobody)))
    assert error["error"]["condition"] == "item-not-found", describe(error)
    wrong_type = send_message(bob, alice.occupant_jid, "groupchat", encrypted=encrypted_element({"alice": b"k"}, b"p"))
    error = run(bob.expect("an error for a groupchat-typed private message", is_error_reply(wrong_type)))
    assert error["error"]["condition"] == "bad-request", describe(error)

    run(asyncio.sleep(QUIET))
    assert not [s for s in alice.inbox if s.name == "message"], [describe(s) for s in alice.inbox]
    assert not [s for s in carol.inbox if s.name == "message"], "carol saw a private message meant for alice"


# ---------------------------------------------------------------------------
# 5. Leaving (XEP-0045 §7.14); the room goes with its last occupant
# ---------------------------------------------------------------------------
def test_leaving_and_the_room_vanishes(people, run):
    alice, bob, carol = in_lobby(people, run, "alice", "bob", "carol")

    carol.xmpp.plugin["xep_0045"].leave_muc(LOBBY, "carol")
    carol.in_lobby = False
    goodbye = run(carol.expect("her own unavailable presence", is_presence(occupant=carol.occupant_jid, unavailable=True)))
    assert 110 in status_codes(goodbye), describe(goodbye)
    for person in (alice, bob):
        seen = run(person.expect("carol leaving", is_presence(occupant=carol.occupant_jid, unavailable=True)))
        assert 110 not in status_codes(seen)
        assert sorted(person.xmpp.plugin["xep_0045"].get_roster(LOBBY)) == ["alice", "bob"]

    bob.xmpp.plugin["xep_0045"].leave_muc(LOBBY, "bob")
    bob.in_lobby = False
    run(bob.expect("his own unavailable presence", is_presence(occupant=bob.occupant_jid, unavailable=True)))
    run(alice.expect("bob leaving", is_presence(occupant=bob.occupant_jid, unavailable=True)))

    # Still there while alice is in it.
    run(carol.xmpp.plugin["xep_0030"].get_info(jid=LOBBY, timeout=WAIT))

    alice.xmpp.plugin["xep_0045"].leave_muc(LOBBY, "alice")
    alice.in_lobby = False
    run(alice.expect("her own unavailable presence", is_presence(occupant=alice.occupant_jid, unavailable=True)))

    with pytest.raises(IqError) as gone:
        run(carol.xmpp.plugin["xep_0030"].get_info(jid=LOBBY, timeout=WAIT))
    assert gone.value.condition == "item-not-found", describe(gone.value.iq)

    # Out of the room, messages to it are refused.
    element = encrypted_element({"alice": os.urandom(16)}, os.urandom(16))
    mid = send_message(bob, LOBBY, "groupchat", encrypted=element)
    error = run(bob.expect("an error for a message to a room he left", is_error_reply(mid)))
    assert error["error"]["condition"] == "not-acceptable", describe(error)


# ---------------------------------------------------------------------------
# XEP-0045 points this interop run found wrong at first (now fixed): what the room's
# disco says about anonymity matches its presences, and the 201 flow completes
# ---------------------------------------------------------------------------
def test_room_anonymity_matches_what_its_disco_says(people, run):
    alice, bob = online(people, run, "alice", "bob")
    room = f"anonymity@{ROOMS}"
    try:
        run(alice.xmpp.plugin["xep_0045"].join_muc_wait(room, "alice", timeout=WAIT))
        self_presence, _, occupants, _ = run(bob.xmpp.plugin["xep_0045"].join_muc_wait(room, "bob", timeout=WAIT))
        features = set(run(bob.xmpp.plugin["xep_0030"].get_info(jid=room, timeout=WAIT))["disco_info"]["features"])
        if "muc_nonanonymous" in features:
            seen_alice = next(p for p in occupants if p["from"].full == f"{room}/alice")
            item = seen_alice.xml.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}item")
            assert item.get("jid") == alice.xmpp.boundjid.full, (
                f"muc_nonanonymous, but bob is not shown alice's full JID: {describe(seen_alice)}")
            assert 100 in status_codes(self_presence), f"muc_nonanonymous, but no status 100: {describe(self_presence)}"
        else:
            assert "muc_semianonymous" in features, f"the room states no anonymity level: {sorted(features)}"
    finally:
        for person in (alice, bob):
            person.xmpp.send_presence(pto=f"{room}/{person.name}", ptype="unavailable")
        run(asyncio.sleep(0.2))
        alice.forget_inbox()
        bob.forget_inbox()


def test_creator_can_accept_the_default_configuration(people, run):
    (alice,) = online(people, run, "alice")
    room = f"instant@{ROOMS}"
    muc = alice.xmpp.plugin["xep_0045"]
    try:
        self_presence, *_ = run(muc.join_muc_wait(room, "alice", timeout=WAIT))
        assert 201 in status_codes(self_presence), describe(self_presence)
        instant = alice.xmpp.plugin["xep_0004"].make_form(ftype="submit")
        try:
            run(muc.set_room_config(room, instant, timeout=WAIT))
            refusal = None
        except IqError as error:
            refusal = error.iq
        assert refusal is None, f"instant-room request refused: {describe(refusal)}"
    finally:
        alice.xmpp.send_presence(pto=f"{room}/alice", ptype="unavailable")
        run(asyncio.sleep(0.2))
        alice.forget_inbox()


# ---------------------------------------------------------------------------
# 6. Graceful shutdown (RFC 6120 §4.9.3.22)
# ---------------------------------------------------------------------------
def test_sigterm_ends_every_stream_with_system_shutdown(people, server, run):
    alice, bob, carol = online(people, run, "alice", "bob", "carol")
    # alice stays in the lobby through the shutdown.
    in_lobby(people, run, "alice")

    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    run(asyncio.gather(*(asyncio.wait_for(asyncio.shield(p.disconnected), WAIT) for p in (alice, bob, carol))))
    for person in (alice, bob, carol):
        assert person.stream_errors == ["system-shutdown"], (
            f"{person} saw stream errors {person.stream_errors}, expected system-shutdown")

    status = server.terminate()
    assert status == 0, f"catroom serve exited {status} after SIGTERM\n{server.diagnostics()}"
    assert time.monotonic() - started < WAIT, "shutdown took longer than its deadline"
    assert "stopped" in server.diagnostics(), "no 'stopped' line in the server log"
