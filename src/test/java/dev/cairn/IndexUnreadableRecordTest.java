package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.index.MultiNameIndex;
import dev.cairn.index.UniqueNameIndex;
import dev.cairn.testing.LogLines;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A record the index's record class cannot read (a number a newer class widened past what the
 * older one holds) is left out of the index with a warning, as one its name function throws on
 * is, and the index stays true through local changes of it (probe-48: before, registering such
 * an index threw, and an index stopped the node's sync for good).
 */
class IndexUnreadableRecordTest {
    @TempDir Path dir;

    @TreeSpec(name = "Stock")
    record StockV1(String number, int stock) { }

    /** The newer class: the number widened. */
    @TreeSpec(name = "Stock")
    record StockV2(String number, long stock) { }

    /** Collects the warnings of the index's unreadable records while it is open. */
    static final class Warnings implements AutoCloseable {
        final List<String> lines = new CopyOnWriteArrayList<>();
        private final Logger log = Logger.getLogger("dev.cairn.db.UnreadableRecords");
        private final Handler handler = new Handler() {
            @Override public void publish(LogRecord r) {
                lines.add(r.getMessage());
            }

            @Override public void flush() { }

            @Override public void close() { }
        };

        Warnings() {
            log.addHandler(handler);
        }

        @Override
        public void close() {
            log.removeHandler(handler);
        }
    }

    @Test
    void registerLeavesOutARecordItsClassCannotReadAndLocalChangesKeepTheIndexTrue() {
        Key<StockV2> a;
        Key<StockV2> big;
        Key<StockV2> huge;
        try (Cairn db = Cairn.open(dir)) {
            Tree<StockV2> t = db.tree(StockV2.class);
            a = t.insert(new StockV2("A", 1));
            big = t.insert(new StockV2("BIG", 5_000_000_000L));
            huge = t.insert(new StockV2("HUGE", 6_000_000_000L));
        }
        try (Cairn db = Cairn.open(dir); Warnings warnings = new Warnings()) {
            Tree<StockV1> t = db.tree(StockV1.class); // an older class opens the tree after the newer one
            UniqueNameIndex<StockV1> names = t.register(new UniqueNameIndex<>("Stock.number", StockV1::number));
            MultiNameIndex<StockV1> search = t.register(new MultiNameIndex<>(s -> List.of(s.number())));
            Key<StockV1> a1 = t.key(a.id(), 0);
            Key<StockV1> big1 = t.key(big.id(), 0);
            Key<StockV1> huge1 = t.key(huge.id(), 0);
            assertEquals(Map.of("a", List.of(a1)), names.entries());
            assertEquals(Map.of("a", List.of(a1)), search.entries());
            assertEquals(2, warnings.lines.size(), warnings.lines.toString());
            String w = warnings.lines.getFirst();
            assertTrue(w.startsWith("index UniqueNameIndex \"Stock.number\"") && w.contains(" on tree Stock: 2 records its record "
                + "class cannot read left out of the index in a rebuild (first: " + big1 + ": ")
                && w.contains("StockV1.stock: stored value 5000000000 does not fit the reader's int"), w);
            SchemaMismatchException read = assertThrows(SchemaMismatchException.class, () -> t.get(big1));
            assertTrue(read.getMessage().contains("stored value 5000000000 does not fit"), "reads still refuse it");

            t.checkOut(big1).join();
            t.checkOut(huge1).join();
            t.update(big1, new StockV1("BIG", 5)); // readable now: in the index
            assertEquals(Optional.of(big1), names.lookup("BIG"));
            assertEquals(List.of(big1), search.search("BIG").stream().map(h -> h.key()).toList());
            t.remove(big1);
            t.remove(huge1); // never in the index: its removal changes nothing there
            assertEquals(Map.of("a", List.of(a1)), names.entries());
            assertEquals(Map.of("a", List.of(a1)), search.entries());
            assertEquals(List.of(a1), t.keys());

            // A local value the class cannot read cannot be checked by the index: refused, nothing stored.
            SchemaMismatchException e = assertThrows(SchemaMismatchException.class,
                () -> db.genericTree("Stock").insertJson("{\"number\":\"WIDE\",\"stock\":7000000000}"));
            assertTrue(e.getMessage().startsWith("index UniqueNameIndex \"Stock.number\"") && e.getMessage().contains(
                " on tree Stock cannot check Stock/") && e.getMessage().contains("stored value 7000000000 does not fit"),
                e.getMessage());
            assertEquals(List.of(a1), t.keys());
            assertEquals(2, warnings.lines.size(), "local changes left nothing out: " + warnings.lines);
        }
    }
    /**
     * The warning named a MultiNameIndex "dev.cairn.index.MultiNameIndex@2f686d1f" and carried a
     * full stack trace, on every commit from the server (probe-56). It names each built-in index
     * by its kind and name, and carries the reason's message without a trace.
     */
    @Test
    void theWarningNamesEachIndexByItsNameAndCarriesNoStackTrace() throws Exception {
        try (Cairn db = Cairn.open(dir)) {
            db.tree(StockV2.class).insert(new StockV2("BIG", 5_000_000_000L));
        }
        Class<?> source = Class.forName("dev.cairn.db.UnreadableRecords");
        try (Cairn db = Cairn.open(dir); LogLines log = new LogLines(source)) {
            Tree<StockV1> t = db.tree(StockV1.class);
            t.register(new UniqueNameIndex<>("Stock.number", StockV1::number));
            t.register(new MultiNameIndex<>("Stock.search", s -> List.of(s.number())));
            t.register(new MultiNameIndex<>(s -> List.of(s.number())));
            List<LogRecord> warnings = log.records.stream().filter(r -> r.getLevel() == Level.WARNING).toList();
            assertEquals(List.of("index UniqueNameIndex \"Stock.number\" on tree Stock", "index MultiNameIndex"
                + " \"Stock.search\" on tree Stock", "index MultiNameIndex (unnamed) on tree Stock"),
                warnings.stream().map(r -> r.getMessage().substring(0, r.getMessage().indexOf(':'))).toList());
            for (LogRecord w : warnings) {
                assertNull(w.getThrown(), w.getMessage());
                assertTrue(w.getMessage().contains("StockV1.stock: stored value 5000000000 does not fit"), w.getMessage());
            }
        }
    }
}
