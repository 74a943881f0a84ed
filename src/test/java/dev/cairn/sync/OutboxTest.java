package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.RecordState;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's outbox (spec/database-layout.md §6), driven through {@link ManualLink}: once linked,
 * one pending change per record, in the order of each record's last change; never linked, no
 * entries at all, and the link writes one CREATED entry per record.
 */
class OutboxTest {
    @TempDir Path dir;

    /** The node's pending changes, oldest first, as "KIND tree/id/revision". */
    static List<String> pending(SyncReplica r) {
        return r.outbox(Set.of(), Integer.MAX_VALUE).stream()
            .map(p -> p.kind() + " " + p.key().tree() + "/" + p.key().id() + "/" + p.key().revision())
            .toList();
    }

    static String entry(String kind, Key<?> k) {
        return kind + " " + k.tree() + "/" + k.id() + "/" + k.revision();
    }

    private static Database node(Path folder, String name) {
        return Database.open(folder, name, "u", SyncFixture.APP, 1 << 16);
    }

    /** Links {@code node} (its trees opened already) and delivers until nothing moves. */
    private static void linkAndSettle(ServerCore core, Database node) {
        new ManualLink(core, SyncReplica.install(node)).settle();
    }

    @Test
    void aLinkedNodeKeepsOnePendingChangePerRecordInTheOrderOfTheirLastChanges() {
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
            List<CompletableFuture<Void>> grants = List.of(parts.checkOut(p1), parts.checkOut(p2), docs.checkOut(d));
            for (Key<?> k : List.of(p1, p2, d)) la.session.checkOut(k); // what SyncClient does
            la.settle();
            assertTrue(grants.stream().allMatch(CompletableFuture::isDone), "check-outs granted");
            assertEquals(List.of(), pending(ra), "the server acknowledged every change");
            la.cut();

            parts.update(p1, part(11));
            parts.remove(p2);
            docs.setStateNumber(d, 3);
            docs.release(d);
            Key<Doc> d1 = docs.newRevision(d);
            Key<Part> p3 = parts.insert(part(3));
            parts.update(p1, part(12)); // replaces p1's entry, which moves to the end
            assertThrows(IllegalStateException.class, () -> a.write(() -> {
                parts.insert(part(5));
                parts.update(p1, part(13));
                throw new IllegalStateException("rolled back");
            }));
            assertEquals(List.of(entry("REMOVED", p2), entry("CHANGED", d), entry("CREATED", d1), entry("CREATED", p3),
                entry("CHANGED", p1)), pending(ra));

            la = new ManualLink(core, ra);
            la.settle();
            assertEquals(List.of(), pending(ra), "all sent and acknowledged");
            TreeImpl<Part> pb = TreeImpl.open(b, Part.class, null);
            TreeImpl<Doc> db = TreeImpl.open(b, Doc.class, null);
            linkAndSettle(core, b);
            assertEquals(List.of(p1, p3), pb.keys());
            assertEquals(part(12), pb.get(p1));
            assertEquals(new RecordState.Released(3), db.meta(d).state());
            assertEquals(List.of(d, d1), db.keys());
        }
    }

    @Test
    void aNeverLinkedDatabaseKeepsNoOutboxAndItsLinkWritesOneCreatedEntryPerRecord() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database s = node(dir.resolve("s"), "s");
             Database b = node(dir.resolve("b"), "b")) {
            TreeImpl<Part> parts = TreeImpl.open(s, Part.class, null);
            TreeImpl<Doc> docs = TreeImpl.open(s, Doc.class, null);
            List<Key<Part>> p = parts.insertAll(List.of(part(0), part(1), part(2), part(3), part(4)));
            parts.checkOut(p.get(1)).join();
            parts.update(p.get(1), part(11));
            parts.checkOut(p.get(3)).join();
            parts.remove(p.get(3));
            Key<Doc> d = docs.insert(new Doc("manual", 10));
            SyncReplica rs = SyncReplica.install(s);
            assertEquals(List.of(), pending(rs), "never linked: nothing is pending for a server yet");

            ManualLink ls = new ManualLink(core, rs);
            ls.deliverUp();   // Hello, claiming the ids used
            ls.deliverDown(1); // Welcome: the link's transaction writes the outbox
            assertTrue(SyncReplica.linked(s));
            assertEquals(List.of(entry("CREATED", d), entry("CREATED", p.get(0)), entry("CREATED", p.get(1)),
                entry("CREATED", p.get(2)), entry("CREATED", p.get(4))), pending(rs), "trees by name, records by key");
            ls.settle();
            assertEquals(List.of(), pending(rs), "all sent and acknowledged");

            TreeImpl<Part> pb = TreeImpl.open(b, Part.class, null);
            TreeImpl<Doc> docsB = TreeImpl.open(b, Doc.class, null);
            linkAndSettle(core, b);
            assertEquals(List.of(p.get(0), p.get(1), p.get(2), p.get(4)), pb.keys());
            assertEquals(part(11), pb.get(p.get(1)));
            assertFalse(pb.contains(p.get(3)), "removed before the link: the server never hears of it");
            assertEquals(List.of(d), docsB.keys());
        }
    }

    /**
     * The server registered the claims of a first Hello, but the Welcome never arrived: the node
     * is still never linked, keeps no entries, and its next connection links and sends them all.
     */
    @Test
    void aFirstLinkCutBeforeItsWelcomeArrivesLinksOnTheNextConnection() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database s = node(dir.resolve("s"), "s");
             Database b = node(dir.resolve("b"), "b")) {
            TreeImpl<Part> parts = TreeImpl.open(s, Part.class, null);
            List<Key<Part>> made = parts.insertAll(List.of(part(0), part(1)));
            SyncReplica rs = SyncReplica.install(s);
            ManualLink first = new ManualLink(core, rs);
            first.deliverUp();
            assertTrue(first.down.peekFirst() instanceof Message.Welcome, "the server answered: " + first.down);
            first.cut();
            assertFalse(SyncReplica.linked(s));
            assertEquals(List.of(), pending(rs));
            new ManualLink(core, rs).settle();
            assertTrue(SyncReplica.linked(s));
            assertEquals(List.of(), pending(rs), "sent and acknowledged");
            TreeImpl<Part> pb = TreeImpl.open(b, Part.class, null);
            linkAndSettle(core, b);
            assertEquals(made, pb.keys());
        }
    }
}
