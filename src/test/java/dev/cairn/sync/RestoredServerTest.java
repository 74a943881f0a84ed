package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.store.ForeignBackup;
import dev.cairn.sync.net.SyncClient;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.LogLines;
import dev.cairn.testing.SyncProxy;
import dev.cairn.testing.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server restored from a backup (README, Sync; sync-protocol.md §4.2 step 1, §5.7) refuses,
 * with SERVER_BEHIND, every node that synced or linked after that backup, and changes nothing;
 * a node that reconnects to the same server run, or to a restarted one, is served as always.
 * Real servers on sockets: one run on a folder, a live backup of it ({@link ForeignBackup}, as
 * {@code cairn backup} takes one), and a run on that backup in the folder's place.
 */
@Timeout(120)
class RestoredServerTest {
    @TempDir Path dir;

    /** Takes a backup of the running server's folder, as {@code cairn backup} does. */
    private void backup() {
        ForeignBackup.copy(dir.resolve("server"), dir.resolve("server-backup"));
    }

    /** Stops the server, puts the backup in its folder's place and starts a server on it (same port). */
    private void restore(SyncFixture f) throws Exception {
        f.server.close();
        Files.move(dir.resolve("server"), dir.resolve("server-newest"));
        Files.move(dir.resolve("server-backup"), dir.resolve("server"));
        f.startServer();
    }

    private static void connect(Cairn c, SyncFixture f) {
        c.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
    }

    /** The connect of a linked node fails with SERVER_BEHIND; returns the message. */
    private static String refusedBehind(Cairn c, SyncFixture f) {
        CompletionException e = assertThrows(CompletionException.class, () -> connect(c, f));
        String text = e.getCause().getMessage();
        assertTrue(text.startsWith("SERVER_BEHIND: "), text);
        return text;
    }

    /** Waits until {@code a} has ids of Doc (issued after the backup), closes it and restores the server. */
    private void closeWithIdsOfDocAndRestore(SyncFixture f, Cairn a) throws Exception {
        await("a has ids of Doc", () -> f.events.get(a).stream().anyMatch(e -> e instanceof Event.KeysReceived k
            && k.tree().equals("Doc")));
        f.clients.remove(a);
        a.close();
        restore(f);
    }

    private static boolean hasKeys(SyncFixture f, Cairn c) {
        return f.events.get(c).stream().anyMatch(e -> e instanceof Event.KeysReceived);
    }

    /**
     * 1a: a node whose first link came after the backup presents a link token the restored
     * server has no entry for. Before, such a client was accepted as one that linked before
     * tokens existed, and the restored server issued its id ranges again to another node: both
     * created records with the same ids, and one replaced the other without ChangeRefused.
     */
    @Test
    void aNodeWhoseFirstLinkCameAfterTheBackupIsRefusedAsBehind() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            a.tree(Part.class).insert(part(1));
            await("the server has a's part", () -> f.server.sequence() == 1);
            a.disconnect();
            connect(a, f); // completes with a's ids in hand: none are issued to a after the backup
            backup();
            Cairn n = f.connected("n");
            Tree<Part> np = n.tree(Part.class);
            await("n has ids", () -> hasKeys(f, n));
            n.disconnect();
            Key<Part> offline = np.insert(part(2)); // made from ids the restored server never issued to n
            restore(f);

            // A version 5 node names the ids it holds, which this server never issued to it; a
            // version 4 node (no ids on the wire) is told by its link token (LinkTokenTest).
            String text = refusedBehind(n, f);
            assertTrue(text.contains("node 'n' holds ids of tree Part up to ") || text.contains("node 'n' (")
                && text.contains("presents link 1, but this server's database has no link with it"), text);
            assertTrue(text.contains("restored from a backup?") && text.contains("start the server on its newest database "
                + "folder"), text);
            assertFalse(text.contains(dir.toString()), "the server's folder is not the node's business: " + text);
            assertTrue(np.contains(offline), "the node keeps its data");
            assertEquals(1, f.server.sequence(), "the server changed nothing");

