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
    void aVersion3ClientIsWelcomedAsVersion3AndItsPingsAreAnsweredWithAPongARound() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn c = new CoreConn(core);
            Message.Welcome w = assertInstanceOf(Message.Welcome.class, c.send(hello(3, UUID.randomUUID())).getFirst());
            assertEquals(3, w.protocolVersion());
            assertTrue(c.peer.heartbeat());
            assertEquals(List.of(new Message.Pong()), c.send(new Message.Ping()));
            // One Pong for the Pings of a round: it only shows the server alive (a flood of Pings made a frame each).
            assertEquals(List.of(new Message.Pong()), c.send(new Message.Ping(), new Message.Ping()));
            assertEquals(List.of(new Message.Pong()), c.send(new Message.Ping()), "and one again in the next round");
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
            assertTrue(behind.text().contains("; or the node is linked to another server (this one is " + core.serverId() + ")"),
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
    void versionsOutsideTwoToNineAreRefusedAndAPongOrAnEarlyPingIsAProtocolError() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            for (int v : new int[] {1, 10}) {
                CoreConn c = new CoreConn(core);
                Message.Error e = assertInstanceOf(Message.Error.class, c.send(hello(v, UUID.randomUUID())).getFirst());
                assertEquals(ErrorCode.VERSION, e.code());
                assertEquals("protocol version " + v + " (expected: 2 to 9)", e.text());
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
            ClientSession v9 = new ClientSession(replica, Set.of(), sent::add);
            v9.start();
            assertEquals(9, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            ClientSession.Failure f = assertThrows(ClientSession.Failure.class,
                () -> v9.onMessage(new Message.Error(ErrorCode.VERSION, "protocol version 9 (expected: 2 to 8)")));
            assertTrue(f.versionRefused());
            assertFalse(f.permanent());

            sent.clear();
            ClientSession v8 = new ClientSession(replica, Set.of(), sent::add, 8);
            v8.start();
            assertEquals(8, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            f = assertThrows(ClientSession.Failure.class,
                () -> v8.onMessage(new Message.Error(ErrorCode.VERSION, "protocol version 8 (expected: 2 to 7)")));
            assertTrue(f.versionRefused());
            assertFalse(f.permanent());

            sent.clear();
            ClientSession v7 = new ClientSession(replica, Set.of(), sent::add, 7);
            v7.start();
            assertEquals(7, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            f = assertThrows(ClientSession.Failure.class,
                () -> v7.onMessage(new Message.Error(ErrorCode.VERSION, "protocol version 7 (expected: 2 to 6)")));
            assertTrue(f.versionRefused());
            assertFalse(f.permanent());

            sent.clear();
            ClientSession v6 = new ClientSession(replica, Set.of(), sent::add, 6);
            v6.start();
            assertEquals(6, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            f = assertThrows(ClientSession.Failure.class,
                () -> v6.onMessage(new Message.Error(ErrorCode.VERSION, "protocol version 6 (expected: 2 to 5)")));
            assertTrue(f.versionRefused());
            assertFalse(f.permanent());

            sent.clear();
            ClientSession v5 = new ClientSession(replica, Set.of(), sent::add, 5);
            v5.start();
            assertEquals(5, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            f = assertThrows(ClientSession.Failure.class,
                () -> v5.onMessage(new Message.Error(ErrorCode.VERSION, "protocol version 5 (expected: 2 to 4)")));
            assertTrue(f.versionRefused());
            assertFalse(f.permanent());

            sent.clear();
            ClientSession v4 = new ClientSession(replica, Set.of(), sent::add, 4);
            v4.start();
            assertEquals(4, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            f = assertThrows(ClientSession.Failure.class,
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
            assertThrows(IllegalArgumentException.class, () -> new ClientSession(replica, Set.of(), sent::add, 10));
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

    /**
     * Version 5 (sync-protocol.md §4.4): the Welcome names the server's run, a version 4 one does
     * not; each open of the server is a new run. A Hello naming a run this database does not
     * know, or one followed by a run that began at or below the node's sequence, is refused with
     * SERVER_BEHIND and changes nothing; the current run, and an earlier one the node did not
     * sync past, are welcomed.
     */
    @Test
    void theServerNamesItsRunAndRefusesANodeThatSyncedPastItsDatabase() {
        UUID firstRun;
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            firstRun = core.epoch();
            Message.Welcome w5 = assertInstanceOf(Message.Welcome.class, new CoreConn(core).send(hello(5, UUID.randomUUID())).getFirst());
            assertEquals(firstRun, w5.epoch());
            byte[] frame = FrameCodec.encode(assertInstanceOf(Message.Welcome.class,
                new CoreConn(core).send(hello(4, UUID.randomUUID())).getFirst()));
            assertEquals(Message.NONE, ((Message.Welcome) FrameCodec.decodeBody(java.nio.ByteBuffer.wrap(frame, 4,
                frame.length - 4))).epoch(), "a version 4 Welcome names no run");
        }
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            UUID secondRun = core.epoch();
            assertFalse(secondRun.equals(firstRun), "every open is a new run");
            // seq is 0: the second run began at 1, so a node that synced up to 0 in the first is fine.
            assertInstanceOf(Message.Welcome.class, new CoreConn(core).send(run(UUID.randomUUID(), firstRun, 0)).getFirst());
            assertInstanceOf(Message.Welcome.class, new CoreConn(core).send(run(UUID.randomUUID(), secondRun, 0)).getFirst());
            Message.Error e = assertInstanceOf(Message.Error.class, new CoreConn(core).send(run(UUID.randomUUID(),
                new UUID(5, 5), 0)).getFirst());
            assertEquals(ErrorCode.SERVER_BEHIND, e.code());
            assertTrue(e.text().startsWith("node 'n' has every change up to 0 from a run of this server that this server's "
                + "database does not know: either this server's database is older than what it served"), e.text());
            // A node that got sequence 1 in the first run: this database went on from 0 after it.
            e = assertInstanceOf(Message.Error.class, new CoreConn(core).send(run(UUID.randomUUID(), firstRun, 1)).getFirst());
            assertEquals(ErrorCode.SERVER_BEHIND, e.code());
            assertTrue(e.text().startsWith("node 'n' has every change up to 1 from a run of this server, but this server's "
                + "database went on from 0 after that run"), e.text());
            assertTrue(e.text().endsWith("start the server on its newest database folder"), e.text());
            // A sequence above the server's, in its current run (a full catch-up's Hello has lastSeq 0).
            e = assertInstanceOf(Message.Error.class, new CoreConn(core).send(run(UUID.randomUUID(), secondRun, 3)).getFirst());
            assertEquals(ErrorCode.SERVER_BEHIND, e.code());
            assertTrue(e.text().startsWith("node 'n' has every change up to 3, but this server's database ends at 0"), e.text());
        }
    }

    /** A version 5 Hello from a node that synced up to {@code epochSeq} in run {@code epoch} (its lastSeq 0: a full catch-up). */
    private static Message.Hello run(UUID client, UUID epoch, long epochSeq) {
        return new Message.Hello(5, SyncFixture.APP, client, "n", 0, List.of(), List.of(), new byte[0], Message.NONE,
            Message.NONE, epoch, epochSeq, List.of());
    }

    /**
     * The node stores the run of a connection only with a sequence it got on that connection, in
     * the transaction that stores the sequence: a Welcome alone stores none, a CaughtUp that does
     * not move the sequence keeps the run it was got in, and a sequence from a connection that
     * names no run (version 4) clears it.
     */
    @Test
    void theNodeStoresTheRunWithTheSequenceItGotInIt() {
        try (Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(db);
            UUID server = UUID.randomUUID();
            UUID one = new UUID(1, 1);
            UUID two = new UUID(2, 2);
            List<Message> sent = new ArrayList<>();
            ClientSession s = new ClientSession(replica, Set.of(), sent::add);
            s.start();
            s.onMessage(new Message.Welcome(5, server, 100, new UUID(1, 7), one));
            assertEquals(Message.NONE, replica.syncEpoch(), "not with the Welcome");
            s.onMessage(new Message.CaughtUp(7));
            assertEquals(one, replica.syncEpoch());
            assertEquals(7, replica.lastSeq());

            sent.clear();
            s = new ClientSession(replica, Set.of(), sent::add);
            s.start();
            Message.Hello h = assertInstanceOf(Message.Hello.class, sent.getFirst());
            assertEquals(one, h.epoch());
            assertEquals(7, h.epochSeq());
            s.onMessage(new Message.Welcome(5, server, 100, new UUID(2, 7), two));
            s.onMessage(new Message.CaughtUp(7));
            assertEquals(one, replica.syncEpoch(), "7 was got in run one");
            s.onMessage(new Message.Ack(1, new dev.cairn.Key<>("Gone", 1, 0), 8)); // LIVE: an Ack moves the sequence
            assertEquals(two, replica.syncEpoch());
            assertEquals(8, replica.lastSeq());

            s = new ClientSession(replica, Set.of(), m -> { }, 4);
            s.start();
            s.onMessage(new Message.Welcome(4, server, 100, new UUID(3, 7)));
            s.onMessage(new Message.CaughtUp(9));
            assertEquals(Message.NONE, replica.syncEpoch(), "9 came from a connection that names no run");
            assertEquals(9, replica.lastSeq());
        }
    }
}
