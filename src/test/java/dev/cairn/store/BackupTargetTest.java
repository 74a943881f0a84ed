package dev.cairn.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a copy may go: never into the folder it copies (all three ways of copying), and a copy
 * that failed part-way leaves nothing that would refuse its retry.
 */
class BackupTargetTest {
    @TempDir Path dir;

    @Test
    void aCopyIntoTheDatabaseFolderOrBelowItIsRefused() {
        Path db = dir.resolve("db");
        try (Store store = Store.open(db)) {
            IllegalArgumentException online = assertThrows(IllegalArgumentException.class, () -> store.backup(db.resolve("sub")));
            assertEquals("backup target " + db.resolve("sub") + " is inside the database folder " + db
                + " (expected: a folder outside it)", online.getMessage());
            assertThrows(IllegalArgumentException.class, () -> store.backup(db));
            assertThrows(IllegalArgumentException.class, () -> ForeignBackup.copy(db, db.resolve("x")));
        }
        IllegalArgumentException asIs = assertThrows(IllegalArgumentException.class,
            () -> Store.copyAsIs(db, db.resolve("..").resolve("db").resolve("y"), "backup"));
        assertTrue(asIs.getMessage().contains("is inside the database folder"), asIs.getMessage());
        assertFalse(Files.exists(db.resolve("sub")) || Files.exists(db.resolve("x")) || Files.exists(db.resolve("y")),
            "nothing written into the database folder");
        Store.copyAsIs(db, dir.resolve("dbcopy"), "backup"); // a sibling whose name starts with the folder's: fine
        assertTrue(Store.exists(dir.resolve("dbcopy")));
    }

    @Test
    void aFailedCopyRemovesWhatItWroteSoThatItCanBeRetried() throws Exception {
        Path made = dir.resolve("made");
        Files.createDirectories(made);
        Files.writeString(made.resolve(Store.DATA_FILE), "part of a copy");
        Files.writeString(made.resolve(Store.WAL_FILE), "part of a log");
        assertEquals("; the partial copy was removed", Backup.removePartial(made, true));
        assertFalse(Files.exists(made), "the folder the copy created, empty again, is gone");

        Path given = dir.resolve("given");
        Files.createDirectories(given);
        Files.writeString(given.resolve("notes.txt"), "the user's");
        Files.writeString(given.resolve(Store.DATA_FILE + ".new"), "part of a copy");
        Backup.removePartial(given, false);
        assertEquals(java.util.List.of(given.resolve("notes.txt")), Files.list(given).toList(), "only the copy's files go");
        Backup.checkTarget(dir.resolve("db"), given, "backup"); // a retry is accepted
    }
}
