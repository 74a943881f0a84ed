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

    /** A symbolic link in either path cannot take a copy into the database folder (helper-33). */
    @Test
    void aLinkDoesNotTakeACopyIntoTheDatabaseFolder() throws Exception {
        Path db = dir.resolve("db");
        try (Store store = Store.open(db)) {
            Path link = Files.createSymbolicLink(dir.resolve("dblink"), db);
            Path dangling = Files.createSymbolicLink(dir.resolve("lnk"), db.resolve("inner"));
            for (Path target : new Path[] {link.resolve("x"), link, dangling, link.resolve("a").resolve("..").resolve("b")}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.backup(target), target.toString());
                assertTrue(e.getMessage().contains("the database folder " + db), e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> store.compactTo(link.resolve("c")));
            assertThrows(IllegalArgumentException.class, () -> ForeignBackup.copy(link, db.resolve("y")));
        }
        assertThrows(IllegalArgumentException.class, () -> Store.copyAsIs(dir.resolve("dblink"), db.resolve("z"), "backup"));
        try (java.util.stream.Stream<Path> inDb = Files.list(db)) {
            assertEquals(java.util.Set.of(), inDb.map(p -> p.getFileName().toString())
                .filter(n -> !n.startsWith("data.") && !n.startsWith("wal.") && !n.startsWith("lock"))
                .collect(java.util.stream.Collectors.toSet()), "nothing but the database's own files in its folder");
        }
    }

    @Test
    void aFailedCopyRemovesWhatItWroteSoThatItCanBeRetried() throws Exception {
        Path top = dir.resolve("made");
        Path made = top.resolve("a").resolve("b");
        Path createdFrom = Backup.firstMissing(made);
        assertEquals(top.toAbsolutePath(), createdFrom, "creating made/a/b makes made");
        Files.createDirectories(made);
        Files.writeString(made.resolve(Store.DATA_FILE), "part of a copy");
        Files.writeString(made.resolve(Store.WAL_FILE), "part of a log");
        assertEquals("; the partial copy was removed", Backup.removePartial(made, createdFrom));
        assertFalse(Files.exists(top), "the folders the copy created, empty again, are gone, parents too");
        assertTrue(Files.exists(dir), "not a folder it did not create");

        Path given = dir.resolve("given");
        Files.createDirectories(given);
        Files.writeString(given.resolve("notes.txt"), "the user's");
        Files.writeString(given.resolve(Store.DATA_FILE + ".new"), "part of a copy");
        assertEquals(null, Backup.firstMissing(given));
        Backup.removePartial(given, Backup.firstMissing(given));
        assertEquals(java.util.List.of(given.resolve("notes.txt")), Files.list(given).toList(), "only the copy's files go");
        Backup.checkTarget(dir.resolve("db"), given, "backup"); // a retry is accepted
    }
}
