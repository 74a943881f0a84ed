package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.SchemaMismatchException;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import dev.cairn.index.UniqueNameIndex;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node of the older class with an index on the tree gets a record from an upgraded node whose
 * widened number it cannot read: the record is stored and left out of the index, the sync goes
 * on, and the index follows the record as it becomes readable, unreadable and is removed; the
 * node opens, registers and connects again (probe-48: before, the sync stopped for good, and
 * the index could not be registered any more).
 */
@Timeout(60)
class IndexUnreadableSyncTest {
    @TempDir Path dir;

    @TreeSpec(name = "Stock")
    record StockV1(String number, int stock) { }

    /** The upgraded class: the number widened. */
    @TreeSpec(name = "Stock")
    record StockV2(String number, long stock) { }

    private static void connect(Cairn c, SyncFixture f) {
        c.connect("127.0.0.1", f.port()).orTimeout(20, TimeUnit.SECONDS).join();
    }

    @Test
    void aRecordTheIndexCannotReadIsLeftOutAndTheSyncGoesOn() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Tree<StockV2> ta = a.tree(StockV2.class);
            Cairn b = f.open("b");
            Tree<StockV1> tb = b.tree(StockV1.class);
            UniqueNameIndex<StockV1> names = tb.register(new UniqueNameIndex<>("Stock.number", StockV1::number));
            connect(b, f);

            Key<StockV2> big = ta.insert(new StockV2("BIG", 5_000_000_000L));
            Key<StockV2> after = ta.insert(new StockV2("AFTER", 1));
            Key<StockV1> big1 = tb.key(big.id(), 0);
            Key<StockV1> after1 = tb.key(after.id(), 0);
            // The index commits after the store (Indexer): wait for the index.
            await("b's index has AFTER", () -> names.lookup("AFTER").isPresent());
            assertTrue(tb.contains(big1));
            assertEquals(Map.of("after", List.of(after1)), names.entries(), "BIG left out");
            assertThrows(SchemaMismatchException.class, () -> tb.get(big1), "reads of it still refuse");

            ta.checkOut(big).join();
            ta.update(big, new StockV2("BIG", 7));
            await("BIG readable on b: in the index", () -> names.lookup("BIG").equals(Optional.of(big1)));
            assertEquals(new StockV1("BIG", 7), tb.get(big1));

            ta.update(big, new StockV2("BIG", 6_000_000_000L));
            Key<StockV2> mark = ta.insert(new StockV2("MARK", 2));
            await("b's index has MARK", () -> names.lookup("MARK").isPresent());
            assertEquals(Optional.empty(), names.lookup("BIG"), "unreadable again: out of the index");

            ta.remove(big);
            Key<StockV2> huge = ta.insert(new StockV2("HUGE", 9_000_000_000L));
            Key<StockV2> mark2 = ta.insert(new StockV2("MARK2", 3));
            await("b's index has MARK2", () -> names.lookup("MARK2").isPresent());
            assertTrue(!tb.contains(big1) && tb.contains(tb.key(huge.id(), 0)));
            assertEquals(Map.of("after", List.of(after1), "mark", List.of(tb.key(mark.id(), 0)),
                "mark2", List.of(tb.key(mark2.id(), 0))), names.entries());
            assertTrue(b.isConnected(), "b's link goes on");
            assertTrue(f.events.get(b).stream().noneMatch(e -> e instanceof Event.Disconnected), f.events.get(b).toString());

            // Opened again, as an application does at its start: the index registers, the node connects.
            Cairn b2 = f.reopen(b, "b");
            Tree<StockV1> tb2 = b2.tree(StockV1.class);
            UniqueNameIndex<StockV1> names2 = tb2.register(new UniqueNameIndex<>("Stock.number", StockV1::number));
            connect(b2, f);
            assertEquals(names.entries(), names2.entries());
            Key<StockV2> last = ta.insert(new StockV2("LAST", 4));
            await("b syncs on after it opened again", () -> names2.lookup("LAST").equals(Optional.of(tb2.key(last.id(), 0))));
        }
    }
}
