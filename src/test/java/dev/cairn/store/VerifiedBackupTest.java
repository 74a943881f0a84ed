package dev.cairn.store;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.CorruptionException;
import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Store#backup}, the online backup behind {@code Cairn.backup} and the server console's
 * {@code backup}: its copy is verified before it is moved into place (storage-format.md §8), and a
 * close waits for a backup running on another thread instead of unmapping the pages it reads.
 */
@Timeout(120)
class VerifiedBackupTest {
    @TempDir Path dir;

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void fill(Store store, String tree, int count, int valueBytes) {
        byte[] value = new byte[valueBytes];
        try (WriteTxn w = store.beginWrite()) {
            w.createTree(tree);
            w.commit();
        }
        for (int c = 0; c < count; c += 500) {
            try (WriteTxn w = store.beginWrite()) {
                for (int i = c; i < Math.min(count, c + 500); i++) {
                    value[0] = (byte) i;
                    w.put(tree, b(String.format("k%08d", i)), value);
                }
                w.commit();
            }
        }
    }

    /**
     * A snapshot damaged on disk (a flipped byte in a page that open does not read) gives a copy
     * that does not verify: the backup fails naming the problem and leaves nothing in the target,
     * where it used to leave a copy that looked like a good backup.
     */
    @Test
    void aDamagedSnapshotFailsTheBackupAndLeavesNothingBehind() throws IOException {
        Path db = dir.resolve("db");
        long pages;
        int pageBytes;
        try (Store store = Store.open(db)) {
            fill(store, "a", 5_000, 100);
            fill(store, "b", 5_000, 100);
            pages = Files.size(db.resolve(Store.DATA_FILE)) / store.pageBytes();
            pageBytes = store.pageBytes();
        }
        Path target = dir.resolve("backups").resolve("one");
        // From the last page down, the first page whose damage open does not notice but verify does.
        for (long p = pages - 1; p >= PageLayout.FIRST_DATA_PAGE; p--) {
            Path trial = dir.resolve("trial");
            TestFiles.deleteTree(trial);
            Files.createDirectories(trial);
            Files.copy(db.resolve(Store.DATA_FILE), trial.resolve(Store.DATA_FILE));
            flip(trial.resolve(Store.DATA_FILE), p * pageBytes + pageBytes / 2);
            Store store;
            try {
                store = Store.open(trial);
            } catch (CorruptionException e) {
                continue;
            }
            try (store) {
                if (store.verify().ok()) continue; // a free page
                CorruptionException e = assertThrows(CorruptionException.class, () -> store.backup(target));
                assertTrue(e.getMessage().startsWith("backup of " + trial + ": the copy of its snapshot (txn "), e.getMessage());
                assertTrue(e.getMessage().contains("does not verify, so this database is damaged (run cairn verify on it)"),
                    e.getMessage());
                assertTrue(e.getMessage().contains("page " + p), "names the damaged page " + p + ": " + e.getMessage());
                assertTrue(e.getMessage().endsWith("; nothing was left in " + target), e.getMessage());
                assertFalse(Files.exists(dir.resolve("backups")), "the folders the backup made are removed");
                return;
            }
        }
        fail("no page of " + pages + " was damaged in a way only verify notices");
    }

    private static void flip(Path file, long position) throws IOException {
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            c.read(one, position);
            one.put(0, (byte) (one.get(0) ^ 0x5A)).rewind();
            c.write(one, position);
        }
    }

    /**
     * A close while another thread backs the store up waits for the backup, which completes and
     * verifies; it used to unmap the pages under the copy.
     */
    @Test
    void aCloseWaitsForABackupRunningOnAnotherThread() throws Exception {
        Path db = dir.resolve("db");
        Path target = dir.resolve("copy");
        Store store = Store.open(db);
        fill(store, "a", 40_000, 1_000); // ~40 MB: the copy takes a while
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread backup = Thread.ofPlatform().start(() -> {
            try {
                store.backup(target);
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        Path building = target.resolve(BackupBuild.DIR);
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(building) && backup.isAlive() && System.nanoTime() < deadline) Thread.onSpinWait();
        store.close();
        assertTrue(Files.exists(target.resolve(Store.DATA_FILE)), "close returned before the backup was in place");
        backup.join();
        assertNull(failed.get(), () -> "the backup failed: " + failed.get());
        try (Store copy = Store.open(target); ReadTxn r = copy.beginRead()) {
            assertTrue(copy.verify().ok());
            assertEquals(40_000, r.count("a"));
        }
        assertFalse(Files.exists(building));
        assertThrows(IllegalStateException.class, () -> store.backup(dir.resolve("after")));
        assertFalse(Files.exists(dir.resolve("after").resolve(Store.DATA_FILE)));
    }
}
