"""`--json` mode as a bot sees it (docs/json-mode.md): the `hello` event first, own side
chats name their recipient, own `/nick` is a `nick-changed`, an `error` names the command
it answers, and `/part` and `/quit` say so in the final `disconnected`."""

from __future__ import annotations

import pytest

from catroom_processes import Client, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = Server(tmp_path_factory.mktemp("json-mode"), trace=False)
    yield server
    server.stop()


@pytest.fixture
def pair(server):
    alice, bob = Client(server, "alice"), None
    try:
        alice.ready()
        bob = Client(server, "bob")
        bob.ready()
        alice.wait_for("bob", lambda e: e["event"] == "member-joined" and e["member"]["nick"] == "bob")
        yield alice, bob
    finally:
        for client in (alice, bob):
            if client is not None:
                client.quit()


def test_the_first_event_is_hello_with_the_schema_version(pair):
    alice, _ = pair
    assert alice.events[0]["event"] == "hello" and alice.events[0]["schema"] == 1, alice.events[0]
    assert alice.events[0]["version"]
    assert alice.events[1]["event"] == "connected"


def test_own_private_message_carries_its_recipient(pair):
    alice, bob = pair
    alice.send("/msg bob psst")
    own = alice.wait_for("the own side chat", lambda e: e["event"] == "message" and e["own"] and e["text"] == "psst")
    assert own["private"] and own["to"]["nick"] == "bob" and own["to"]["id"] == bob.events[1]["me"]["id"], own
    alice.send("to everyone")
    room = alice.wait_for("the own room message", lambda e: e["event"] == "message" and e["own"] and e["text"] == "to everyone")
    assert room["to"] is None


def test_own_nick_change_is_a_nick_changed_event(pair):
    alice, bob = pair
    alice.send("/nick alicia")
    own = alice.wait_for("the own nick change", lambda e: e["event"] == "nick-changed")
    assert own["from"] == "alice" and own["member"]["nick"] == "alicia" and own["own"] is True, own
    seen = bob.wait_for("alice's nick change", lambda e: e["event"] == "nick-changed")
    assert seen["own"] is False and seen["member"]["nick"] == "alicia"


@pytest.mark.parametrize("line, command", [("/msg nobody hi", "msg"), ("/query nobody", "query"), ("/verify", "verify"),
                                           ("/frobnicate", "frobnicate"), ("/join bad room", "join")])
def test_an_error_names_the_command_it_answers(pair, line, command):
    alice, _ = pair
    alice.send(line)
    error = alice.wait_for(f"the error for {line}", lambda e: e["event"] == "error" and e.get("command") == command)
    assert error["text"], error


def test_part_and_quit_say_what_happened(server):
    client = Client(server, "carol")
    client.ready()
    client.send("/part")
    parted = client.wait_for("the end of the room", lambda e: e["event"] == "disconnected")
    assert parted["reason"] == "left lobby@rooms.localhost", parted
    client.send("/join lobby")
    first = client.wait_for("the first join", lambda e: e["event"] == "joined")
    client.wait_for("the second join", lambda e: e["event"] == "joined" and e is not first)
    assert client.quit() == 0
    assert client.drain(0.5)[-1] == {"event": "disconnected", "reason": "quit"}, client.events[-3:]


@pytest.fixture
def own_pair(tmp_path):
    """alice and bob on a server of their own: the module's has used up this address's
    registrations per minute by then."""
    server = Server(tmp_path, trace=False)
    alice = bob = None
    try:
        alice = Client(server, "alice")
        alice.ready()
        bob = Client(server, "bob")
        bob.ready()
        alice.wait_for("bob", lambda e: e["event"] == "member-joined" and e["member"]["nick"] == "bob")
        yield alice, bob
    finally:
        for client in (alice, bob):
            if client is not None:
                client.quit()
        server.stop()


def test_a_verification_holds_in_the_next_room_after_join(own_pair):
    # One identity per process, and one memory of keys (CR-0006 §5.10): /join keeps both.
    alice, bob = own_pair
    alice.send("/verify bob")
    alice.wait_for("the verification", lambda e: e["event"] == "notice" and e["text"].startswith("bob is now marked verified"))
    bob.send("/join second")
    bob.wait_for("bob in the second room", lambda e: e["event"] == "joined" and e["room"].startswith("second@"))
    mark = len(alice.drain(0.05))
    alice.send("/join second")
    seen = alice.wait_for("bob in the second room", lambda e: e in alice.events[mark:] and e["event"] == "member-present"
                          and e["member"]["nick"] == "bob")
    assert seen["member"]["verified"], seen
    bob.send("verified in the second room too")
    message = alice.received("verified in the second room too")
    assert message["from"]["verified"], message


def test_a_topic_is_an_event_with_who_set_it(own_pair):
    alice, bob = own_pair
    alice.send("/topic plans for friday")
    topic = bob.wait_for("the topic", lambda e: e["event"] == "topic")
    assert (topic["text"], topic["by"], topic["reported-by"]) == ("plans for friday", "alice", None), topic
    assert topic["at"].endswith("Z"), topic
    bob.send("/topic")
    shown = bob.wait_for("the answer", lambda e: e["event"] == "notice" and e.get("command") == "topic")
    assert shown["text"] == "topic: \u2068plans for friday\u2069 (set by alice)", shown
