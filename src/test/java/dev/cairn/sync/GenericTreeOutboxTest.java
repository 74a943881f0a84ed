package dev.cairn.sync;

import static dev.cairn.sync.OutboxTest.entry;
import static dev.cairn.sync.OutboxTest.pending;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.RecordState;
import dev.cairn.db.Database;
import dev.cairn.db.GenericTreeImpl;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class-free remove and state changes ({@code GenericTree}, what the inspector uses) write
 * the outbox entries the typed ones write (OutboxTest), and reach another node through the server.
 */
class GenericTreeOutboxTest {
    @TempDir Path dir;

    private static Database node(Path folder, String name) {
        return Database.open(folder, name, "u", SyncFixture.APP, 1 << 16);
    }

    @Test
    void removeAndStateChangesWithoutTheRecordClassesSyncAsTypedOnes() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database a = node(dir.resolve("a"), "a");
             Database b = node(dir.resolve("b"), "b")) {
            SyncReplica ra = SyncReplica.install(a);
            TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
            TreeImpl<Doc> docs = TreeImpl.open(a, Doc.class, null);
            ManualLink la = new ManualLink(core, ra);
            la.settle();
            Key<Part> p1 = parts.insert(part(1));
            Key<Part> p2 = parts.insert(part(2));
            Key<Doc> d = docs.insert(new Doc("manual", 10));
            CompletableFuture<Void> grant = parts.checkOut(p2);
            la.session.checkOut(p2); // what SyncClient does
            la.settle();
            assertTrue(grant.isDone(), "check-out granted");
            assertEquals(List.of(), pending(ra), "the server acknowledged every change");
            la.cut();

            GenericTreeImpl gp = GenericTreeImpl.open(a, "Part");
            GenericTreeImpl gd = GenericTreeImpl.open(a, "Doc");
            gp.remove(p2.id(), p2.revision());
            gd.setStateNumber(d.id(), d.revision(), 3);
            gd.release(d.id(), d.revision());
            Key<?> d1 = gd.newRevision(d.id(), d.revision());
            assertEquals(new Key<>("Doc", d.id(), 1), d1);
            assertEquals(List.of(entry("REMOVED", p2), entry("CHANGED", d), entry("CREATED", d1)), pending(ra));
            assertEquals(new RecordState.Released(3), gd.meta(d.id(), d.revision()).state());
            assertEquals(2, gd.meta(d.id(), d.revision()).metaIteration(), "setStateNumber and release: +1 each");
            assertEquals(0, gd.meta(d.id(), d.revision()).dataIteration());

            la = new ManualLink(core, ra);
            la.settle();
            assertEquals(List.of(), pending(ra), "all sent and acknowledged");
            TreeImpl<Part> pb = TreeImpl.open(b, Part.class, null);
            TreeImpl<Doc> db = TreeImpl.open(b, Doc.class, null);
            new ManualLink(core, SyncReplica.install(b)).settle();
            assertEquals(List.of(p1), pb.keys());
            assertFalse(pb.contains(p2), "removed on a");
            assertEquals(new RecordState.Released(3), db.meta(d).state());
            assertEquals(List.of(d, new Key<>("Doc", d.id(), 1)), db.keys());
            assertEquals(new RecordState.Draft(0), db.meta(new Key<>("Doc", d.id(), 1)).state());
        }
    }
}