            // The same node with version 4 (through a proxy that refuses 5, as an older server
            // does): its link token, which this database never stored, tells.
            Cairn n4 = f.reopen(n, "n");
            try (SyncProxy proxy = new SyncProxy(f.port())) {
                proxy.gate = h -> h.protocolVersion() > 4
                    ? new Message.Error(ErrorCode.VERSION, "protocol version " + h.protocolVersion() + " (expected: 2 to 4)")
                    : null;
                CompletionException e = assertThrows(CompletionException.class, () -> n4.connect("127.0.0.1", proxy.port())
                    .orTimeout(20, TimeUnit.SECONDS).join());
                text = e.getCause().getMessage();
                assertTrue(text.startsWith("SERVER_BEHIND: node 'n' (") && text.contains("presents link 1, but this "
                    + "server's database has no link with it"), text);
                n4.disconnect();
            }
            assertTrue(n4.tree(Part.class).contains(offline));

            // The node the backup knows is served as before.
            a.disconnect();
            connect(a, f);
            assertTrue(a.isConnected());
        }
    }
    /**
     * A node that linked to a server started on a backup while the newest folder was away is
     * refused by the newest folder's server, back at the address: that run gave out sequences
     * and ids this folder gives to others. The text blamed this folder alone as older and said
     * "start the server on its newest database folder", which was the one running; neither
     * folder can tell which is newer, so it names both causes and what to do for each.
     */
    @Test
    void aNodeThatSyncedWithARestoredBackupIsToldBothCausesByTheNewestFolder() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn desk = f.connected("desk");
            desk.tree(Part.class).insert(part(1));
            await("the server has desk's first part", () -> f.server.sequence() == 1);
            backup();
            desk.tree(Part.class).insert(part(2));
            await("the server has desk's second part", () -> f.server.sequence() == 2);
            desk.disconnect();
            restore(f); // the newest folder is away; the backup serves meanwhile
            Cairn lab = f.connected("lab");
            Tree<Part> labParts = lab.tree(Part.class);
            Key<Part> made = labParts.insert(part(3));
            await("the backup's server has lab's part", () -> f.server.sequence() == 2);
            lab.disconnect();
            f.server.close();
            Files.move(dir.resolve("server"), dir.resolve("server-restored"));
            Files.move(dir.resolve("server-newest"), dir.resolve("server"));
            f.startServer(); // the newest folder is back

            String text;
            try (LogLines log = new LogLines(SyncClient.class)) {
                text = refusedBehind(lab, f);
                await("the node logs the refusal", () -> !log.containing("refused: SERVER_BEHIND").isEmpty());
                // It said "... keeps its data and keeps trying; this node keeps working offline and keeps trying".
                String line = log.containing("refused: SERVER_BEHIND").getFirst();
                assertTrue(line.endsWith("refused: " + text), line);
                assertEquals(1, line.split("keeps trying", -1).length - 1, line);
            }
            // Up to 2 once lab stored the acknowledgement of its part, else up to 1 (the disconnect may come first).
            text = text.replace("has every change up to 1 from", "has every change up to 2 from");
            assertTrue(text.startsWith("SERVER_BEHIND: node 'lab' has every change up to 2 from a run of this server that "
                + "this server's database does not know: either this server's database is older than what it served "
                + "(restored from a backup?): start the server on its newest database folder; or the node synced with a "
                + "server started on a backup of this database while this one was away, whose sequences and ids this "
                + "database gives to others: what the node made there is on the node only (README, Sync: a node that "
                + "synced with a restored backup)"), text);
            assertTrue(text.endsWith(". Nothing was changed; this node keeps its data and keeps trying"), text);
            assertTrue(labParts.contains(made), "the node keeps its data");
            assertEquals(2, f.server.sequence(), "the server changed nothing");
            connect(desk, f); // desk synced with this folder only: served
            assertTrue(desk.isConnected());
        }
    }

    /**
     * 1b: a node that stayed on one connection across the backup keeps the link token the backup
     * holds, and its changes acknowledged after the backup are not in the restored database. Once
     * other nodes pushed the restored server's sequence past the node's, it was served: its
     * changes were gone from the server for good, it never received some of the others' records,
     * and every side said it was in sync. Now it names the server run it synced in, and that run
     * went on past the backup's sequence.
     */
    @Test
    void aNodeThatSyncedAfterTheBackupOnOneConnectionIsRefusedOnceOthersPassedItsSequence() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Cairn c = f.connected("c");
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pc = c.tree(Part.class);
            Key<Part> early = pa.insert(part(1));
            await("c has a's part", () -> pc.contains(early));
            c.disconnect(); // offline from before the backup on
            backup();
            long backupSeq = f.server.sequence();
            Key<Part> late = pa.insert(part(2));
            await("b has a's late part", () -> b.tree(Part.class).contains(late));
            Key<Part> fromB = b.tree(Part.class).insert(part(3));
            await("a has b's part (after its late part's Ack: a synced past the backup)", () -> pa.contains(fromB));
            f.clients.remove(a);
            a.close();
            f.clients.remove(b);
            b.close();
            restore(f);
            assertEquals(backupSeq, f.server.sequence());

            connect(c, f); // synced before the backup only: served
            for (int i = 10; i < 15; i++) pc.insert(part(i));
            await("the restored server is past a's sequence", () -> f.server.sequence() >= backupSeq + 5);

            Cairn a2 = f.open("a");
            String text = refusedBehind(a2, f);
            assertTrue(text.contains("node 'a' has every change up to ") && text.contains(" from a run of this server, but "
                + "this server's database went on from " + backupSeq + " after that run"), text);
            assertTrue(text.contains("start the server on its newest database folder"), text);
            assertFalse(text.contains("either"), "this database has the run, and less of it: it is the older one: " + text);
            assertFalse(text.contains(dir.toString()), text);
            Tree<Part> pa2 = a2.tree(Part.class);
            assertTrue(pa2.contains(late) && pa2.contains(fromB), "the node keeps its data");
            assertEquals(backupSeq + 5, f.server.sequence(), "the server changed nothing");
            assertFalse(a2.isConnected());
        }
    }

    /**
     * 1c: a node that received an id range after the backup, and nothing that moved its
     * sequence (ranges do not), names the ids it holds. The restored server refuses it, both
     * before it issued that range again (ids above the last it issued) and after it gave the
     * range to another node (the node's ids are that node's). Before, both nodes created records
     * with the same ids.
     */
    @Test
    void aNodeHoldingIdsIssuedAfterTheBackupIsRefusedBeforeAndAfterTheyAreIssuedAgain() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            a.tree(Part.class).insert(part(1));
            await("the server has a's part", () -> f.server.sequence() == 1);
            backup();
            Tree<Doc> docs = a.tree(Doc.class); // a tree new to the server: its ranges come after the backup
            closeWithIdsOfDocAndRestore(f, a);

            Cairn a2 = f.open("a");
            String text = refusedBehind(a2, f);
            assertTrue(text.contains("node 'a' holds ids of tree Doc up to ") && text.contains("but this server's database "
                + "never issued ids of that tree"), text);
            f.clients.remove(a2);
            a2.close();

            Cairn m = f.connected("m");
            m.tree(Doc.class);
            m.disconnect();
            connect(m, f); // completes with m's whole reserve of Doc ids in hand: past every id a holds
            Key<Doc> mine = m.tree(Doc.class).insert(new Doc("m's", 1));
            Cairn a3 = f.open("a");
            text = refusedBehind(a3, f);
            assertTrue(text.contains("of tree Doc from this server, but this server's database lists that id as issued "
                + "to another node"), text);
            Key<Doc> offline = a3.tree(Doc.class).insert(new Doc("a's", 2));
            assertEquals(mine, offline, "the very id m holds: why a must not be served");
            assertEquals(new Doc("m's", 1), m.tree(Doc.class).get(mine));
        }
    }

    /**
     * 1d (probe 98): as 1c, but the node used up every id it held, offline: its key pool was
     * empty, its Hello named no pool, and once another node got the same range from the restored
     * server, it was served: the server refused its records (NOT_YOUR_ID) or replaced them with
     * the other node's, silently. The Hello names the highest id ever issued into the pool now,
     * so it is refused, and keeps its records.
     */
    @Test
    void aNodeThatUsedUpIdsIssuedAfterTheBackupIsRefusedOnceTheyAreIssuedAgain() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a"); // will hold ids of Doc only: no other tree's ids give it away
            backup();
            a.tree(Doc.class);
            closeWithIdsOfDocAndRestore(f, a);

            Cairn a2 = f.open("a");
            Tree<Doc> docs = a2.tree(Doc.class);
            int made = 0;
            try {
                while (made < 100_000) docs.insert(new Doc("a's", made++));
            } catch (dev.cairn.NoIdsLeftException used) {
                made--;
            }
            assertTrue(made > 0, "a had ids to use offline");
            f.clients.remove(a2);
            a2.close();

            Cairn m = f.connected("m");
            m.tree(Doc.class);
            m.disconnect();
            connect(m, f); // the restored server issues m the ranges a used
            Key<Doc> mine = m.tree(Doc.class).insert(new Doc("m's", 1));
            Cairn a3 = f.open("a");
            String text = refusedBehind(a3, f);
            assertTrue(text.contains("of tree Doc from this server, but this server's database lists that id as issued "
                + "to another node"), text);
            assertEquals(made, a3.tree(Doc.class).size(), "a keeps every record it made");
            assertEquals(new Doc("a's", 0), a3.tree(Doc.class).get(mine), "the very id m holds: why a must not be served");
            assertEquals(new Doc("m's", 1), m.tree(Doc.class).get(mine));
        }
    }

    /**
     * What must not be refused: a node that reconnects to the same server run, or to the server
     * restarted on its folder (not restored), after syncing changes in each; and a node that
     * synced only before a backup, on the server restored from it.
     */
    @Test
    void aNodeIsServedByTheSameRunAndByARestartedServerAndByABackupItDidNotSyncPast() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            List<Key<Part>> keys = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                keys.add(pa.insert(part(round)));
                Key<Part> fromB = pb.insert(part(100 + round));
                await("a has b's part", () -> pa.contains(fromB));
                a.disconnect();
                connect(a, f); // the same run
                keys.add(pa.insert(part(200 + round)));
                a.disconnect();
                b.disconnect();
                f.restartServer(); // a new run on the same folder
                connect(a, f);
                connect(b, f);
            }
            await("b has all of a's", () -> keys.stream().allMatch(pb::contains));
            // A backup a did not sync past: the restored server serves it.
            a.disconnect();
            backup();
            restore(f);
            connect(a, f);
            Key<Part> after = pa.insert(part(999));
            await("b, which reconnects by itself with the token the backup holds, gets it", () -> pb.contains(after));
        }
    }

    /**
     * Probe 73: a node moved back to a Cairn of protocol 4, which syncs with the restarted server
     * and stores its syncSeq without the run (it knows none), then upgraded again, named the run
     * of its earlier sequence with the later one, and the server took it for a node that synced
     * with a state its database lacks (restored from a backup): SERVER_BEHIND for good. The older
     * jar's sync is simulated by storing the server's sequence as the node's syncSeq alone.
     */
    @Test
    void aNodeWhoseSequenceAnOlderCairnMovedIsServedAgainByTheRestartedServer() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Tree<Part> pa = a.tree(Part.class);
            pa.insert(part(1));
            a.disconnect();
            connect(a, f); // stores the run with its sequence
            f.clients.remove(a);
            a.close();
            f.restartServer(); // a new run on the same folder
            Cairn b = f.connected("b");
            Tree<Part> pb = b.tree(Part.class);
            for (int i = 2; i < 5; i++) pb.insert(part(i));
            await("the server has b's parts", () -> f.server.sequence() >= 4);
            long seq = f.server.sequence();
            try (dev.cairn.store.Store store = dev.cairn.store.Store.open(dir.resolve("a"));
                 dev.cairn.store.WriteTxn w = store.beginWrite()) {
                w.put("cairn.node", "syncSeq".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                    java.nio.ByteBuffer.allocate(8).putLong(seq).array());
                w.commit();
            }
            a = f.open("a");
            connect(a, f);
            Key<Part> after = pb.insert(part(9));
            Tree<Part> pa2 = a.tree(Part.class);
            await("a gets b's next part", () -> pa2.contains(after));
        }
    }

    /**
     * Probe 73: a server of protocol 4 refuses a version 5, 6 or 7 Hello as malformed (its decoder
     * meets the fields it does not know: PROTOCOL "message tag 1 has N trailing bytes"), not as
     * VERSION; the node retried its newest Hello for ever and never linked. It now takes that
     * answer as a refusal of its version and offers the one below.
     */
    @Test
    void aVersion4ServersTrailingBytesRefusalOfTheHelloIsAVersionRefusal() throws Exception {
        try (SyncFixture f = new SyncFixture(dir); SyncProxy proxy = new SyncProxy(f.port())) {
            proxy.gate = h -> h.protocolVersion() > 4
                ? new Message.Error(ErrorCode.PROTOCOL, "message tag 1 has " + (h.protocolVersion() >= 6 ? 26 : 25) + " trailing bytes") : null;
            Cairn a = f.open("a");
            a.connect("127.0.0.1", proxy.port()).orTimeout(20, TimeUnit.SECONDS).join();
            Key<Part> k = a.tree(Part.class).insert(part(2));
            Cairn b = f.connected("b");
            await("b has a's part sent with version 4", () -> b.tree(Part.class).contains(k));
            assertEquals(List.of(9, 8, 7, 6, 5, 4), proxy.pairs.stream().map(p -> ((Message.Hello) p.up.getFirst()).protocolVersion()).toList());
        }
    }

    /**
     * Version fallback: a node of version 5 or later meeting an older server (the proxy refuses
     * versions 9 to 5 as a version 4 server does) links with version 4, which names no run; the
     * server serves that version 4 Hello as before. The node forgets the run it stored (its next
     * sequence comes from a connection that names none), and its next connection of its own
     * version is served.
     */
    @Test
    void aVersion5NodeLinksWithVersion4ThroughAnOlderServerAndVersion5Again() throws Exception {
        try (SyncFixture f = new SyncFixture(dir); SyncProxy proxy = new SyncProxy(f.port())) {
            Cairn a = f.connected("a");
            Tree<Part> pa = a.tree(Part.class);
            pa.insert(part(1));
            a.disconnect();
            connect(a, f); // stores the run with its sequence
            a.disconnect();
            proxy.gate = h -> h.protocolVersion() > 4
                ? new Message.Error(ErrorCode.VERSION, "protocol version " + h.protocolVersion() + " (expected: 2 to 4)") : null;
            a.connect("127.0.0.1", proxy.port()).orTimeout(20, TimeUnit.SECONDS).join();
            Key<Part> k = pa.insert(part(2));
            Cairn b = f.connected("b");
            await("b has a's part sent with version 4", () -> b.tree(Part.class).contains(k));
            assertEquals(List.of(9, 8, 7, 6, 5, 4), proxy.pairs.stream().map(p -> ((Message.Hello) p.up.getFirst()).protocolVersion()).toList());
            assertEquals(4, ((Message.Welcome) proxy.pairs.get(5).down.getFirst()).protocolVersion());
            a.disconnect();
            proxy.gate = null;
            connect(a, f);
            assertTrue(a.isConnected());
        }
    }
}
