package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/**
 * 100,000 updates of the same 1,000 records (about 120 KiB of data) keep the file bounded:
 * at most 256 pages (1 MiB) in use, and the file no larger than one 4 MiB mapping chunk.
 */
class BoundedSpaceTest {
    static final long PAGES_MAX = 256;
    @TempDir Path dir;

    @Test
    void hundredThousandUpdatesOfAThousandRecordsKeepTheFileBounded() throws Exception {
        Random rnd = new Random(7);
        try (Store store = Store.open(dir, StoreOptions.defaults().withDurable(false))) {
            store.verifyAfterCommit = false;
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 1000; i++) w.put("t", key(i), new byte[100]);
                w.commit();
            }
            for (int c = 0; c < 1000; c++) {
                ReadTxn reader = c % 50 == 0 ? store.beginRead() : null;
                try (WriteTxn w = store.beginWrite()) {
                    for (int j = 0; j < 100; j++) {
                        byte[] v = new byte[60 + rnd.nextInt(80)];
                        rnd.nextBytes(v);
                        w.put("t", key(rnd.nextInt(1000)), v);
                    }
                    if (c % 100 == 0) w.put("t", b("big"), new byte[20_000 + c]);
                    w.commit();
                }
                if (reader != null) reader.close();
                long pages = store.currentSnapshot().meta.pageCount();
                assertTrue(pages <= PAGES_MAX, "after commit " + c + ": " + pages + " pages (expected: <= " + PAGES_MAX + ")");
            }
            VerifyReport report = store.verify();
            assertTrue(report.ok(), report.problems().toString());
        }
        long bytes = Files.size(dir.resolve(Store.DATA_FILE));
        assertTrue(bytes <= (long) PageFile.CHUNK_PAGES * 4096, bytes + " bytes");
    }

    static byte[] key(int i) {
        return new byte[] {(byte) (i >>> 8), (byte) i, 'k'};
    }
}
