package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.CorruptionException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Backup of a database folder that another process holds open (storage-format.md §8.1): copies
 * the log, then the data file as they are, then opens (which replays the log) and verifies the
 * copy; a copy that fails is taken again.
 *
 * <p>Why this is sound without the other process's help: the copy holds both meta pages, so
 * opening it picks a committed snapshot by the recovery rule; and every page reachable from a
 * snapshot is checked against the birth txn id its parent (or the meta) records. If the writer
 * reused a page of that snapshot while it was being copied, the page now carries a newer txn id
 * (or a torn checksum), so the copy fails to open or verify and is taken again. A copy that
 * opens and verifies is therefore exactly one committed snapshot.
 */
public final class ForeignBackup {
    /** Copies taken before giving up on a database that changes faster than it can be copied. */
    static final int ATTEMPTS_MAX = 8;

    private ForeignBackup() { }

    /**
     * Copies the database in {@code sourceDir} into {@code targetDir}, which must not hold a
     * database yet, while another process may be writing to it.
     *
     * @throws IllegalArgumentException if {@code sourceDir} holds no database or the target does
     * @throws CairnException if no copy passed its checks in {@value #ATTEMPTS_MAX} attempts
     */
    public static void copy(Path sourceDir, Path targetDir) {
        Path source = sourceDir.resolve(Store.DATA_FILE);
        Path target = targetDir.resolve(Store.DATA_FILE);
        if (!Files.isRegularFile(source)) throw new IllegalArgumentException("no database in " + sourceDir);
        Backup.checkTarget(sourceDir, targetDir, "backup");
        Path createdFrom = Backup.firstMissing(targetDir);
        String lastProblem = "";
        try {
            Files.createDirectories(targetDir);
            Path sourceWal = sourceDir.resolve(Store.WAL_FILE);
            Path targetWal = targetDir.resolve(Store.WAL_FILE);
            for (int attempt = 1; attempt <= ATTEMPTS_MAX; attempt++) {
                // The log first: commits in it are either in the data file copied after it, or
                // after that file's newest meta, so opening the copy replays them.
                if (Files.exists(sourceWal)) copyFile(sourceWal, targetWal);
                copyFile(source, target);
                String problem = check(targetDir);
                if (problem == null) return;
                lastProblem = problem;
                Files.delete(target);
                Files.deleteIfExists(targetWal);
                Thread.sleep(10L * attempt);
            }
        } catch (UnreadableFileException e) {
            throw new UnreadableFileException(e.file(), "backup of " + sourceDir + " into " + targetDir + " failed: "
                + e.getMessage() + Backup.removePartial(targetDir, createdFrom), e);
        } catch (IOException e) {
            throw new CairnException("backup of " + sourceDir + " into " + targetDir + " failed: " + StoreFile.reason(e)
                + Backup.removePartial(targetDir, createdFrom), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CairnException("backup of " + sourceDir + " interrupted", e);
        }
        throw new CairnException("backup of " + sourceDir + ": none of " + ATTEMPTS_MAX
            + " copies was consistent (the database changed under each); last: " + lastProblem);
    }

    /**
     * Copies {@code source} into the new file {@code target} and forces it: the bytes it holds
     * when opened (up to its end, should it get shorter meanwhile). Reads and writes go apart, so
     * that a failure says which side it is.
     *
     * @throws UnreadableFileException {@code source} cannot be opened or read (its permissions)
     * @throws IOException {@code target} cannot be written
     */
    static void copyFile(Path source, Path target) throws IOException {
        FileChannel in;
        try {
            in = FileChannel.open(source, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UnreadableFileException(source, StoreFile.cannotRead(source, e), e);
        }
        try (in; FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocateDirect(1 << 20);
            long size = in.size();
            for (long at = 0; at < size; ) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), size - at));
                int n;
                try {
                    n = in.read(buffer, at);
                } catch (IOException e) {
                    throw new UnreadableFileException(source, StoreFile.cannotRead(source, e), e);
                }
                if (n < 0) break;
                buffer.flip();
                while (buffer.hasRemaining()) at += out.write(buffer, at);
            }
            out.force(true);
        }
    }

    /** Null when the copy opens and verifies, else what failed. */
    static String check(Path targetDir) {
        try (Store copy = Store.open(targetDir)) {
            VerifyReport report = copy.verify();
            return report.ok() ? null : String.join("; ", report.problems());
        } catch (CorruptionException e) {
            return e.getMessage();
        }
    }
}
