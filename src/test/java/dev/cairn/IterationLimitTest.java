package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.internal.Limits;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import dev.cairn.testing.Fixtures.Doc;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A record whose metaIteration no change can follow (database-layout.md §5): a server before its
 * iteration check (sync-protocol.md §5.1) took a state change with metaIteration
 * Long.MAX_VALUE from a client and pushed it to every node; the holder's next update made it
 * Long.MIN_VALUE (overflow), and every read of its metadata failed after that. Now the change is
 * refused, naming the record, and nothing is stored.
 */
class IterationLimitTest {
    @TempDir Path dir;

    @Test
    void noChangeTakesARecordPastIterationMaxAndTheStoredHeaderStays() {
        Path folder = dir.resolve("db");
        Key<Doc> atMax;
        Key<Doc> belowMax;
        try (Cairn db = Cairn.open(folder)) {
            Tree<Doc> docs = db.tree(Doc.class);
            atMax = docs.insert(new Doc("a", 1));
            belowMax = docs.insert(new Doc("b", 1));
        }
        try (Store store = Store.open(folder); WriteTxn w = store.beginWrite()) {
            setMetaIteration(w, atMax, Long.MAX_VALUE);
            setMetaIteration(w, belowMax, Limits.ITERATION_MAX - 1);
            w.commit();
        }
        try (Cairn db = Cairn.open(folder)) {
            Tree<Doc> docs = db.tree(Doc.class);
            docs.checkOut(atMax).join();
            for (Runnable change : new Runnable[] {
                    () -> docs.update(atMax, new Doc("a", 2)), () -> docs.setStateNumber(atMax, 3), () -> docs.release(atMax)}) {
                IllegalStateException e = assertThrows(IllegalStateException.class, change::run);
                assertTrue(e.getMessage().startsWith("change of Doc/0.0: its metaIteration 9223372036854775807 is at or above "
                    + "ITERATION_MAX " + Limits.ITERATION_MAX), e.getMessage());
            }
            RecordMeta unchanged = docs.meta(atMax);
            assertEquals(Long.MAX_VALUE, unchanged.metaIteration());
            assertEquals(0, unchanged.dataIteration());
            assertEquals(new Doc("a", 1), docs.get(atMax));

            // Up to the limit a change goes through; past it none does.
            docs.checkOut(belowMax).join();
            docs.update(belowMax, new Doc("b", 2));
            assertEquals(Limits.ITERATION_MAX, docs.meta(belowMax).metaIteration());
            assertThrows(IllegalStateException.class, () -> docs.update(belowMax, new Doc("b", 3)));
            assertEquals(new Doc("b", 2), docs.get(belowMax));

            // Removal needs no next iteration (a REMOVED carries no header): the way out.
            docs.remove(atMax);
            assertFalse(docs.contains(atMax));
        }
    }

    /** Writes {@code meta} into the stored header of {@code key} (offset 24, database-layout.md §3), as damage would. */
    private static void setMetaIteration(WriteTxn w, Key<?> key, long meta) {
        byte[] k = ByteBuffer.allocate(8).putInt(key.id()).putInt(key.revision()).array();
        byte[] value = w.get("data:" + key.tree(), k).toArray(ValueLayout.JAVA_BYTE);
        ByteBuffer.wrap(value).putLong(24, meta);
        w.put("data:" + key.tree(), k, value);
    }
}
