package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.Cairn;
import dev.cairn.FieldHandle;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A field handle is resolved once and serves every record, also of a schema version that came
 * by sync after it was made (another node's application class). It kept the tree's codec of its
 * time, which knew only the versions there were then: a zero-copy read or scan of such a record
 * threw CorruptionException ("schema version 2 (expected: 1..1)"), while get decoded it (probe 113).
 */
class FieldHandleEvolutionTest {
    @TempDir
    Path dir;

    @TreeSpec(name = "Item")
    record ItemV1(String name, int qty) { }

    @TreeSpec(name = "Item")
    record ItemV2(String name, int qty, long added) { }

    @Test
    void aHandleReadsRecordsOfASchemaThatArrivedAfterIt() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<ItemV1> ta = a.tree(ItemV1.class);
            Key<ItemV1> own = ta.insert(new ItemV1("own", 1));
            FieldHandle qty = ta.field("qty");
            FieldHandle name = ta.field("name");
            assertEquals(1, (int) ta.read(own, v -> v.getInt(qty)));

            Key<ItemV2> k2 = b.tree(ItemV2.class).insert(new ItemV2("from-b", 42, 7L)); // a schema new to a
            Key<ItemV1> theirs = new Key<>("Item", k2.id(), 0);
            await("a has b's record", () -> ta.contains(theirs));

            assertEquals(42, (int) ta.read(theirs, v -> v.getInt(qty)));
            assertEquals("from-b", ta.read(theirs, v -> v.getString(name)));
            Map<String, Integer> scanned = new TreeMap<>();
            ta.scan((k, v) -> scanned.put(v.getString(name), v.getInt(qty)));
            assertEquals(Map.of("own", 1, "from-b", 42), scanned);
            assertEquals(ta.get(theirs).qty(), (int) ta.read(theirs, v -> v.getInt(qty)));
        }
    }
}
