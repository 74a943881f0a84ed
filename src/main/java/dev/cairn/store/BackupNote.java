package dev.cairn.store;

import dev.cairn.CairnException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The note every backup leaves in its folder, {@value #FILE} (storage-format.md §8.1): which
 * folder it copies and when. A copy of a node's folder holds the node's identity (its id and
 * link token), so a sync server cannot tell it from the node; the note lets the tools that open
 * a folder (the inspector) tell a person so before the copy connects. The store itself never
 * reads it: a folder with a note opens as any other.
 *
 * @param source the folder the backup copies (absolute), or null when the note does not say
 * @param taken when the backup was moved into place, or null when the note does not say
 */
public record BackupNote(Path source, Instant taken) {
    /** The note's file name inside a backup's folder. */
    public static final String FILE = "backup-of.txt";

    private static final String SOURCE = "source: ";
    private static final String TAKEN = "taken: ";

    /** The note of the backup in {@code dir}, or null when there is none. */
    public static BackupNote read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) return null;
        Path source = null;
        Instant taken = null;
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.startsWith(SOURCE)) source = Path.of(line.substring(SOURCE.length()));
                if (line.startsWith(TAKEN)) taken = Instant.parse(line.substring(TAKEN.length()));
            }
        } catch (IOException | DateTimeParseException | java.nio.file.InvalidPathException e) {
            // A note someone edited or cut short still marks the folder as a backup.
            return new BackupNote(source, taken);
        }
        return new BackupNote(source, taken);
    }

    /** Writes the note of a backup of {@code source}, taken now, into {@code dir}, forced. */
    static void write(Path dir, Path source, Instant taken) {
        String text = "This folder is a backup made by Cairn (cairn backup, Cairn.backup or a server's backup), not the folder"
            + " it copies.\n"
            + SOURCE + source.toAbsolutePath() + "\n"
            + TAKEN + taken + "\n"
            + "A backup of a node's folder is that node to a sync server (the same node id and link token): connected as it"
            + " is, the server would take it for the node and end the node's own link for good. Inspect it without"
            + " connecting. To restore the node from it, stop the node's application, put this folder's files in place of"
            + " the node's folder and delete this file there (README, \"Restoring a node from a backup\").\n";
        Path file = dir.resolve(FILE);
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
            try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        } catch (IOException e) {
            throw new CairnException("cannot write the backup's note " + file + ": " + StoreFile.reason(e), e);
        }
    }

    @Override
    public String toString() {
        return "a backup of " + (source == null ? "a folder it does not name" : source)
            + (taken == null ? "" : ", taken " + taken);
    }
}
