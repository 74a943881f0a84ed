package dev.cairn.store;

import dev.cairn.testing.TestFiles;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

import static dev.cairn.store.StoreModelProperties.ORDER;
import static dev.cairn.store.StoreModelProperties.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A read transaction's point lookup (pages read in place in their mapped chunk, heads compared
 * inline) agrees with a TreeMap and with the page-segment search a write transaction uses, on
 * keys made to tie on their 8-byte heads: bytes from {0, 1, 'a'}, lengths 0 to 14, so that
 * keys, zero-padded heads and branch separators collide often. Probes include every key, its
 * prefixes and its extensions by a zero byte.
 */
class PointLookupProperties {
    private static final String TREE = "t";

    @Provide
    Arbitrary<List<byte[]>> keySets() {
        Arbitrary<byte[]> key = Arbitraries.of((byte) 0, (byte) 1, (byte) 'a').array(byte[].class).ofMaxSize(14);
        return key.list().ofMinSize(1).ofMaxSize(3_000);
    }

    @Property(tries = 25)
    void readLookupsMatchTheModelAndTheWriterSearch(@ForAll("keySets") List<byte[]> keys) throws IOException {
        Path dir = Files.createTempDirectory("cairn-lookup");
        try (Store store = Store.open(dir)) {
            TreeMap<byte[], byte[]> model = new TreeMap<>(ORDER);
            try (WriteTxn w = store.beginWrite()) {
                w.createTree(TREE);
                for (byte[] key : keys) {
                    // Every 97th value is large enough for an overflow run.
                    byte[] value = StoreModelProperties.value(model.size() % 97 == 0 ? 5_000 : key.length + 3, key.length);
                    w.put(TREE, key, value);
                    model.put(key, value);
                }
                w.commit();
            }
            try (ReadTxn r = store.beginRead(); WriteTxn w = store.beginWrite()) {
                for (byte[] key : keys) {
                    check(model, r, w, key);
                    check(model, r, w, Arrays.copyOf(key, key.length + 1));
                    for (int n = 0; n < key.length; n++) check(model, r, w, Arrays.copyOf(key, n));
                }
                w.abort();
            }
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    private static void check(TreeMap<byte[], byte[]> model, ReadTxn r, WriteTxn w, byte[] key) {
        byte[] expected = model.get(key);
        String what = "key " + Arrays.toString(key);
        assertArrayEquals(expected, bytes(r.get(TREE, key)), what + " (read transaction)");
        assertArrayEquals(expected, bytes(w.get(TREE, key)), what + " (write transaction)");
    }
}
