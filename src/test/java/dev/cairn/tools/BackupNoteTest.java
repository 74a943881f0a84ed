package dev.cairn.tools;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.store.BackupNote;
import dev.cairn.testing.Fixtures.Part;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way of backing up leaves backup-of.txt in the copy, naming its folder and time (probe 87). */
class BackupNoteTest {
    @TempDir Path dir;

    private static void assertNote(Path copy, Path source, Instant before) throws Exception {
        BackupNote note = BackupNote.read(copy);
        assertNotNull(note, "no " + BackupNote.FILE + " in " + copy);
        assertEquals(source.toAbsolutePath(), note.source());
        assertFalse(note.taken().isBefore(before.minusSeconds(1)) || note.taken().isAfter(Instant.now()), note.toString());
        String text = Files.readString(copy.resolve(BackupNote.FILE));
        assertTrue(text.contains("Inspect it without connecting") && text.contains("delete this file"), text);
    }

    @Test
    void cairnBackupOfAClosedAndOfAnOpenFolderLeavesTheNote() throws Exception {
        Path node = dir.resolve("node");
        try (Cairn c = Cairn.open(node)) {
            c.tree(Part.class).insert(new Part("R-10K", "Vishay", 10, 5, List.of()));
        }
        Instant before = Instant.now();
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(0, Commands.backup(node, dir.resolve("closed"), quiet));
        assertNote(dir.resolve("closed"), node, before);
        try (Cairn c = Cairn.open(node)) {
            assertEquals(0, Commands.backup(node, dir.resolve("open"), quiet));
            c.backup(dir.resolve("inside"));
        }
        assertNote(dir.resolve("open"), node, before);
        assertNote(dir.resolve("inside"), node, before);
        // A backup opens as any database; the note is for people and the inspector.
        try (Cairn c = Cairn.open(dir.resolve("inside"))) {
            assertEquals(1, c.genericTree("Part").size());
        }
        assertNull(BackupNote.read(node), "the source folder got a note");
    }

    @Test
    void aServersBackupLeavesTheNote() throws Exception {
        Instant before = Instant.now();
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0)) {
            server.backup(dir.resolve("copy"));
        }
        assertNote(dir.resolve("copy"), dir.resolve("server"), before);
    }

    /** A failed backup leaves no note that could pass for a backup. */
    @Test
    void aBackupThatFailsLeavesNoNote() throws Exception {
        Path node = dir.resolve("node");
        try (Cairn c = Cairn.open(node)) {
            c.tree(Part.class);
        }
        Path target = Files.createDirectories(dir.resolve("target"));
        Files.createDirectories(target.resolve("data.cairn")); // a folder where the data file goes: the move fails
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertThrows(RuntimeException.class, () -> Commands.backup(node, target, quiet));
        assertNull(BackupNote.read(target));
    }
}
