package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.ChangeKind;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Migration;
import dev.cairn.RecordState;
import dev.cairn.SchemaMismatchException;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A migration on a linked node (database-layout.md §8): it rewrites that node's copy alone, the
 * server and the other nodes keep the old version, and records that arrive later in the old
 * version are migrated as they arrive — or, when the tree is not open yet, when it is opened.
 */
@Timeout(120)
class LinkedMigrationTest {
    @TempDir
    Path dir;

    @TreeSpec(name = "Gauge", versioned = true)
    record GaugeV1(String size) { }

    /** An incompatible change of {@link GaugeV1}: String -> int. */
    @TreeSpec(name = "Gauge", versioned = true)
    record GaugeV2(int size) { }

    private static final Pattern SIZE = Pattern.compile("\"size\"\\s*:\\s*\"(\\d+)\"");

    /** GaugeV1 JSON -> GaugeV2; counts its calls. */
    static final class ToV2 implements Migration<GaugeV2> {
        final List<String> seen = new ArrayList<>();

        @Override
        public GaugeV2 migrate(Key<GaugeV2> key, String oldJson) {
            seen.add(key + " " + oldJson);
            Matcher m = SIZE.matcher(oldJson);
            assertTrue(m.find(), oldJson);
            return new GaugeV2(Integer.parseInt(m.group(1)));
        }
    }

    private static void connect(Cairn c, SyncFixture f) {
        c.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
    }

    private static <V> Key<GaugeV2> v2(Key<V> k) {
        return new Key<>("Gauge", k.id(), k.revision());
    }

    private static boolean refusedAny(SyncFixture f, Cairn c) {
        return f.events.get(c).stream().anyMatch(e -> e instanceof Event.ChangeRefused);
    }

    @Test
    void aLinkedNodeMigratesItsOwnCopyAndWhatArrivesWhileTheOthersKeepTheOldVersion() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<GaugeV1> ta = a.tree(GaugeV1.class);
            List<Key<GaugeV1>> k = new ArrayList<>();
            for (String s : List.of("10", "20", "30")) k.add(ta.insert(new GaugeV1(s)));
            Tree<GaugeV1> old = b.tree(GaugeV1.class);
            await("b has a's records", () -> old.size() == 3);
            await("the server has them", () -> f.server.sequence() == 3);

            b = f.reopen(b, "b");
            connect(b, f);
            ToV2 migration = new ToV2();
            Tree<GaugeV2> tb = b.tree(GaugeV2.class, migration);
            assertEquals(3, migration.seen.size(), migration.seen::toString);
            for (int i = 0; i < 3; i++) {
                assertEquals(new GaugeV2((i + 1) * 10), tb.get(v2(k.get(i))));
                assertEquals(0, tb.meta(v2(k.get(i))).dataIteration(), "a change of b's copy alone");
            }

            // a, which still runs the old class, changes a record: b gets it migrated.
            ta.checkOut(k.getFirst()).orTimeout(10, TimeUnit.SECONDS).join();
            ta.update(k.getFirst(), new GaugeV1("11"));
            Key<GaugeV1> added = ta.insert(new GaugeV1("40"));
            await("b has a's change, migrated", () -> tb.find(v2(k.getFirst())).map(v -> v.size() == 11).orElse(false));
            await("and a's new record", () -> tb.find(v2(added)).map(v -> v.size() == 40).orElse(false));
            assertEquals(5, f.server.sequence(), "b sent none of its rewrites");
            Cairn bNow = b;
            assertTrue(!refusedAny(f, bNow), () -> f.events.get(bNow).toString());

