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
}
