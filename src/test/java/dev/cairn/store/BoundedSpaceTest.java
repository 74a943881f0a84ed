package dev.cairn.store;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/**
 * 100,000 updates of the same 1,000 records (about 120 KiB of data) keep the file bounded: at
 * most 256 pages (1 MiB) in use plus the pages freed since the last checkpoint, which the log
 * size bounds (at most checkpointBytes / 4096 pages, plus one commit's 64); and the file within
 * the 4 MiB mapping chunks those pages need.
 */
class BoundedSpaceTest {
    static final long PAGES_MAX = 256;
    @TempDir Path dir;

    @ParameterizedTest(name = "checkpoint every {0} bytes of log")
    @ValueSource(longs = {0, 256 << 10, StoreOptions.CHECKPOINT_BYTES})
    void hundredThousandUpdatesOfAThousandRecordsKeepTheFileBounded(long checkpointBytes) throws Exception {
        Random rnd = new Random(7);
        long pagesMax = PAGES_MAX + (checkpointBytes > 0 ? checkpointBytes / 4096 + 64 : 0);
        try (Store store = Store.open(dir, StoreOptions.defaults().withDurable(false).withCheckpointBytes(checkpointBytes))) {
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
                assertTrue(pages <= pagesMax, "after commit " + c + ": " + pages + " pages (expected: <= " + pagesMax + ")");
            }
            VerifyReport report = store.verify();
            assertTrue(report.ok(), report.problems().toString());
        }
        long bytes = Files.size(dir.resolve(Store.DATA_FILE));
        long chunks = (pagesMax + PageFile.CHUNK_PAGES - 1) / PageFile.CHUNK_PAGES;
        assertTrue(bytes <= chunks * PageFile.CHUNK_PAGES * 4096, bytes + " bytes (expected: <= " + chunks + " chunks)");
    }

    static byte[] key(int i) {
        return new byte[] {(byte) (i >>> 8), (byte) i, 'k'};
    }
}
