package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.NoIdsLeftException;
import dev.cairn.RecordState;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.TestFiles;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writes in a tree the node's connection does not replicate (spec/sync-protocol.md §5.6): they
 * stay in the outbox and go out once a connection replicates the tree again; nothing the node
 * does there blocks its connection or waits for an answer that cannot come.
 */
@Timeout(90)
class SelectiveSyncWritesTest {
    @TempDir Path dir;

    private static void connect(Cairn c, SyncFixture f, Set<String> trees) {
        c.connect("127.0.0.1", f.port(), trees).orTimeout(20, TimeUnit.SECONDS).join();
    }

    @Test
    void changesInATreeTheConnectionDoesNotReplicateStayPendingAndGoOutWhenItDoes() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Tree<Doc> docs = a.tree(Doc.class);
            Key<Doc> kept = docs.insert(new Doc("kept", 1));
            Key<Doc> gone = docs.insert(new Doc("gone", 2));
            docs.checkOut(kept).orTimeout(10, TimeUnit.SECONDS).join();
            docs.checkOut(gone).orTimeout(10, TimeUnit.SECONDS).join();
            Cairn b = f.connected("b");
            Tree<Doc> bd = b.tree(Doc.class);
            Tree<Part> bp = b.tree(Part.class);
            await("b has both docs", () -> bd.contains(kept) && bd.contains(gone));

            connect(a, f, Set.of("Part"));
            long before = f.server.sequence();
            Key<Doc> added = docs.insert(new Doc("added", 3));
            docs.update(kept, new Doc("kept, edited", 10));
            docs.setStateNumber(kept, 4);
            docs.remove(gone);
            docs.release(added);
            Key<Part> p = a.tree(Part.class).insert(part(1));
            await("b has the part: the link ran past the doc changes", () -> bp.contains(p));
            assertEquals(before + 1, f.server.sequence(), "only the part reached the server");
            assertFalse(bd.contains(added));
            assertEquals(new Doc("kept", 1), bd.get(kept));
            assertTrue(bd.contains(gone));

