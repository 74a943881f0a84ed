package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.RecordState;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Doc;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * New revisions of a record on other nodes than its creator (database-layout.md §5: newRevision
 * needs no check-out; sync-protocol.md §5.1). Before, the server refused a revision from any node
 * but the one whose id range held the id (NOT_YOUR_ID), after the node had accepted it; and when
 * two nodes made the same revision apart, the second was silently replaced by the first with no
 * ChangeRefused.
 */
@Timeout(60)
class RevisionSyncTest {
    @TempDir Path dir;

    private static List<Event> refusals(SyncFixture f, Cairn c) {
        return f.events.get(c).stream().filter(e -> e instanceof Event.ChangeRefused).toList();
    }

    /** A record {@code maker} creates and releases, once {@code other} holds it released. */
    private static Key<Doc> releasedOnBoth(Tree<Doc> maker, Tree<Doc> other) {
        Key<Doc> k = maker.insert(new Doc("manual", 10));
        maker.release(k);
        await("the other node sees it released", () -> other.contains(k) && other.meta(k).state() instanceof RecordState.Released);
        return k;
    }

    @Test
    void anyNodeMakesTheNextRevisionOfAReleasedRecord() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Doc> da = a.tree(Doc.class);
            Tree<Doc> db = b.tree(Doc.class);
            Key<Doc> first = releasedOnBoth(da, db);
            Key<Doc> next = db.newRevision(first);
            assertEquals(new Key<>("Doc", first.id(), 1), next);
            await("a has b's revision", () -> da.contains(next));
            db.checkOut(next).orTimeout(10, TimeUnit.SECONDS).join();
            db.update(next, new Doc("manual", 12));
            await("a has b's edit", () -> da.get(next).equals(new Doc("manual", 12)));
            db.release(next);
            db.checkIn(next);
            await("a sees it released", () -> da.meta(next).state() instanceof RecordState.Released);
            Key<Doc> third = da.newRevision(next); // the creator revises b's revision
            await("b has a's revision", () -> db.contains(third));
            assertEquals(List.of(), refusals(f, a));
            assertEquals(List.of(), refusals(f, b));
            assertEquals(List.of(first, next, third), db.keys());
        }
    }

    /** Both orders: the id's owner reaches the server first, and the other node does. */
    @Test
    void theSecondOfTwoRevisionsMadeApartIsRefusedAndReplacedByTheFirst() {
        for (boolean ownerFirst : new boolean[] {true, false}) {
            try (SyncFixture f = new SyncFixture(dir.resolve(ownerFirst ? "owner-first" : "other-first"))) {
                Cairn a = f.connected("a");
                Cairn b = f.connected("b");
                Tree<Doc> da = a.tree(Doc.class);
                Tree<Doc> db = b.tree(Doc.class);
                Key<Doc> first = releasedOnBoth(da, db);
                a.disconnect();
                b.disconnect();
                long before = f.server.sequence(); // the insert and release (one CREATED if a sent them together)
                Key<Doc> ra = da.newRevision(first);
                da.setStateNumber(ra, 11);
                Key<Doc> rb = db.newRevision(first);
                db.setStateNumber(rb, 22);
                assertEquals(ra, rb);
                Cairn winner = ownerFirst ? a : b;
                Cairn loser = ownerFirst ? b : a;
                int winningNumber = ownerFirst ? 11 : 22;
                SyncTest.connect(winner, f).join();
                await("the server has the winner's revision", () -> f.server.sequence() > before);
                SyncTest.connect(loser, f).join();
                Tree<Doc> lost = loser.tree(Doc.class);
                await("the loser was told", () -> refusals(f, loser).size() == 1, 10_000, () -> "" + f.events.get(loser));
                Event.ChangeRefused refused = (Event.ChangeRefused) refusals(f, loser).getFirst();
                assertEquals(ra, refused.key());
                assertTrue(refused.reason().startsWith("REVISION_TAKEN: revision 1 of Doc/" + first.id() + " was made first by node '"
                    + (ownerFirst ? "a" : "b") + "'"), refused.reason());
                await("the loser holds the winner's revision", () -> lost.meta(ra).state().equals(new RecordState.Draft(winningNumber)));
                assertEquals(winner.nodeId(), lost.meta(ra).modifiedOn());
                assertEquals(List.of(), refusals(f, winner));
                assertEquals(new RecordState.Draft(winningNumber), winner.tree(Doc.class).meta(ra).state());
            }
        }
    }

    /**
     * A draft revision that was removed is a tombstone for good, and the record can still be
     * revised: the next revision comes after it, on the node that removed it, on a node that
     * only heard of the removal, and from a node that is not the id's owner. Before, newRevision
     * handed the removed number out again; the server refused it (REMOVED) and it vanished on
     * every node, so the record could never be revised again.
     */
    @Test
    void aRemovedRevisionStaysRemovedAndTheNextRevisionComesAfterIt() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Doc> da = a.tree(Doc.class);
            Tree<Doc> db = b.tree(Doc.class);
            Key<Doc> first = releasedOnBoth(da, db);
            Key<Doc> abandoned = db.newRevision(first);            // b, not the id's owner, revises
            await("a has it", () -> da.contains(abandoned));
            db.checkOut(abandoned).orTimeout(10, TimeUnit.SECONDS).join();
            db.remove(abandoned);
            await("a sees it removed", () -> !da.contains(abandoned));

            Key<Doc> second = da.newRevision(first);               // a heard of the removal only
            assertEquals(new Key<>("Doc", first.id(), 2), second);
            await("b has a's revision", () -> db.contains(second));
            da.checkOut(second).orTimeout(10, TimeUnit.SECONDS).join();
            da.remove(second);
            await("b sees it removed", () -> !db.contains(second));

            Key<Doc> third = db.newRevision(first);                // b removed one itself and heard of the other
            assertEquals(new Key<>("Doc", first.id(), 3), third);
            await("a has b's revision", () -> da.contains(third));
            assertEquals(List.of(), refusals(f, a));
            assertEquals(List.of(), refusals(f, b));
            assertEquals(List.of(first, third), da.keys());
            assertEquals(List.of(first, third), db.keys());
        }
    }

    /** Standalone too, across a reopen: a removed revision number is never handed out again. */
    @Test
    void aStandaloneDatabaseNeverReusesARemovedRevisionNumber() {
        Path folder = dir.resolve("alone");
        Key<Doc> first;
        try (Cairn c = Cairn.open(folder)) {
            Tree<Doc> docs = c.tree(Doc.class);
            first = docs.insert(new Doc("manual", 1));
            docs.release(first);
            Key<Doc> draft = docs.newRevision(first);
            docs.checkOut(draft).join();
            docs.remove(draft);
        }
        try (Cairn c = Cairn.open(folder)) {
            Tree<Doc> docs = c.tree(Doc.class);
            assertEquals(new Key<>("Doc", first.id(), 2), docs.newRevision(first));
        }
    }
}
