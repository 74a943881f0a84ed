package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Link tokens (sync-protocol.md §5.7): an older copy of a node's database (a restored backup, a
 * copied folder) is refused, the node itself always links, whatever crash or lost message came
 * between a Welcome and the node storing its token. Before, a restored backup linked, took ids
 * it had already used after the backup and, as the same client, overwrote those records on the
 * server and every node.
 */
@Timeout(60)
class LinkTokenTest {
    @TempDir Path dir;

    /** A Hello from {@code client} presenting {@code token} on a new connection, which then ends: the server's answer. */
    private static Message hello(ServerCore core, UUID client, UUID token) {
        CoreConn c = new CoreConn(core);
        List<Message> answer = c.send(new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, client, "n", 0,
            List.of(), List.of(), new byte[0], token));
        core.disconnected(c.peer);
        return answer.getFirst();
    }

    private static UUID welcomed(Message m) {
        return assertInstanceOf(Message.Welcome.class, m).linkToken();
    }

    @Test
    void theServerAcceptsTheLastTokenItIssuedOrTheConfirmedOneAndNothingOlder() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            UUID client = UUID.randomUUID();
            UUID t1 = welcomed(hello(core, client, Message.NONE));
            // The Welcome was lost (or the node crashed before storing t1): it comes again with none.
            UUID t2 = welcomed(hello(core, client, Message.NONE));
            assertNotEquals(t1, t2);
            // It stored t2, but its LinkStored was lost: t2 is still accepted.
            UUID t3 = welcomed(hello(core, client, t2));
            // Confirmed: from now on only t3 (and what is issued next) link.
            CoreConn c = new CoreConn(core);
            core.onMessage(c.peer, new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, client, "n", 0,
                List.of(), List.of(), new byte[0], t3));
            core.onMessage(c.peer, new Message.LinkStored(welcomedNow(core, c)));
            core.endRound();
            core.disconnected(c.peer);
            UUID t4 = ((Message.Welcome) c.received.getFirst()).linkToken();
            for (UUID stale : List.of(Message.NONE, t1, t2, t3)) {
                Message.Error e = assertInstanceOf(Message.Error.class, hello(core, client, stale));
                assertEquals(ErrorCode.NODE_COPY, e.code(), e.text());
                assertTrue(e.text().startsWith("this database is a copy of node 'n' (" + client + ") as it was before the node's last"
                    + " link: the node, or another copy of its database, has linked since"), e.text());
            }
            assertInstanceOf(Message.Welcome.class, hello(core, client, t4));
            // Another client is not affected.
            assertInstanceOf(Message.Welcome.class, hello(core, UUID.randomUUID(), Message.NONE));
        }
    }

    /**
     * A server whose database was restored from a backup is behind its nodes: it says so (and
     * does not call the nodes copies), and changes nothing. Before, it served them from where its
     * data ended, issuing again ids and sequences the nodes knew under other meanings.
     */
    @Test
    void aServerBehindANodeSaysSoBeforeLookingAtTokens() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            UUID client = UUID.randomUUID();
            welcomed(hello(core, client, Message.NONE));
            CoreConn c = new CoreConn(core);
            core.onMessage(c.peer, new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, client, "n", 5,
                List.of(), List.of(), new byte[0], UUID.randomUUID()));
            core.endRound();
            Message.Error e = assertInstanceOf(Message.Error.class, c.received.getFirst());
            assertEquals(ErrorCode.SERVER_BEHIND, e.code());
            assertTrue(e.text().startsWith("node 'n' has every change up to 5, but this server's database ends at 0"), e.text());
        }
    }

    /**
     * A server restored from a backup taken before a node's last link, with no change since: the
     * node's lastSeq is not above the server's, but its token is newer than any the server issued.
     * The server says it is behind; before, it told the node it was an older copy of itself and to
     * start over in a new folder, which would have thrown away the node's good data.
     */
    @Test
    void aServerRestoredFromBeforeANodesLastLinkSaysItIsBehindNotThatTheNodeIsACopy() throws IOException {
        UUID client = UUID.randomUUID();
        UUID t1;
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            t1 = linkAndStore(core, client, Message.NONE);
        }
        copy(dir.resolve("server"), dir.resolve("server-backup"));
        UUID t2;
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            t2 = linkAndStore(core, client, t1);
        }
        assertEquals(1, t1.getMostSignificantBits(), "tokens number the node's links");
        assertEquals(2, t2.getMostSignificantBits());
        try (ServerCore restored = ServerCore.open(dir.resolve("server-backup"), SyncFixture.APP, 100)) {
            Message.Error e = assertInstanceOf(Message.Error.class, hello(restored, client, t2));
            assertEquals(ErrorCode.SERVER_BEHIND, e.code(), e.text());
            assertTrue(e.text().startsWith("node 'n' (" + client + ") presents link 2, but this server's database knows "
                + "its links only up to 1"), e.text());
            // Nothing changed: a node holding the token the backup knows still links.
            assertInstanceOf(Message.Welcome.class, hello(restored, client, t1));
        }
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Message.Error e = assertInstanceOf(Message.Error.class, hello(core, client, t1));
            assertEquals(ErrorCode.NODE_COPY, e.code(), "the current server still calls an older token a copy: " + e.text());
        }
    }

    /**
     * NODE_COPY names the node by the name the server knows it by (its last accepted Hello), not
     * by the name the copy's Hello gives: the copy may run under another name. And a server that
     * has no entry for a client presenting a non-zero token never issued it in this database: it
     * is behind the node's first link (SERVER_BEHIND), and its text does not show the server's
     * folder.
     */
    @Test
    void nodeCopyNamesTheNodeThatLinkedAndANonZeroTokenWithoutAnEntryIsServerBehind() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            UUID client = UUID.randomUUID();
            UUID t1 = linkAndStore(core, client, Message.NONE);
            linkAndStore(core, client, t1);
            CoreConn c = new CoreConn(core);
            Message.Error e = assertInstanceOf(Message.Error.class, c.send(new Message.Hello(FrameCodec.PROTOCOL_VERSION,
                SyncFixture.APP, client, "the-copy", 0, List.of(), List.of(), new byte[0], t1)).getFirst());
            assertEquals(ErrorCode.NODE_COPY, e.code(), e.text());
            assertTrue(e.text().startsWith("this database is a copy of node 'n' (" + client + ") as it was before the node's last"
                    + " link: the node, or another copy of its database, has linked since"), e.text());

            UUID stranger = UUID.randomUUID();
            e = assertInstanceOf(Message.Error.class, hello(core, stranger, new UUID(3, 77)));
            assertEquals(ErrorCode.SERVER_BEHIND, e.code(), e.text());
            assertTrue(e.text().startsWith("node 'n' (" + stranger + ") presents link 3, but this server's database has "
                + "no link with it: either this server's database is older than what it served"), e.text());
            assertTrue(!e.text().contains(dir.toString()), e.text());
            // Nothing was stored: the zero token (a node that linked before tokens existed, or never) links.
            assertInstanceOf(Message.Welcome.class, hello(core, stranger, Message.NONE));
        }
    }

    /** Links {@code client} presenting {@code token} and confirms the new token, as a node does. */
    private static UUID linkAndStore(ServerCore core, UUID client, UUID token) {
        CoreConn c = new CoreConn(core);
        core.onMessage(c.peer, new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, client, "n", 0,
            List.of(), List.of(), new byte[0], token));
        UUID next = welcomedNow(core, c);
        core.onMessage(c.peer, new Message.LinkStored(next));
        core.endRound();
        core.disconnected(c.peer);
        return next;
    }

    /** The Welcome of {@code c}, which the round sends once it committed. */
    private static UUID welcomedNow(ServerCore core, CoreConn c) {
        core.endRound();
        return welcomed(c.received.getFirst());
    }

    @Test
    void aRestoredBackupOfANodeIsRefusedAndChangesNothingAndTheNodeGoesOn() throws IOException {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            SyncFixture.await("a has ids", () -> f.events.get(a).stream().anyMatch(e -> e instanceof dev.cairn.Event.KeysReceived));
            for (int i = 0; i < 3; i++) pa.insert(part(i));
            SyncFixture.await("the server has 3", () -> f.server.sequence() == 3);
            a.disconnect();
            f.clients.remove(a);
            a.close();
            copy(dir.resolve("a"), dir.resolve("a-backup"));       // the backup

            Cairn a2 = f.open("a");
            a2.connect("127.0.0.1", f.port()).orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
            Tree<Part> pa2 = a2.tree(Part.class);
            long base = f.server.sequence();    // 3, or more when acks were still on their way at the close
            List<Key<Part>> later = new ArrayList<>();
            for (int i = 3; i < 6; i++) later.add(pa2.insert(part(i)));
            SyncFixture.await("the server has the later three", () -> f.server.sequence() == base + 3);
            f.clients.remove(a2);
            a2.close();
            Path current = dir.resolve("a-current");
            Files.move(dir.resolve("a"), current);
            copy(dir.resolve("a-backup"), dir.resolve("a"));       // the restore

            Cairn restored = f.open("a");
            CompletionException e = assertThrows(CompletionException.class, () -> restored.connect("127.0.0.1", f.port())
                .orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join());
            String refusal = "NODE_COPY: this database is a copy of node 'a' (" + restored.nodeId() + ") as it was before the"
                + " node's last link: the node, or another copy of its database, has linked since";
            assertTrue(e.getCause().getMessage().contains(refusal), e.getCause().getMessage());
            // As SERVER_BEHIND and APP_ID refusals are, the stop is announced also while the connect waits (probe 35).
            SyncFixture.await("a Disconnected names the refusal", () -> f.events.get(restored).stream().anyMatch(ev ->
                ev instanceof dev.cairn.Event.Disconnected d && d.reason().startsWith("sync stopped for good: ")
                    && d.reason().contains(refusal)));
            assertEquals(3, restored.tree(Part.class).size(), "the copy changed nothing");
            assertEquals(base + 3, f.server.sequence(), "the server changed nothing");
            Tree<Part> pb = b.tree(Part.class);
            SyncFixture.await("b has the records made after the backup", () -> later.stream().allMatch(pb::contains));
            for (int i = 0; i < 3; i++) assertEquals(part(i + 3), pb.get(later.get(i)), "b keeps what the node made after the backup");
            f.clients.remove(restored);
            restored.close();

            // The node's own folder (not the copy) still links and syncs.
            Files.move(dir.resolve("a"), dir.resolve("a-refused"));
            Files.move(current, dir.resolve("a"));
            Cairn back = f.connected("a");
            Key<Part> k = back.tree(Part.class).insert(part(9));
            SyncFixture.await("b has the node's next record", () -> pb.contains(k));
            assertEquals(7, pb.size());
        }
    }

    /**
     * A backup taken while the node stays connected carries the token the node still uses, so the
     * server takes the restored copy for the node (§5.7). Its catch-up brings the records the node
     * made after the backup, under ids the copy's pool still offered: the copy leaves those ids
     * unused. Before, its next inserts took them again and, as the same client, replaced those
     * records on the server and every node.
     */
    @Test
    void aCopyTakenWhileConnectedNeverHandsOutAnIdItSeesUsed() throws IOException {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            SyncFixture.await("a has ids", () -> f.events.get(a).stream().anyMatch(e -> e instanceof dev.cairn.Event.KeysReceived));
            for (int i = 0; i < 3; i++) pa.insert(part(i));
            SyncFixture.await("the server has 3", () -> f.server.sequence() == 3);
            dev.cairn.store.ForeignBackup.copy(dir.resolve("a"), dir.resolve("a-backup")); // online, same connection
            List<Key<Part>> later = new ArrayList<>();
            for (int i = 3; i < 6; i++) later.add(pa.insert(part(i)));
            SyncFixture.await("b has the records made after the backup", () -> later.stream().allMatch(pb::contains));
            f.clients.remove(a);
            a.close();
            Files.move(dir.resolve("a"), dir.resolve("a-lost"));
            copy(dir.resolve("a-backup"), dir.resolve("a"));       // the machine died; its backup is restored

            Cairn restored;
            try (dev.cairn.testing.LogLines log = new dev.cairn.testing.LogLines(dev.cairn.db.SyncReplica.class)) {
                restored = f.connected("a");
                Tree<Part> pr = restored.tree(Part.class);
                SyncFixture.await("the copy has the records made after the backup", () -> later.stream().allMatch(pr::contains));
                SyncFixture.await("the copy says so", () -> !log.containing("not handed out again").isEmpty());
                // One line for the tree, not one per record (probe 35: 134 lines for 134 records).
                List<String> said = log.containing("not handed out again");
                assertEquals(1, said.size(), said.toString());
                long low = later.stream().mapToLong(Key::id).min().orElseThrow();
                long high = later.stream().mapToLong(Key::id).max().orElseThrow();
                assertTrue(said.getFirst().startsWith("3 record(s) of tree Part (ids " + low + " to " + high + ") arrived from"
                    + " the server with ids this node had not handed out yet: this database is an older copy of node "
                    + restored.nodeId()), said.getFirst());
                assertTrue(said.getFirst().endsWith(" id(s) of tree Part up to " + high + " are not handed out again"),
                    said.getFirst());
            }
            Tree<Part> pr = restored.tree(Part.class);
            List<Key<Part>> next = new ArrayList<>();
            for (int i = 10; i < 13; i++) next.add(pr.insert(part(i)));
            for (Key<Part> k : next) assertFalse(later.contains(k), k + " was handed out before the copy was restored");
            SyncFixture.await("b has the copy's records", () -> next.stream().allMatch(pb::contains));
            for (int i = 0; i < 3; i++) {
                assertEquals(part(i + 3), pb.get(later.get(i)), "b keeps what the node made after the backup");
                assertEquals(part(i + 10), pb.get(next.get(i)));
            }
            assertEquals(9, pb.size());
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else if (!p.getFileName().toString().equals("lock")) Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
