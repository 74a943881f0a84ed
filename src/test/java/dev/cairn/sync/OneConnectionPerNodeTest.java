package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.store.ForeignBackup;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.SyncProxy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One accepted connection per client id (sync-protocol.md §4.2 step 1): a Hello that passes
 * every check replaces an older connection of the same client, which is told why
 * ({@code Error(REPLACED)}) and whose node stops. Before, the server served both: a node whose
 * database folder was copied to a second machine ran there as the same client, and both
 * machines held the same check-outs and id ranges (records with the same ids made on two
 * machines).
 */
@Timeout(60)
class OneConnectionPerNodeTest {
    @TempDir Path dir;

    private static Message.Hello hello(UUID client, String name, UUID token) {
        return new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, client, name, 0, List.of(), List.of(),
            new byte[0], token);
    }

    private static UUID welcomed(List<Message> answer) {
        return assertInstanceOf(Message.Welcome.class, answer.getFirst()).linkToken();
    }

    private static Message.SchemaDef partSchema() {
        Schema s = Schema.derive(Part.class);
        return new Message.SchemaDef("Part", false, s.fingerprint(), s.toBytes());
    }

    /** The record {@code maker} creates with the first id of its range; every other LIVE client gets it pushed. */
    private static Key<?> create(CoreConn maker, UUID makerId) {
        RecordCodec<Part> parts = CoreConn.codec(Part.class, "Part");
        int id = CoreConn.last(Message.Keys.class, maker.send(new Message.NeedKeys("Part"))).from();
        Key<?> k = new Key<>("Part", id, 0);
        List<Message> answer = maker.send(partSchema(), new Message.Change(1, k, Message.Kind.CREATED,
            parts.schema().fingerprint(), CoreConn.recordValue(0, 0, 0, makerId, parts.encode(part(1)))));
        assertEquals(k, CoreConn.last(Message.Ack.class, answer).key());
        return k;
    }

    private static String replacedText(UUID node, String oldName, String newName) {
        return "client id " + node + " (node '" + oldName + "') connected again"
            + (oldName.equals(newName) ? "" : " as node '" + newName + "'")
            + " on another connection, which replaced this one. A node makes one connection at a time, so two "
            + "machines are using this node's database: each node needs its own database folder, and a copied "
            + "folder must not be used as a second node. This database stops syncing; give this machine a new "
            + "database folder and connect that";
    }

    /**
     * The node reconnects while the server still holds its first connection (a drop it has not
     * noticed), and in the same round the first connection still sends: the new connection is
     * served; the old one gets Error(REPLACED) and nothing else from that Hello on, and what it
     * sends after the Hello is ignored.
     */
    @Test
    void aSecondConnectionOfANodeReplacesTheFirstWhichIsToldWhyAndGetsNothingMore() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            UUID node = UUID.randomUUID();
            CoreConn first = new CoreConn(core);
            UUID token = welcomed(first.hello(node, "a"));
            first.send(new Message.LinkStored(token));
            UUID otherId = UUID.randomUUID();
            CoreConn other = new CoreConn(core);
            other.hello(otherId, "b");

            CoreConn second = new CoreConn(core);
            int firstBefore = first.received.size();
            core.onMessage(first.peer, new Message.NeedKeys("Part"));    // before the Hello: handled, its answer dropped
            core.onMessage(second.peer, hello(node, "a", token));
            core.onMessage(first.peer, new Message.NeedKeys("Doc"));     // after it: ignored
            core.endRound();

            List<Message> toFirst = first.received.subList(firstBefore, first.received.size());
            assertEquals(1, toFirst.size(), "only the Error: " + toFirst);
            Message.Error e = assertInstanceOf(Message.Error.class, toFirst.getFirst());
            assertEquals(ErrorCode.REPLACED, e.code(), e.text());
            assertEquals(replacedText(node, "a", "a"), e.text());
            assertEquals("REPLACED: " + e.text(), first.closedFor, "and closed");
            assertInstanceOf(Message.Welcome.class, second.received.getFirst());
            assertNull(second.closedFor);
            assertFalse(core.peers().contains(first.peer));
            assertTrue(core.peers().containsAll(List.of(second.peer, other.peer)));

            // The range the first connection asked for before the Hello is the node's (stored);
            // its NeedKeys after the Hello issued nothing.
            assertEquals(100, CoreConn.last(Message.Keys.class, second.send(new Message.NeedKeys("Part"))).from());
            assertEquals(0, CoreConn.last(Message.Keys.class, second.send(new Message.NeedKeys("Doc"))).from());

            // Pushes go to the new connection only.
            int firstAfter = first.received.size();
            Key<?> k = create(other, otherId);
            assertEquals(k, CoreConn.last(Message.Pushed.class, second.received).key());
            assertEquals(firstAfter, first.received.size(), "the replaced connection gets nothing");
            first.send(new Message.CheckOut(k));
            assertEquals(firstAfter, first.received.size());
            assertTrue(second.received.stream().noneMatch(m -> m instanceof Message.Borrow), "its CheckOut was ignored");
        }
    }

    /**
     * The node comes back with whichever token it holds (its first Welcome's, whose LinkStored
     * was lost; then that one again, as it crashed before storing the second Welcome's): each
     * accepted Hello replaces the connection before it, so one connection of the node is served.
     */
    @Test
    void whicheverValidTokenItPresentsTheNodeGetsInAndOnlyItsLastConnectionIsServed() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            UUID node = UUID.randomUUID();
            CoreConn c1 = new CoreConn(core);
            UUID t1 = welcomed(c1.hello(node, "a"));
            CoreConn c2 = new CoreConn(core);
            welcomed(c2.send(hello(node, "a", t1)));
            assertEquals(ErrorCode.REPLACED, CoreConn.last(Message.Error.class, c1.received).code());
            CoreConn c3 = new CoreConn(core);
            welcomed(c3.send(hello(node, "a", t1)));
            assertEquals(ErrorCode.REPLACED, CoreConn.last(Message.Error.class, c2.received).code());
            assertEquals(List.of(c3.peer), core.peers());
            assertNull(c3.closedFor);
        }
    }

    /**
     * A Hello with the node's client id that the server refuses (a stale link token: an older
     * copy, or a client that only knows the id, which every Borrow shows; another application)
     * leaves the node's connection alone.
     */
    @Test
    void aRefusedHelloWithTheNodesIdLeavesItsConnectionAlone() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            UUID node = UUID.randomUUID();
            CoreConn conn = new CoreConn(core);
            UUID token = welcomed(conn.hello(node, "a"));
            conn.send(new Message.LinkStored(token));
            List<Message.Hello> refused = List.of(hello(node, "a", Message.NONE), hello(node, "a", new UUID(token.getMostSignificantBits(), ~token.getLeastSignificantBits())),
                new Message.Hello(FrameCodec.PROTOCOL_VERSION, "other-app", node, "a", 0, List.of(), List.of(), new byte[0], token));
            for (Message.Hello h : refused) {
                CoreConn c = new CoreConn(core);
                Message.Error e = assertInstanceOf(Message.Error.class, c.send(h).getFirst());
                assertTrue(e.code() == ErrorCode.NODE_COPY || e.code() == ErrorCode.APP_ID, e.text());
            }
            assertNull(conn.closedFor);
            assertTrue(conn.received.stream().noneMatch(m -> m instanceof Message.Error), conn.received.toString());
            assertTrue(core.peers().contains(conn.peer));
            UUID otherId = UUID.randomUUID();
            CoreConn other = new CoreConn(core);
            other.hello(otherId, "b");
            Key<?> k = create(other, otherId);
            assertEquals(k, CoreConn.last(Message.Pushed.class, conn.received).key(), "still served");
        }
    }

    /**
     * A node whose connection dropped without the server noticing (a proxy that forgets the
     * node's side and keeps the server's side open) reconnects at once, without any action: the
     * server replaces the dead connection, says so on it and closes it, and serves the new one.
     */
    @Test
    void aNodeThatReconnectsWhileTheServerStillHoldsItsDeadConnectionGetsInAndTheDeadOneIsClosed() throws IOException {
        try (SyncFixture f = new SyncFixture(dir); SyncProxy proxy = new SyncProxy(f.port())) {
            Cairn a = f.open("a");
            a.connect("127.0.0.1", proxy.port()).orTimeout(20, TimeUnit.SECONDS).join();
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            await("a has ids", () -> f.events.get(a).stream().anyMatch(e -> e instanceof Event.KeysReceived));
            Key<Part> before = pa.insert(part(1));
            await("b has a's record", () -> pb.contains(before));

            SyncProxy.Pair dead = proxy.pairs.getFirst();
            dead.drop();
            await("a reconnected", () -> proxy.pairs.size() == 2 && a.isConnected() && f.server.clientCount() == 2,
                20_000, () -> "connections " + proxy.pairs.size() + ", served " + f.server.clientCount());
            await("the server closed the dead connection", () -> dead.serverClosed, 20_000,
                () -> "it sent " + dead.down);
            Message.Error e = assertInstanceOf(Message.Error.class, dead.down.getLast());
            assertEquals(ErrorCode.REPLACED, e.code(), e.text());
            assertEquals(replacedText(a.nodeId(), "a", "a"), e.text());
            assertFalse(proxy.pairs.get(1).serverClosed);
            assertEquals(2, f.server.clientCount());

            Key<Part> after = pa.insert(part(2));
            Key<Part> fromB = pb.insert(part(3));
            await("both ways", () -> pb.contains(after) && pa.contains(fromB));
            assertTrue(f.events.get(a).stream().noneMatch(ev -> ev instanceof Event.Disconnected d && d.reason().contains("REPLACED")),
                "the node itself was not told to stop");
        }
    }

    /**
     * A copy of a connected node's folder (taken as `cairn backup` takes it from a running node)
     * started as a second node: it presents the node's id and current link token, so it is the
     * node as far as the server can tell, and it replaces the node's connection. The node is
     * told why and stops (it does not come back and push the copy out), so the two never run as
     * one client at once.
     */
    @Test
    void aCopiedFolderStartedAsASecondNodeReplacesTheNodeWhichStopsSayingWhy() throws InterruptedException {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            await("a has ids", () -> f.events.get(a).stream().anyMatch(e -> e instanceof Event.KeysReceived));
            Key<Part> k = pa.insert(part(1));
            Tree<Part> pb = b.tree(Part.class);
            await("b has a's record", () -> pb.contains(k));
            ForeignBackup.copy(dir.resolve("a"), dir.resolve("a-copy"));

            Cairn copy = f.connected("a-copy");
            assertEquals(a.nodeId(), copy.nodeId(), "the copy is the same client");
            String expected = "REPLACED: " + replacedText(a.nodeId(), "a", "a-copy");
            await("a was told", () -> f.events.get(a).stream().anyMatch(e -> e instanceof Event.Disconnected d
                && d.reason().endsWith(expected)), 20_000, () -> f.events.get(a).toString());
            assertFalse(a.isConnected());
            // It stops: a retry would come within the first backoff (50 ms) and push the copy out.
            Thread.sleep(500);
            assertFalse(a.isConnected());
            assertTrue(copy.isConnected());
            assertEquals(2, f.server.clientCount(), "b and the copy");
            assertTrue(f.events.get(copy).stream().noneMatch(e -> e instanceof Event.Disconnected));
        }
    }
}
