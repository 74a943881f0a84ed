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
 * Protocol versions 2 and 3 side by side (sync-protocol.md §4.3), without sockets: the server
 * welcomes both, each with its own version; it answers a version 3 client's Ping with a Pong and
 * never sends a version 2 client either. A version 3 client that an older server refuses by
 * version is told it may offer version 2; one refused at version 2 stops.
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
    void versionsOutsideTwoToThreeAreRefusedAndAPongOrAnEarlyPingIsAProtocolError() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            for (int v : new int[] {1, 4}) {
                CoreConn c = new CoreConn(core);
                Message.Error e = assertInstanceOf(Message.Error.class, c.send(hello(v, UUID.randomUUID())).getFirst());
                assertEquals(ErrorCode.VERSION, e.code());
                assertEquals("protocol version " + v + " (expected: 2 to 3)", e.text());
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
     * VERSION to a version 3 Hello ends the session with a failure that lets the link offer
     * version 2 (not a permanent one); the same error to a version 2 Hello is permanent.
     */
    @Test
    void aClientRefusedByVersionMayOfferVersion2AndStopsWhenThatIsRefusedToo() {
        try (Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(db);
            List<Message> sent = new ArrayList<>();
            ClientSession v3 = new ClientSession(replica, Set.of(), sent::add);
            v3.start();
            assertEquals(3, assertInstanceOf(Message.Hello.class, sent.getFirst()).protocolVersion());
            ClientSession.Failure f = assertThrows(ClientSession.Failure.class,
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
            assertThrows(IllegalArgumentException.class, () -> new ClientSession(replica, Set.of(), sent::add, 4));
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
