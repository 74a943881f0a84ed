package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.LayoutCheck;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures.Doc;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A revision above 0 that this node noted as removed and that then comes from the server takes
 * the note with it: its removal refused (here: an administrator broke the check-out it was made
 * under), or a new revision this node made refused (the node then drops it and notes its number)
 * and made again by the id's owner. Before, the note stayed, and verify reported "noted as
 * removed, but the record exists" on a sound database (both found by SyncSimulationTest).
 */
class RefusedRemovalTest {
    @TempDir Path dir;

    @Test
    void aRefusedRemovalOfARevisionLeavesNoNoteThatItWasRemoved() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database a = Database.open(dir.resolve("a"), "a", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica ra = SyncReplica.install(a);
            TreeImpl<Doc> docs = TreeImpl.open(a, Doc.class, null);
            ManualLink link = new ManualLink(core, ra);
            link.settle();
            Key<Doc> first = docs.insert(new Doc("spec", 1));
            docs.release(first);
            Key<Doc> second = docs.newRevision(first);
            docs.checkOut(second);
            link.session.checkOut(second);
            link.settle();
            assertTrue(docs.borrowState(second) instanceof dev.cairn.BorrowState.Mine);

            docs.remove(second);
            assertTrue(core.breakCheckOut(second), "the administrator breaks the check-out before the removal arrives");
            link.settle();

            assertEquals(new Doc("spec", 1), docs.get(second), "the refused removal is rolled back");
            assertTrue(link.received.stream().anyMatch(m -> m instanceof Message.Refused r
                && r.code() == ErrorCode.NOT_CHECKED_OUT && r.current().key().equals(second)), link.received.toString());
            assertEquals(List.of(), a.read(LayoutCheck::problems));
            docs.release(second); // needs no check-out
            assertEquals(2, docs.newRevision(second).revision(), "the next revision after the one that came back");
            link.settle();
            assertEquals(List.of(), a.read(LayoutCheck::problems));
        }
    }

    @Test
    void aRevisionRefusedHereThatTheOwnerMakesLaterLeavesNoNoteThatItWasRemoved() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database a = Database.open(dir.resolve("a"), "a", "u", SyncFixture.APP, 1 << 16);
             Database b = Database.open(dir.resolve("b"), "b", "u", SyncFixture.APP, 1 << 16)) {
            TreeImpl<Doc> da = TreeImpl.open(a, Doc.class, null);
            TreeImpl<Doc> db = TreeImpl.open(b, Doc.class, null);
            ManualLink la = new ManualLink(core, SyncReplica.install(a));
            ManualLink lb = new ManualLink(core, SyncReplica.install(b));
            la.settle();
            lb.settle();
            Key<Doc> first = da.insert(new Doc("spec", 1)); // a's id
            la.settle();
            lb.settle();
            assertEquals(new Doc("spec", 1), db.get(first));

            // b, apart: releases the record and makes its next revision; a meanwhile changes its state.
            db.release(first);
            Key<Doc> second = db.newRevision(first);
            da.setStateNumber(first, 3);
            la.settle();
            lb.settle();
            assertTrue(lb.received.stream().anyMatch(m -> m instanceof Message.Refused r
                && r.code() == ErrorCode.NOT_YOUR_ID && r.current().key().equals(second)), lb.received.toString());
            assertTrue(!db.contains(second), "the refused revision is gone from b");
            assertEquals(List.of(), b.read(LayoutCheck::problems));

            // The owner releases it and makes the same revision, which reaches b.
            da.release(first);
            assertEquals(second, da.newRevision(first));
            la.settle();
            lb.settle();
            assertEquals(new Doc("spec", 1), db.get(second), "b holds the owner's revision");
            assertEquals(List.of(), b.read(LayoutCheck::problems));
        }
    }
}
