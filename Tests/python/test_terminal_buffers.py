"""Buffers in the full-screen view (issue 13), driven through a tmux pane: alice runs
``catroom join lobby second`` (two rooms, one connection); bob (``--json``) is in both.

1. the status line lists both rooms; a message in the room not shown is counted there
   and does not appear in the one shown;
2. Alt-2 shows the other room, its message, and clears its count;
3. an incoming private message opens a buffer for its sender, highlighted; Ctrl-N
   shows it, and plain lines typed there go privately to that member;
4. ``/close`` closes it, ``/buffer`` switches by name, ``/search`` scrolls back to a
   line, a resize to 40×10 keeps the buffer list and the input usable, and ``/quit``
   exits with status 0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from catroom_processes import binary
from test_terminal_ui import HEIGHT, WIDTH, Pane, Peer, start_server, tear_down, wait_until


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("terminal-buffers")
    catroom = Path(binary())
    server = start_server(directory)
    peer = pane = None
    try:
        peer = Peer(catroom, server.port, "bob", directory)
        peer.wait_for("the room joined", lambda e: e.get("event") == "joined")
        peer.send("/join second")
        peer.wait_for("second joined", lambda e: e.get("event") == "ready" and e.get("room", "").startswith("second@"))
        pane = Pane(directory)
        script = directory / "alice.sh"
        script.write_text(
            "#!/bin/sh\n"
            f'"{catroom}" join lobby second --nick alice --server 127.0.0.1 --domain localhost --port {server.port} --insecure\n'
            'echo "EXIT:$?"\n')
        script.chmod(0o755)
        pane.type(str(script))
        pane.keys("Enter")
        for room in ("lobby", "second"):
            peer.wait_for(f"alice in {room}", lambda e, room=room: e.get("event") == "member-joined"
                          and e["member"]["nick"] == "alice" and e.get("room", "").startswith(room + "@"))
        pane.wait_for("alice's status line", lambda _: "encrypted" in pane.status_line())
        yield {"server": server, "peer": peer, "pane": pane}
    finally:
        tear_down(server, peer, pane)


def test_activity_in_another_room_is_counted_not_shown(world):
    pane, peer = world["pane"], world["peer"]
    status = pane.status_line()
    assert "1:lobby" in status and "2:second" in status, status
    assert pane.input_line().startswith("[lobby]"), pane.input_line()
    peer.send("said in second")   # bob's plain lines go to the room he joined last
    pane.wait_for("the unread count", lambda _: "2:second(1)" in pane.status_line())
    assert "said in second" not in pane.screen()


def test_alt_digit_shows_the_other_room_and_clears_its_count(world):
    pane = world["pane"]
    pane.keys("M-2")
    pane.wait_for("second's scrollback", lambda screen: "said in second" in screen)
    assert pane.input_line().startswith("[second]"), pane.input_line()
    assert "(1)" not in pane.status_line(), pane.status_line()
    pane.type("hello second")
    pane.keys("Enter")
    world["peer"].wait_for("alice's message in second", lambda e: e.get("event") == "message" and e["text"] == "hello second"
                           and e["room"].startswith("second@") and not e["private"])


def test_a_private_message_opens_a_buffer_for_its_sender(world):
    pane, peer = world["pane"], world["peer"]
    peer.send("/msg alice psst")
    pane.wait_for("a private buffer, highlighted", lambda _: "3:→bob(1)!" in pane.status_line())
    assert "psst" not in pane.screen()
    pane.keys("M-2")  # as the test before leaves it, so that this one also runs alone (-k)
    pane.keys("C-n")
    pane.wait_for("the private buffer", lambda screen: "psst" in screen)
    assert pane.input_line().startswith("[→ bob]"), pane.input_line()
    pane.type("back at you")
    pane.keys("Enter")
    answer = peer.wait_for("alice's private answer", lambda e: e.get("event") == "message" and e["text"] == "back at you")
    assert answer["private"] and not answer["own"], answer


def test_close_and_buffer_by_name(world):
    pane = world["pane"]
    pane.type("/close")
    pane.keys("Enter")
    pane.wait_for("the private buffer closed", lambda _: "3:" not in pane.status_line())
    pane.type("/buffer lobby")
    pane.keys("Enter")
    pane.wait_for("lobby shown", lambda _: pane.input_line().startswith("[lobby]"))


def test_search_scrolls_this_buffer_back_to_a_line(world):
    pane, peer = world["pane"], world["peer"]
    peer.send("/buffer lobby")
    peer.send("the needle line")
    for n in range(40):
        peer.send(f"filler {n}")
    pane.wait_for("the last filler", lambda screen: "filler 39" in screen)
    assert "needle" not in pane.screen()
    pane.type("/search NEEDLE")
    pane.keys("Enter")
    pane.wait_for("the match in view", lambda screen: "the needle line" in screen and "-- more" in pane.status_line())
    assert "filler 39" not in pane.screen()
    pane.keys("C-r")   # the one before: there is none
    pane.wait_for("no earlier match", lambda screen: "no line with NEEDLE further up" in screen or
                  "(1 new)" in pane.status_line())
    pane.keys("PageDown", "PageDown", "PageDown")
    pane.wait_for("back at the bottom", lambda screen: "no line with NEEDLE further up" in screen)


def test_resize_and_quit(world):
    pane = world["pane"]
    pane.tmux("resize-window", "-t", "ui", "-x", "40", "-y", "10")
    wait_until(lambda: len(pane.screen().split("\n")) >= 10 and "2" in pane.screen().split("\n")[8], "the small status line",
               describe=pane.screen)
    rows = pane.screen().split("\n")
    assert all(len(row) <= 40 for row in rows), rows
    assert rows[9].startswith("[lobby]"), rows
    pane.tmux("resize-window", "-t", "ui", "-x", str(WIDTH), "-y", str(HEIGHT))
    pane.wait_for("the full status line", lambda _: "1:lobby" in pane.status_line())
    pane.type("/quit")
    pane.keys("Enter")
    pane.wait_for("the exit status", lambda screen: "EXIT:0" in screen)