            connect(a, f, Set.of()); // completes once the pending doc changes are acknowledged
            await("b has every doc change", () -> bd.contains(added) && !bd.contains(gone)
                && bd.get(kept).equals(new Doc("kept, edited", 10)) && bd.meta(kept).state().equals(new RecordState.Draft(4)));
            assertEquals(new RecordState.Released(0), bd.meta(added).state());
            assertEquals(new Doc("added", 3), bd.get(added));
        }
    }

    /**
     * The server is asked for ids of the replicated trees only, so an insert into another tree
     * whose pool is empty cannot get one: it fails at once, saying why, instead of waiting for a
     * range that is never asked for.
     */
    @Test
    void anInsertThatNeedsIdsOfATreeTheConnectionDoesNotReplicateFailsAtOnceSayingWhy() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.open("a");
            connect(a, f, Set.of("Part"));
            Tree<Doc> docs = a.tree(Doc.class); // new here: no ids
            long start = System.nanoTime();
            NoIdsLeftException e = assertThrows(NoIdsLeftException.class, () -> docs.insert(new Doc("x", 1)));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 3_000, "failed after " + millis + " ms");
            assertTrue(e.getMessage().contains("Doc") && e.getMessage().contains("[Part]"), e.getMessage());
            assertEquals(0, docs.size());
            Key<Part> p = a.tree(Part.class).insert(part(1)); // the replicated tree gets its ids
            assertEquals(part(1), a.tree(Part.class).get(p));
        }
    }

    /**
     * A check-in of a record with a pending change waits for that change's Ack (§4.1 step 3),
     * which a connection without the tree never gets: the connection must not wait for it. The
     * check-in goes out after the change once a connection replicates the tree again.
     */
    @Test
    void aCheckInWithAPendingChangeInATreeTheConnectionDoesNotReplicateDoesNotBlockConnect() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Tree<Doc> docs = a.tree(Doc.class);
            Key<Doc> d = docs.insert(new Doc("draft", 1));
            docs.checkOut(d).orTimeout(10, TimeUnit.SECONDS).join();
            Cairn b = f.connected("b");
            Tree<Doc> bd = b.tree(Doc.class);
            await("b has the doc", () -> bd.contains(d));

            f.server.close(); // so that the check-in below reaches the next session before it links
            await("a noticed", () -> !a.isConnected());
            docs.update(d, new Doc("edited", 2));
            CompletableFuture<Void> linked = a.connect("127.0.0.1", f.port(), Set.of("Part"));
            docs.checkIn(d);
            assertEquals(new BorrowState.Free(), docs.borrowState(d));
            f.startServer();
            linked.orTimeout(20, TimeUnit.SECONDS).join();

            await("b is back", b::isConnected);
            CompletableFuture<Void> bHolds = bd.checkOut(d);
            await("b waits behind a", () -> bd.borrowState(d) instanceof BorrowState.Waiting w && w.holder().equals(a.nodeId()));
            assertEquals(new Doc("draft", 1), bd.get(d));

            connect(a, f, Set.of());
            bHolds.orTimeout(20, TimeUnit.SECONDS).join();
            assertEquals(new Doc("edited", 2), bd.get(d), "the change went out before the check-in");
        }
    }

    /** The same check-in made once the connection without the tree is up: delivered with its change later. */
    @Test
    void aCheckInWithAPendingChangeMadeWhileTheTreeIsNotReplicatedGoesOutWithTheTree() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Tree<Doc> docs = a.tree(Doc.class);
            Key<Doc> d = docs.insert(new Doc("draft", 1));
            docs.checkOut(d).orTimeout(10, TimeUnit.SECONDS).join();
            Cairn b = f.connected("b");
            Tree<Doc> bd = b.tree(Doc.class);
            await("b has the doc", () -> bd.contains(d));
            CompletableFuture<Void> bHolds = bd.checkOut(d);
            await("b waits behind a", () -> bd.borrowState(d) instanceof BorrowState.Waiting);

            connect(a, f, Set.of("Part"));
            docs.update(d, new Doc("edited", 2));
            docs.checkIn(d);
            Key<Part> p = a.tree(Part.class).insert(part(1));
            await("b has the part: the link ran past the check-in", () -> b.tree(Part.class).contains(p));
            assertFalse(bHolds.isDone(), "the check-in waits for its change");
            assertEquals(new Doc("draft", 1), bd.get(d));

            connect(a, f, Set.of());
            bHolds.orTimeout(20, TimeUnit.SECONDS).join();
            assertEquals(new Doc("edited", 2), bd.get(d), "the change went out before the check-in");
        }
    }

    /** Without a pending change there is nothing to wait for: the server hears of the check-in at once. */
    @Test
    void aCheckInWithoutAPendingChangeInATreeTheConnectionDoesNotReplicateFreesTheRecordAtOnce() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Tree<Doc> docs = a.tree(Doc.class);
            Key<Doc> d = docs.insert(new Doc("draft", 1));
            docs.checkOut(d).orTimeout(10, TimeUnit.SECONDS).join();
            Cairn b = f.connected("b");
            Tree<Doc> bd = b.tree(Doc.class);
            await("b has the doc", () -> bd.contains(d));
            CompletableFuture<Void> bHolds = bd.checkOut(d);
            await("b waits behind a", () -> bd.borrowState(d) instanceof BorrowState.Waiting);

            connect(a, f, Set.of("Part"));
            docs.checkIn(d);
            bHolds.orTimeout(20, TimeUnit.SECONDS).join();
            assertEquals(new BorrowState.Mine(), bd.borrowState(d));
            assertEquals(new BorrowState.Free(), docs.borrowState(d));
        }
    }

    /**
     * A tree left out of a connection and named again later gets what other nodes changed
     * meanwhile (a full catch-up), and records unchanged meanwhile are not written again. Before,
     * the node caught up from its last sequence and never got those changes.
     */
    @Test
    void aTreeNamedAgainGetsWhatOtherNodesChangedWhileItWasLeftOut() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Doc> ad = a.tree(Doc.class);
            Tree<Doc> bd = b.tree(Doc.class);
            Key<Doc> kept = bd.insert(new Doc("unchanged", 1));
            Key<Doc> edited = bd.insert(new Doc("before", 1));
            await("a has b's docs", () -> ad.contains(kept) && ad.contains(edited));

            connect(a, f, Set.of("Part"));
            bd.checkOut(edited).orTimeout(20, TimeUnit.SECONDS).join();
            bd.update(edited, new Doc("after", 2));
            Key<Doc> added = bd.insert(new Doc("new", 3));
            Key<Part> p = b.tree(Part.class).insert(part(1));
            await("a runs past b's doc changes", () -> a.tree(Part.class).contains(p));
            assertEquals(new Doc("before", 1), ad.get(edited), "a left Doc out");

            connect(a, f, Set.of("Part"));  // the same set again: nothing to catch up
            assertEquals(new Doc("before", 1), ad.get(edited));

            int eventsBefore = f.events.get(a).size();
            connect(a, f, Set.of());
            assertEquals(new Doc("after", 2), ad.get(edited));
            assertEquals(new Doc("new", 3), ad.get(added));
            assertEquals(new Doc("unchanged", 1), ad.get(kept));
            java.util.List<dev.cairn.Event> all = java.util.List.copyOf(f.events.get(a));
            java.util.List<dev.cairn.Event> since = all.subList(eventsBefore, all.size());
            assertFalse(since.stream().anyMatch(e -> e instanceof dev.cairn.Event.RecordChanged c && c.key().equals(kept)),
                "a record a held as the server sent it is not written again: " + since);
            assertFalse(since.stream().anyMatch(e -> e instanceof dev.cairn.Event.RecordChanged c && c.key().equals(p)),
                "nor one of a tree it kept: " + since);
        }
    }

    /**
     * A full catch-up sends lastSeq 0. From version 5 its Hello still names the run and sequence
     * the node synced up to, so the server refuses it; a version 4 Hello does not (the proxy
     * refuses version 5, as an older server does), and the node checks the Welcome's sequence
     * itself. Here the server is restored from a backup taken after the node's last link (its
     * link token still matches) but before the node's last change.
     */
    @Test
    void aFullCatchUpFromAServerBehindTheNodeStopsWithNothingChanged() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            connect(a, f, Set.of("Part"));
            Tree<Part> parts = a.tree(Part.class);
            Key<Part> early = parts.insert(part(1));
            connect(a, f, Set.of("Part")); // acknowledged; the link a presents from now on
            dev.cairn.store.ForeignBackup.copy(dir.resolve("server"), dir.resolve("server-backup"));
            Key<Part> late = parts.insert(part(2));
            await("b has a's late part", () -> b.tree(Part.class).contains(late));
            Key<Part> fromB = b.tree(Part.class).insert(part(3));
            // pushed to a after the Ack of its late part: a's sequence is past the backup's
            await("a has b's part", () -> parts.contains(fromB));
            a.disconnect();

            f.server.close();
            TestFiles.deleteTree(dir.resolve("server"));
            java.nio.file.Files.move(dir.resolve("server-backup"), dir.resolve("server"));
            f.startServer();
            java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> a.connect("127.0.0.1", f.port(), Set.of()).get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().startsWith("SERVER_BEHIND: node 'a' has every change up to "),
                e.getCause().getMessage());
            assertTrue(parts.contains(early) && parts.contains(late), "nothing changed on the node");
            a.disconnect();
            try (dev.cairn.testing.SyncProxy proxy = new dev.cairn.testing.SyncProxy(f.port())) {
                proxy.gate = h -> h.protocolVersion() > 4 ? new dev.cairn.sync.Message.Error(ErrorCode.VERSION,
                    "protocol version " + h.protocolVersion() + " (expected: 2 to 4)") : null;
                e = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> a.connect("127.0.0.1", proxy.port(), Set.of()).get(20, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().startsWith("SERVER_BEHIND: this node has every change up to "),
                    e.getCause().getMessage());
                a.disconnect();
            }
            assertTrue(parts.contains(early) && parts.contains(late), "nothing changed on the node");
        }
    }
}
