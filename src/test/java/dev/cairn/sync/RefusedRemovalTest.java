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
 * A removal of a revision above 0 that the server refuses (here: an administrator broke the
 * check-out it was made under) brings the record back, and with it the revision's number:
 * the note that the revision was removed goes too. Before, the note stayed, and verify
 * reported "noted as removed, but the record exists" on a sound database (found by
 * SyncSimulationTest with administrators breaking check-outs).
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
}
