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
     * database yet, while another process may be writing to it. The copy is built in the
     * target's {@link BackupBuild#DIR} folder and moved into place once it opens and verifies;
     * a backup that fails leaves nothing in the target.
     *
     * @throws IllegalArgumentException if {@code sourceDir} holds no database or the target does
     * @throws CairnException if no copy passed its checks in {@value #ATTEMPTS_MAX} attempts
     */
    public static void copy(Path sourceDir, Path targetDir) {
        Path source = sourceDir.resolve(Store.DATA_FILE);
        if (!Files.isRegularFile(source)) throw new IllegalArgumentException("no database in " + sourceDir);
        String lastProblem = "";
        // What each failed copy looked like: copies that differ show a folder that changed under them.
        java.util.Set<Long> looks = new java.util.HashSet<>();
        try (BackupBuild build = BackupBuild.begin(sourceDir, targetDir)) {
            Path copyDir = build.dir();
            Path target = copyDir.resolve(Store.DATA_FILE);
            try {
                Files.createDirectories(copyDir);
                Path sourceWal = sourceDir.resolve(Store.WAL_FILE);
                Path targetWal = copyDir.resolve(Store.WAL_FILE);
                for (int attempt = 1; attempt <= ATTEMPTS_MAX; attempt++) {
                    // The log first: commits in it are either in the data file copied after it, or
                    // after that file's newest meta, so opening the copy replays them.
                    if (Files.exists(sourceWal)) copyFile(sourceWal, targetWal);
                    copyFile(source, target);
                    long look = fingerprint(target, targetWal); // as copied: the check's open may write to it
                    String problem = check(copyDir);
                    if (problem == null) {
                        build.publish();
                        return;
                    }
                    lastProblem = problem;
                    looks.add(look);
                    Files.delete(target);
                    Files.deleteIfExists(targetWal);
                    Thread.sleep(10L * attempt);
                }
            } catch (UnreadableFileException e) {
                throw new UnreadableFileException(e.file(), "backup of " + sourceDir + " into " + targetDir + " failed: "
                    + e.getMessage() + build.discard(), e);
            } catch (IOException e) {
                throw new CairnException("backup of " + sourceDir + " into " + targetDir + " failed: " + StoreFile.reason(e)
                    + build.discard(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CairnException("backup of " + sourceDir + " interrupted" + build.discard(), e);
            }
            throw new CairnException(noConsistentCopy(sourceDir, lastProblem, looks.size() > 1) + build.discard());
        }
    }

    /**
     * Why no copy was taken, and what to do. Copies that differ from each other were taken while
     * a writer committed: no damage to the folder, only no copy of one committed state (the
     * problem the last copy's check found is kept for a developer, said to be the copy's). Copies
     * that are all alike were taken of a folder that did not change, so their failure is the
     * folder's own: it may be damaged.
     */
    static String noConsistentCopy(Path sourceDir, String lastProblem, boolean changed) {
        // The first problem says what kind; the rest (hundreds of leaked pages) follow from it.
        int more = lastProblem.split("; ").length - 1;
        if (more > 0) lastProblem = lastProblem.split("; ")[0] + ", and " + more + " more";
        if (!changed) {
            return "backup of " + sourceDir + " failed: " + ATTEMPTS_MAX + " copies, taken while the folder did not change,"
                + " each fail the check the same way, so the database in it may be damaged: " + lastProblem + ". Check it:"
                + " stop the application or server that holds it, then run cairn verify " + sourceDir;
        }
        return "backup of " + sourceDir + " failed: the database in it is NOT damaged, but none of " + ATTEMPTS_MAX
            + " copies was consistent: the process that holds it open committed while each copy was being read, so"
            + " each copy mixes pages of different commits (what the check found in the last copy, not in the database: "
            + lastProblem + "). Take the backup at a quieter time (fewer commits a second), or stop the application or"
            + " server that holds " + sourceDir + " for as long as the copy takes: a folder no process holds is copied at"
            + " once, under its lock; or back up from inside that process, which never fails for its commits: the"
            + " server console's backup TARGET, Cairn.backup in an application";
    }

    /**
     * A checksum of what tells one copy from another: the data file's size, header and meta
     * pages (the first 64 KiB) and the log's size and last 64 KiB, where every commit lands.
     */
    static long fingerprint(Path data, Path wal) throws IOException {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        for (Path file : new Path[] {data, wal}) {
            if (!Files.exists(file)) continue;
            try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = in.size();
                crc.update(java.nio.ByteBuffer.allocate(8).putLong(0, size));
                java.nio.ByteBuffer part = java.nio.ByteBuffer.allocate((int) Math.min(size, 1 << 16));
                long from = file == data ? 0 : size - part.capacity();
                while (part.hasRemaining() && in.read(part, from + part.position()) > 0) { }
                crc.update(part.flip());
            }
        }
        return crc.getValue();
    }

    /** {@link #copyFile(Path, Path, Path)} without the data lock: a file another process may hold. */
    static void copyFile(Path source, Path target) throws IOException {
        copyFile(source, target, null);
    }

    /**
     * Copies {@code source} into the new file {@code target} and forces it: the bytes it holds
     * when opened (up to its end, should it get shorter meanwhile). Reads and writes go apart, so
     * that a failure says which side it is. With {@code lockedDir}, {@code source} is that
     * folder's data file, copied under its shared data lock ({@link FolderLock#lockDataShared}).
     * The source's channel is closed through {@link FolderLock#closeChannel}: closing it while a
     * store of this JVM holds the file would release that store's data lock.
     *
     * @throws UnreadableFileException {@code source} cannot be opened or read (its permissions)
     * @throws dev.cairn.DatabaseLockedException a store holds {@code lockedDir}'s data file
     * @throws IOException {@code target} cannot be written
     */
    static void copyFile(Path source, Path target, Path lockedDir) throws IOException {
        Object key;
        FileChannel in;
        try {
            key = FolderLock.keyOf(source);
            in = FileChannel.open(source, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UnreadableFileException(source, StoreFile.cannotRead(source, e), e);
        }
        try {
            if (lockedDir != null) FolderLock.lockDataShared(in, lockedDir);
            try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
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
        } finally {
            FolderLock.closeChannel(key, in);
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
