package dev.cairn;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.testing.Fixtures;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Cairn#backup}: a copy of one committed state taken while the application writes, which
 * opens as a database holding exactly the records committed up to some point; and its refusals.
 */
@Timeout(120)
class OnlineBackupTest {
    @TempDir Path dir;

    /**
     * A writer commits one insert after another while the backup runs: the copy holds records
     * 0..n-1 exactly (each insert is a commit, in id order), n at least what was committed
     * before the backup began and at most what was committed when it returned.
     */
    @Test
    void aBackupWhileTheApplicationWritesHoldsOneCommittedState() throws Exception {
        Path target = dir.resolve("backups").resolve("monday");
        try (Cairn db = Cairn.open(dir.resolve("db"))) {
            Tree<Part> parts = db.tree(Part.class);
            for (int i = 0; i < 2_000; i++) parts.insert(Fixtures.part(i));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger committed = new AtomicInteger(2_000);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 2_000; !stop.get() && i < 200_000; i++) {
                        parts.insert(Fixtures.part(i));
                        committed.set(i + 1);
                    }
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            while (committed.get() < 2_500) Thread.onSpinWait();
            int before = committed.get();
            db.backup(target);
            int after = committed.get() + 1; // an insert may be committed before committed is set
            stop.set(true);
            writer.join();
            assertNull(failed.get());

            try (Cairn copy = Cairn.open(target)) {
                Tree<Part> copied = copy.tree(Part.class);
                List<Key<Part>> keys = copied.keys();
                int n = keys.size();
                assertTrue(n >= before && n <= after, "copy holds " + n + " records, committed: " + before + ".." + after);
                for (int i = 0; i < n; i++) {
                    assertEquals(i, keys.get(i).id(), "the copy's ids are 0..n-1");
                    assertEquals(Fixtures.part(i), copied.get(keys.get(i)));
                }
            }
            assertFalse(Files.exists(target.resolve("backup.partial")), "the build folder is gone");
        }
    }

    @Test
    void aBackupIsRefusedInsideAWriteBatchIntoADatabaseOrIntoItsOwnFolderAndAfterClose() {
        Path db = dir.resolve("db");
        Cairn c = Cairn.open(db);
        Tree<Part> parts = c.tree(Part.class);
        parts.insert(Fixtures.part(1));
        IllegalStateException inBatch = assertThrows(IllegalStateException.class,
            () -> c.write(() -> c.backup(dir.resolve("b1"))));
        assertEquals("backup of " + db + " inside a write batch (back up after it returns)", inBatch.getMessage());
        assertFalse(Files.exists(dir.resolve("b1")));

        IllegalArgumentException inside = assertThrows(IllegalArgumentException.class, () -> c.backup(db.resolve("copy")));
        assertEquals("backup target " + db.resolve("copy") + " is inside the database folder " + db
            + " (expected: a folder outside it)", inside.getMessage());

        c.backup(dir.resolve("b2"));
        IllegalArgumentException again = assertThrows(IllegalArgumentException.class, () -> c.backup(dir.resolve("b2")));
        assertEquals("backup target " + dir.resolve("b2") + " already holds a database (data.cairn)", again.getMessage());
        c.close();
        assertThrows(IllegalStateException.class, () -> c.backup(dir.resolve("b3")));
        assertFalse(Files.exists(dir.resolve("b3")));
        assertThrows(NullPointerException.class, () -> c.backup(null));
        try (Cairn copy = Cairn.open(dir.resolve("b2"))) {
            assertEquals(List.of(Fixtures.part(1)), copy.tree(Part.class).keys().stream().map(copy.tree(Part.class)::get).toList());
        }
    }
}
