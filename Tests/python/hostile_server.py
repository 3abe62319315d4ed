"""A scripted XMPP server on loopback that plays a catroom server up to a point, then misbehaves.

It speaks just enough of the real protocol for ``catroom join --plaintext``: the stream
header, CR-0003 key-possession registration (any signature is accepted), SCRAM-SHA-256
with a correct server signature (RFC 5802 §3), bind, an IQ result for every request
and the room's self-presence (CR-0005). ``mode`` names the misbehaviour:

- ``scram-iterations``: offers 2^31-1 SCRAM iterations;
- ``silent-after-header``: sends the stream header and then nothing;
- ``bind-without-localpart``: binds the bare domain (``localhost/r``), no account name;
- ``silent-after-bind``: binds a resource, then answers nothing (the prekey publication included);
- ``no-pong``: after joining, answers nothing (pings included);
- ``shutdown-once``: the first connection gets a ``system-shutdown`` stream error once
  joined; later ones behave.

Runs on its own thread with its own event loop; ``connections`` counts accepted sockets.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import threading

HEADER = ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
          " id='{id}' from='localhost' version='1.0'>")
ITERATIONS_TOO_MANY = 2**31 - 1


class Closed(Exception):
    pass


class Conversation:
    def __init__(self, server: "HostileServer", reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int):
        self.server, self.reader, self.writer, self.mode, self.number = server, reader, writer, server.mode, number
        self.buffer = b""

    async def expect(self, pattern: bytes) -> re.Match:
        """Reads until ``pattern`` matches the unread input, and consumes up to the match."""
        while True:
            match = re.search(pattern, self.buffer, re.S)
            if match:
                self.buffer = self.buffer[match.end():]
                return match
            data = await asyncio.wait_for(self.reader.read(65536), timeout=20)
            if not data:
                raise Closed()
            self.buffer += data

    async def send(self, text: str) -> None:
        self.writer.write(text.encode())
        await self.writer.drain()

    async def open_stream(self, features: str) -> None:
        await self.expect(rb"<stream:stream[^>]*>")
        await self.send(HEADER.format(id=f"s{self.number}") + f"<stream:features>{features}</stream:features>")

    async def run(self) -> None:
        await self.expect(rb"<stream:stream[^>]*>")
        await self.send(HEADER.format(id=f"s{self.number}"))
        if self.mode == "silent-after-header":
            while await self.reader.read(65536):  # until the client gives up and closes
                pass
            raise Closed()
        await self.send("<stream:features><register xmlns='http://jabber.org/features/iq-register'/></stream:features>")
        # CR-0003 §5.1: the form with its challenge.
        await self.expect(rb"<iq[^>]*register-1.*?</iq>")
        challenge = base64.b64encode(b"c" * 32).decode()
        await self.send(
            "<iq type='result' id='register-1'><query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'>"
            "<field var='FORM_TYPE' type='hidden'><value>urn:catroom:register:0</value></field>"
            f"<field var='challenge'><value>{challenge}</value></field></x></query></iq>")
        submitted = await self.expect(rb"<iq[^>]*register-2.*?</iq>")
        password = re.search(rb"var=['\"]password['\"][^>]*>\s*<value>([^<]*)</value>", submitted.group(0)).group(1)
        await self.send("<iq type='result' id='register-2'/>")
        # SASL SCRAM-SHA-256 (RFC 5802 §5).
        auth = await self.expect(rb"<auth[^>]*>([^<]*)</auth>")
        client_first = base64.b64decode(auth.group(1)).decode()
        client_first_bare = client_first[3:]
        user = re.search(r"n=([^,]*)", client_first_bare).group(1)
        client_nonce = re.search(r"r=([^,]*)", client_first_bare).group(1)
        salt = b"s" * 16
        iterations = ITERATIONS_TOO_MANY if self.mode == "scram-iterations" else 4096
        server_first = f"r={client_nonce}server,s={base64.b64encode(salt).decode()},i={iterations}"
        await self.send(f"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{base64.b64encode(server_first.encode()).decode()}</challenge>")
        response = await self.expect(rb"<response[^>]*>([^<]*)</response>")
        client_final = base64.b64decode(response.group(1)).decode()
        without_proof = client_final[:client_final.index(",p=")]
        salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
        server_final = b"v=" + base64.b64encode(signature)
        await self.send(f"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{base64.b64encode(server_final).decode()}</success>")
        await self.open_stream("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>")
        await self.expect(rb"<iq[^>]*bind-1.*?</iq>")
        await self.send(f"<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                        f"<jid>{'' if self.mode == 'bind-without-localpart' else user + '@'}localhost/r</jid></bind></iq>")
        await self.serve(user)

    async def serve(self, user: str) -> None:
        """Answers every IQ request with a result, and the join with the self-presence."""
        if self.mode == "silent-after-bind":
            while await self.reader.read(65536):  # until the client closes
                pass
            raise Closed()
        joined = False
        while True:
            stanza = await self.expect(rb"<(iq|presence)\b[^>]*?(/>|>.*?</\1>)")
            text = stanza.group(0).decode()
            if joined and self.mode == "no-pong":
                continue
            if stanza.group(1) == b"presence":
                room = re.search(r"to=['\"]([^/'\"]*)/", text).group(1)
                await self.send(f"<presence from='{room}/{user}'><x xmlns='http://jabber.org/protocol/muc#user'>"
                                "<item affiliation='none' role='participant'/><status code='110'/></x></presence>")
                joined = True
                if self.mode == "shutdown-once" and self.number == 1:
                    # XEP-0199 §4.1 first: the client must answer the server's ping.
                    await self.send("<iq type='get' id='server-ping' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
                    await self.expect(rb"<iq[^>]*server-ping[^>]*>")
                    self.server.client_answered_ping = True
                    await self.send("<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                                    "</stream:error></stream:stream>")
                    return
                continue
            kind = re.search(r"type=['\"](\w+)['\"]", text)
            ident = re.search(r"id=['\"]([^'\"]+)['\"]", text)
            if kind and kind.group(1) in ("get", "set") and ident:
                await self.send(f"<iq type='result' id='{ident.group(1)}' from='localhost'/>")


class HostileServer:
    def __init__(self, mode: str):
        self.mode = mode
        self.connections = 0
        self.client_answered_ping = False
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the scripted server did not start")

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.listener = self.loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self.listener.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await Conversation(self, reader, writer, self.connections).run()
        except (Closed, ConnectionError, asyncio.TimeoutError, AttributeError):
            pass
        finally:
            writer.close()

    def stop_listening(self) -> None:
        """New connections are refused from now on."""
        async def close():
            self.listener.close()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)

    def stop(self) -> None:
        self.stop_listening()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
