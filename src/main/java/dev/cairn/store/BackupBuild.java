package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.internal.HeapShortage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Where {@code cairn backup} builds its copy (storage-format.md §8.1): the folder {@value #DIR}
 * inside the target, whose data file (and log) are renamed into the target only once the copy
 * is whole and checked. So a backup killed part-way leaves no data file in the target that
 * could be taken for a backup, only this folder, which the next backup names (as compaction
 * names its {@code compact.partial}). A copy that fails leaves nothing: the folder, its lock
 * file, and the target folders the backup created are removed again. A published backup holds
 * the note {@link BackupNote#FILE}, saying which folder it copies and when.
 */
public final class BackupBuild implements AutoCloseable {
    /** The build folder's name inside the target. */
    public static final String DIR = "backup.partial";

    private final Path sourceDir;
    private final Path targetDir;
    private final Path build;
    private final Path createdFrom;
    private boolean done;

    private BackupBuild(Path sourceDir, Path targetDir, Path createdFrom) {
        this.sourceDir = sourceDir;
        this.targetDir = targetDir;
        this.build = targetDir.resolve(DIR);
        this.createdFrom = createdFrom;
    }

    /**
     * Checks the target (no database, not inside {@code sourceDir}, no build folder of a backup
     * that did not finish) and starts a build in it: makes the build folder, which only one of
     * two backups started at once into the same target can (probe 124: both went on, each
     * removing or replacing the other's files, and both failed naming files that were gone).
     *
     * @throws IllegalArgumentException a target that cannot take the backup, naming what to delete
     * @throws CairnException the target or build folder cannot be made
     */
    public static BackupBuild begin(Path sourceDir, Path targetDir) {
        Path build = targetDir.resolve(DIR);
        if (Files.exists(build)) throw partialThere(targetDir);
        Backup.checkTarget(sourceDir, targetDir, "backup");
        HeapShortage.pause(0); // loads what close's pause needs, while there is room
        Path createdFrom = Backup.firstMissing(targetDir);
        try {
            Files.createDirectories(targetDir);
            Files.createDirectory(build);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw partialThere(targetDir); // another backup made it since the check
        } catch (IOException e) {
            throw new CairnException("cannot make the folder " + build + " for the backup: " + StoreFile.reason(e), e);
        }
        return new BackupBuild(sourceDir, targetDir, createdFrom);
    }

    private static IllegalArgumentException partialThere(Path targetDir) {
        Path build = targetDir.resolve(DIR);
        boolean logOnly = Files.exists(targetDir.resolve(Store.WAL_FILE)) && !Files.exists(targetDir.resolve(Store.DATA_FILE));
        return new IllegalArgumentException("backup target " + targetDir + " holds " + DIR + ", left by a backup that did"
            + " not finish (killed, or its machine stopped), or by one running now: it is no backup. Delete " + build
            + (logOnly ? " and " + targetDir.resolve(Store.WAL_FILE) + " (moved there by that backup as it finished)" : "")
            + " and run the backup again");
    }

    /** The folder to copy into. */
    public Path dir() {
        return build;
    }

    /**
     * Moves the copy into the target: the backup's note ({@link BackupNote}) first, then its log,
     * then its data file (the file that makes the target a database), each by a rename, and the
     * target folder forced; then removes the build folder with the lock file an open of the copy
     * left in it. The note goes first so that no backup is in place without it.
     *
     * @throws CairnException a rename failed (the build is then removed by {@link #close})
     */
    public void publish() {
        try {
            BackupNote.write(build, sourceDir, java.time.Instant.now());
            Files.move(build.resolve(BackupNote.FILE), targetDir.resolve(BackupNote.FILE), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
            Path wal = build.resolve(Store.WAL_FILE);
            if (Files.exists(wal)) Files.move(wal, targetDir.resolve(Store.WAL_FILE), StandardCopyOption.ATOMIC_MOVE);
            Files.move(build.resolve(Store.DATA_FILE), targetDir.resolve(Store.DATA_FILE), StandardCopyOption.ATOMIC_MOVE);
            Store.forceDirectory(targetDir);
            done = true;
            deleteBuild();
        } catch (IOException e) {
            throw new CairnException("backup into " + targetDir + " failed as the copy in " + build + " was moved into place: "
                + StoreFile.reason(e), e);
        }
    }

    /**
     * After a failed copy: removes the build folder and the target folders the backup created,
     * and says so, for the message ({@code "; nothing was left in TARGET"}, or what to delete).
     */
    public String discard() {
        if (done) return "";
        done = true;
        try {
            deleteBuild();
            // A log there without a data file is this copy's, moved by a publish that failed before the data
            // file (the target held neither: checkTarget).
            if (!Files.exists(targetDir.resolve(Store.DATA_FILE))) {
                Files.deleteIfExists(targetDir.resolve(Store.WAL_FILE));
                Files.deleteIfExists(targetDir.resolve(BackupNote.FILE));
            }
            Backup.removeCreatedFolders(targetDir, createdFrom);
            return "; nothing was left in " + targetDir;
        } catch (IOException e) {
            return "; the partial copy could not be removed (" + StoreFile.reason(e) + "): delete " + build
                + " before retrying";
        }
    }

    /**
     * Discards the build unless it was published or discarded (a copy that failed with an
     * exception). A copy that failed for want of heap may find none for its clean-up either at
     * first (probe 94: 23 target folders left in 210 backups failed so): what the copy held is
     * garbage by now, so the clean-up is tried again after a pause, for up to 5 s (a second was
     * not enough: a second probe, whose own thread keeps the heap full, still found 48 folders
     * left in 286 failed backups).
     */
    @Override
    public void close() {
        for (int attempt = 0; !done; attempt++) {
            try {
                String said = discard();
                System.getLogger(BackupBuild.class.getName()).log(System.Logger.Level.DEBUG, "backup build discarded" + said);
            } catch (OutOfMemoryError e) {
                if (attempt == CLEAN_UP_ATTEMPTS) throw e;
                done = false;
                HeapShortage.pause(20);
            }
        }
    }

    /** Tries of a clean-up short of heap, 20 ms apart. */
    private static final int CLEAN_UP_ATTEMPTS = 250;

    /** Removes the build folder and the files a copy and its open leave in it (a stranger's file fails the delete). */
    private void deleteBuild() throws IOException {
        for (String name : new String[] {Store.DATA_FILE, Store.DATA_FILE + ".new", Store.WAL_FILE, Store.LOCK_FILE,
                BackupNote.FILE}) {
            Files.deleteIfExists(build.resolve(name));
        }
        Files.deleteIfExists(build);
    }
}
