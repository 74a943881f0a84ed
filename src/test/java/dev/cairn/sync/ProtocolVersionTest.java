package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocol versions 2, 3 and 4 side by side (sync-protocol.md §4.3), without sockets: the server
 * welcomes each with its own version; it answers a version 3 or 4 client's Ping with a Pong and
 * never sends a version 2 client either. A client that an older server refuses by version is
 * told it may offer the version below; one refused at version 2 stops. From version 4 the Hello
 * names the server the node is linked to, and another server refuses it first (WRONG_SERVER).
 */
@Timeout(60)
class ProtocolVersionTest {
    @TempDir Path dir;

    private static Message.Hello hello(int version, UUID client) {
        return new Message.Hello(version, SyncFixture.APP, client, "n", 0, List.of(), List.of(), new byte[0], Message.NONE);
    }

    @Test
    void aVersion3ClientIsWelcomedAsVersion3AndEachPingIsAnsweredWithAPong() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn c = new CoreConn(core);
            Message.Welcome w = assertInstanceOf(Message.Welcome.class, c.send(hello(3, UUID.randomUUID())).getFirst());
            assertEquals(3, w.protocolVersion());
            assertTrue(c.peer.heartbeat());
            assertEquals(List.of(new Message.Pong()), c.send(new Message.Ping()));
            assertEquals(List.of(new Message.Pong(), new Message.Pong()), c.send(new Message.Ping(), new Message.Ping()));
            // In order with the other replies of its round.
            List<Message> answer = c.send(new Message.NeedKeys("Part"), new Message.Ping());
            assertInstanceOf(Message.Keys.class, answer.get(0));
            assertEquals(new Message.Pong(), answer.get(1));
            assertNull(c.closedFor);
        }
    }

    @Test
    void aVersion2ClientIsWelcomedAsVersion2AndIsNeverSentAPongAPingFromItIsAnError() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn c = new CoreConn(core);
            Message.Welcome w = assertInstanceOf(Message.Welcome.class, c.send(hello(2, UUID.randomUUID())).getFirst());
            assertEquals(2, w.protocolVersion());
            assertTrue(c.peer.greeted());
            assertFalse(c.peer.heartbeat(), "no idle close for a version 2 connection");
            List<Message> answer = c.send(new Message.Ping());
            Message.Error e = assertInstanceOf(Message.Error.class, answer.getFirst());
            assertEquals(ErrorCode.PROTOCOL, e.code());
            assertEquals("Ping on a protocol version 2 connection (expected: version 3)", e.text());
            assertTrue(c.received.stream().noneMatch(m -> m instanceof Message.Pong), c.received.toString());
            assertEquals("PROTOCOL: " + e.text(), c.closedFor);
        }
    }

    @Test
    void aVersion4ClientIsWelcomedAsVersion4WithItsHeartbeat() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn c = new CoreConn(core);
            Message.Welcome w = assertInstanceOf(Message.Welcome.class, c.send(hello(4, UUID.randomUUID())).getFirst());
            assertEquals(4, w.protocolVersion());
            assertTrue(c.peer.heartbeat());
            assertEquals(List.of(new Message.Pong()), c.send(new Message.Ping()));
        }
    }

    /**
     * A version 4 Hello names the server its node is linked to: another server refuses it with
     * WRONG_SERVER before it looks at the node's sequence or link token, and stores nothing (the
     * node's own server, or a Hello naming none, is welcomed). A version 3 Hello names none: such
     * a node with more changes than the server has still gets SERVER_BEHIND, whose text now says
     * it may be linked to another server.
     */
    @Test
    void aVersion4HelloNamingAnotherServerIsRefusedFirstAndChangesNothing() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            UUID node = UUID.randomUUID();
            UUID elsewhere = UUID.randomUUID();
            Message.Hello ahead = new Message.Hello(4, SyncFixture.APP, node, "n", 7, List.of(), List.of(), new byte[0],
                new UUID(3, 3), elsewhere);
            CoreConn c = new CoreConn(core);
            Message.Error e = assertInstanceOf(Message.Error.class, c.send(ahead).getFirst());
            assertEquals(ErrorCode.WRONG_SERVER, e.code());
            assertEquals("server " + core.serverId() + " is not the server this database is linked to (" + elsewhere
                + "); nothing was changed", e.text());
            assertEquals("WRONG_SERVER: " + e.text(), c.closedFor);
            // Also with another application id, and with a sequence the server has.
            Message.Error other = assertInstanceOf(Message.Error.class, new CoreConn(core).send(new Message.Hello(4, "other-app",
                node, "n", 0, List.of(), List.of(), new byte[0], Message.NONE, elsewhere)).getFirst());
            assertEquals(ErrorCode.WRONG_SERVER, other.code());

            // The same node as version 3: no serverId on the wire, so the sequence check answers.
            Message.Error behind = assertInstanceOf(Message.Error.class, new CoreConn(core).send(new Message.Hello(3,
                SyncFixture.APP, node, "n", 7, List.of(), List.of(), new byte[0], new UUID(3, 3))).getFirst());
            assertEquals(ErrorCode.SERVER_BEHIND, behind.code());
            assertTrue(behind.text().contains("Or the node is linked to another server: this one is " + core.serverId()),
                behind.text());

            // Nothing was stored of the refused Hellos: the node's first Hello (naming no server)
            // links with the zero token, as a client the server has never seen; then one naming
            // this server is welcomed.
            Message.Welcome w = assertInstanceOf(Message.Welcome.class, new CoreConn(core).send(
                hello(4, node)).getFirst());
            assertEquals(1, w.linkToken().getMostSignificantBits(), "the node's first link");
            CoreConn again = new CoreConn(core);
            assertInstanceOf(Message.Welcome.class, again.send(new Message.Hello(4, SyncFixture.APP, node, "n", 0,
                List.of(), List.of(), new byte[0], w.linkToken(), core.serverId())).getFirst());
        }
    }

    /** The Hello's serverId travels from version 4 on only; a version 3 Hello decodes as naming none. */
    @Test
    void theHellosServerIdIsOnTheWireFromVersion4On() {
        UUID server = UUID.randomUUID();
        for (int v : new int[] {2, 3, 4}) {
            Message.Hello h = new Message.Hello(v, SyncFixture.APP, UUID.randomUUID(), "n", 1, List.of(), List.of(),
                new byte[0], new UUID(1, 2), server);
            byte[] frame = FrameCodec.encode(h);
            Message.Hello back = (Message.Hello) FrameCodec.decodeBody(java.nio.ByteBuffer.wrap(frame, 4, frame.length - 4));
            assertEquals(v >= 4 ? server : Message.NONE, back.serverId(), "version " + v);
            assertEquals(new UUID(1, 2), back.linkToken());
        }
    }

    @Test
    void versionsOutsideTwoToFourAreRefusedAndAPongOrAnEarlyPingIsAProtocolError() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            for (int v : new int[] {1, 5}) {
                CoreConn c = new CoreConn(core);
                Message.Error e = assertInstanceOf(Message.Error.class, c.send(hello(v, UUID.randomUUID())).getFirst());
                assertEquals(ErrorCode.VERSION, e.code());
                assertEquals("protocol version " + v + " (expected: 2 to 4)", e.text());
            }
            CoreConn early = new CoreConn(core);
            Message.Error e = assertInstanceOf(Message.Error.class, early.send(new Message.Ping()).getFirst());
            assertEquals("first message Ping (expected: Hello)", e.text());
            CoreConn pong = new CoreConn(core);
            pong.send(hello(3, UUID.randomUUID()));
            e = assertInstanceOf(Message.Error.class, pong.send(new Message.Pong()).getFirst());
            assertEquals("Pong from a client", e.text());
        }
    }

    /**
     * The client side of the handshake: the Welcome's version is the connection's; an Error
     * VERSION to a version 4 or 3 Hello ends the session with a failure that lets the link offer
     * the version below (not a permanent one); the same error to a version 2 Hello is permanent.
     */
    @Test
    void aClientRefusedByVersionMayOfferAnOlderOneAndStopsWhenVersion2IsRefusedToo() {
        try (Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(db);
            List<Message> sent = new ArrayList<>();
            ClientSession v4 = new ClientSession(replica, Set.of(), sent::add);
            v4.start();
            assertEquals(4, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            ClientSession.Failure f = assertThrows(ClientSession.Failure.class,
                () -> v4.onMessage(new Message.Error(ErrorCode.VERSION, "protocol version 4 (expected: 2 to 3)")));
            assertTrue(f.versionRefused());
            assertFalse(f.permanent());

            sent.clear();
            ClientSession v3 = new ClientSession(replica, Set.of(), sent::add, 3);
            v3.start();
            assertEquals(3, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            f = assertThrows(ClientSession.Failure.class,
                () -> v3.onMessage(new Message.Error(ErrorCode.VERSION, "protocol version 3 (expected: 2)")));
            assertTrue(f.versionRefused());
            assertFalse(f.permanent());
            assertEquals("VERSION: protocol version 3 (expected: 2)", f.getMessage());

            sent.clear();
            ClientSession v2 = new ClientSession(replica, Set.of(), sent::add, 2);
            v2.start();
            assertEquals(2, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            f = assertThrows(ClientSession.Failure.class,
                () -> v2.onMessage(new Message.Error(ErrorCode.VERSION, "protocol version 2 (expected: 1)")));
            assertFalse(f.versionRefused());
            assertTrue(f.permanent());

            assertThrows(IllegalArgumentException.class, () -> new ClientSession(replica, Set.of(), sent::add, 1));
            assertThrows(IllegalArgumentException.class, () -> new ClientSession(replica, Set.of(), sent::add, 5));
        }
    }

    /** The session's version follows the Welcome: a version 3 Hello welcomed as 2 runs as 2. */
    @Test
    void theConnectionsVersionIsTheLowerOfTheHellosAndTheWelcomes() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(db);
            ClientSession s = new ClientSession(replica, Set.of(), m -> { });
            s.start();
            assertEquals(0, s.protocolVersion());
            s.onMessage(new Message.Welcome(2, core.serverId(), 0, new UUID(1, 1)));
            assertEquals(2, s.protocolVersion());
            // Pongs change nothing, whatever the state.
            s.onMessage(new Message.Pong());
            assertEquals(ClientSession.State.CATCHING_UP, s.state());
        }
    }
}