            // State changes need no check-out, also on a migrated copy: the server keeps its data.
            tb.release(v2(k.get(1)));
            tb.setStateNumber(v2(k.get(2)), 6);
            await("a sees the release", () -> ta.meta(k.get(1)).state() instanceof RecordState.Released);
            await("and the state number", () -> ta.meta(k.get(2)).state().equals(new RecordState.Draft(6)));
            assertEquals(new GaugeV1("20"), ta.get(k.get(1)), "a's data in a's version");
            assertEquals(1, ta.meta(k.get(1)).schemaVersion());
            await("b keeps its migrated copy", () -> tb.find(v2(k.get(1))).map(v -> v.size() == 20).orElse(false)
                && tb.meta(v2(k.get(1))).state() instanceof RecordState.Released);
            assertEquals(new GaugeV2(30), tb.get(v2(k.get(2))));
            assertTrue(!refusedAny(f, bNow), () -> f.events.get(bNow).toString());
        }
    }

    @Test
    void oldRecordsThatArriveBeforeTheTreeIsOpenedAreMigratedWhenItIs() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<GaugeV1> ta = a.tree(GaugeV1.class);
            Key<GaugeV1> one = ta.insert(new GaugeV1("5"));
            Tree<GaugeV1> old = b.tree(GaugeV1.class);
            await("b has it", () -> old.size() == 1);
            b.tree(GaugeV2.class, new ToV2());

            // b, closed: a changes the record in the old version.
            f.clients.remove(b);
            b.close();
            ta.checkOut(one).orTimeout(10, TimeUnit.SECONDS).join();
            ta.update(one, new GaugeV1("55"));
            b = f.open("b");
            connect(b, f);
            Cairn bNow = b;
            await("b has a's change (tree not open)", () -> f.events.get(bNow).stream().anyMatch(e ->
                e instanceof Event.RecordChanged c && c.remote() && c.kind() == ChangeKind.CHANGED && c.key().id() == one.id()));

            SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> bNow.tree(GaugeV2.class));
            assertTrue(e.getMessage().contains("migration") && e.getMessage().contains("Gauge"), e.getMessage());
            ToV2 migration = new ToV2();
            Tree<GaugeV2> tb = b.tree(GaugeV2.class, migration);
            assertEquals(1, migration.seen.size(), "only the record in the old version: " + migration.seen);
            assertEquals(new GaugeV2(55), tb.get(v2(one)));

            // Reopened with the plain class, b stops its sync on an old record instead of storing what it cannot read.
            b = f.reopen(b, "b");
            Tree<GaugeV2> plain = b.tree(GaugeV2.class);
            assertEquals(new GaugeV2(55), plain.get(v2(one)));
            connect(b, f);
            ta.update(one, new GaugeV1("56"));
            Cairn bLast = b;
            await("b stopped syncing", () -> !bLast.isConnected());
            await("and said why", () -> f.events.get(bLast).stream().anyMatch(ev -> ev instanceof Event.Disconnected d
                && d.reason().contains("cannot read") && d.reason().contains("migration")));
            assertEquals(new GaugeV2(55), plain.get(v2(one)), "nothing was changed");
        }
    }

    @Test
    void aMigrationThatFailsOnAnArrivingRecordStopsTheSyncWithNothingApplied() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<GaugeV1> ta = a.tree(GaugeV1.class);
            Key<GaugeV1> one = ta.insert(new GaugeV1("5"));
            Tree<GaugeV1> old = b.tree(GaugeV1.class);
            await("b has it", () -> old.size() == 1);
            Tree<GaugeV2> tb = b.tree(GaugeV2.class, (key, json) -> {
                if (json.contains("\"666\"")) throw new IllegalArgumentException("no size 666 in the new model");
                return new ToV2().migrate(key, json);
            });
            ta.checkOut(one).orTimeout(10, TimeUnit.SECONDS).join();
            ta.update(one, new GaugeV1("666"));
            await("b stopped syncing", () -> !b.isConnected());
            await("and said why", () -> f.events.get(b).stream().anyMatch(ev -> ev instanceof Event.Disconnected d
                && d.reason().contains("migration failed") && d.reason().contains("no size 666")));
            assertEquals(new GaugeV2(5), tb.get(v2(one)), "nothing was changed");
        }
    }

    /**
     * A fresh node numbers versions in the order records arrive: here the new one first. After
     * its migration the old version holds no record but lies above dataFromVersion; a record
     * arriving in it later is migrated too, not stored as readable (found by a spec check).
     */
    @Test
    void aFreshNodeThatGotTheNewVersionFirstMigratesALaterOldRecord() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<GaugeV1> ta = a.tree(GaugeV1.class);
            Key<GaugeV1> k1 = ta.insert(new GaugeV1("5"));
            await("the server has k1", () -> f.server.sequence() == 1);
            ta.checkOut(k1).orTimeout(10, TimeUnit.SECONDS).join();
            a = f.reopen(a, "a");                                   // offline, no class open
            Tree<GaugeV2> tb = b.tree(GaugeV2.class, new ToV2());
            Key<GaugeV2> k2 = tb.insert(new GaugeV2(7));            // the new version, seq 2
            await("the server has k2", () -> f.server.sequence() == 2);
            connect(a, f);
            Cairn aNow = a;
            await("a has k2", () -> aNow.genericTree("Gauge").keys().size() == 2);
            Tree<GaugeV1> ta2 = a.tree(GaugeV1.class, (key, json) -> new GaugeV1("99"));
            ta2.update(k1, new GaugeV1("6"));                       // the old version, seq 3
            await("the server has k1 again", () -> f.server.sequence() == 3);

            Cairn c = f.connected("c");                             // catch-up: k2 (its version 1), k1 (version 2)
            ToV2 migration = new ToV2();
            Tree<GaugeV2> tc = c.tree(GaugeV2.class, migration);
            assertEquals(1, tc.meta(k2).schemaVersion(), "the new version arrived first");
            assertEquals(new GaugeV2(6), tc.get(v2(k1)));
            ta2.update(k1, new GaugeV1("8"));
            await("c has the change, migrated", () -> tc.find(v2(k1)).map(v -> v.size() == 8).orElse(false));
            assertTrue(c.isConnected());
            assertEquals(1, tc.meta(v2(k1)).schemaVersion());

            c = f.reopen(c, "c");
            assertEquals(new GaugeV2(8), c.tree(GaugeV2.class).get(v2(k1)), "no record of the old version is left");
        }
    }

    /**
     * Several records arrive in an old version this node never had: every one is migrated, not
     * only the first (the first added the version; the others found it known and were stored
     * unmigrated, so typed reads of them failed until the tree was opened again).
     */
    @Test
    void everyRecordArrivingInANewUnreadableVersionIsMigrated() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            ToV2 migration = new ToV2();
            Tree<GaugeV2> tb = b.tree(GaugeV2.class, migration);
            Tree<GaugeV1> ta = a.tree(GaugeV1.class);
            List<Key<GaugeV1>> k = new ArrayList<>(ta.insertAll(List.of(new GaugeV1("10"), new GaugeV1("20"), new GaugeV1("30"))));
            for (String s : List.of("40", "50")) k.add(ta.insert(new GaugeV1(s))); // pushed live, one by one
            await("b has them all", () -> tb.size() == 5);
            for (int i = 0; i < k.size(); i++) assertEquals(new GaugeV2((i + 1) * 10), tb.get(v2(k.get(i))));
            assertEquals(5, migration.seen.size(), migration.seen::toString);
        }
    }
}
