package dev.cairn.store;

import dev.cairn.CairnException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Compacting copy (storage-format.md §8.2): every tree of a pinned snapshot written anew, in key
 * order, into a fresh database, so the copy holds live pages only, filled by ascending inserts.
 * The data file of a database never shrinks (§5.4 relies on it); this is how space freed by
 * deletes is given back.
 */
final class CompactCopy {
    /** Bytes of keys and values per transaction: dirty pages stay on the heap until commit. */
    private static final long BATCH_BYTES = 16L << 20;
    /** Folder in the target where the copy is built; its data file is renamed into place when whole. */
    static final String BUILD_DIR = "compact.partial";

    private CompactCopy() { }

    static void copy(Store store, ReadTxn reader, Path targetDir) {
        Path build = targetDir.resolve(BUILD_DIR);
        Backup.checkTarget(store.directory(), targetDir, "compaction");
        if (Files.exists(build)) {
            throw new IllegalArgumentException("compaction target " + targetDir + " holds " + BUILD_DIR
                + ", left by a compaction that did not finish (or one running now); delete it first");
        }
        boolean whole = false;
        Path createdFrom = Backup.firstMissing(targetDir);
        try {
            // Every commit goes straight to the data file: no log to write twice.
            StoreOptions options = new StoreOptions(false, store.pageBytes(), 0);
            try (Store copy = Store.open(build, options)) {
                List<String> trees = reader.treeNames();
                try (WriteTxn w = copy.beginWrite()) {
                    for (String tree : trees) w.createTree(tree);
                    w.commit();
                }
                for (String tree : trees) copyTree(reader, copy, tree);
            }
            Files.move(build.resolve(Store.DATA_FILE), targetDir.resolve(Store.DATA_FILE), StandardCopyOption.ATOMIC_MOVE);
            Store.forceDirectory(targetDir);
            whole = true;
            deleteBuild(build);
        } catch (IOException e) {
            throw new CairnException("compacting copy of " + store.directory() + " into " + targetDir + " failed: "
                + e.getMessage(), e);
        } finally {
            if (!whole) deleteBuildQuietly(build, targetDir, createdFrom);
        }
    }

    /** Removes the build folder and the files a store leaves in it (nothing else: a stranger's file fails the delete). */
    private static void deleteBuild(Path build) throws IOException {
        for (String name : new String[] {Store.DATA_FILE, Store.DATA_FILE + ".new", Store.WAL_FILE, Store.LOCK_FILE}) {
            Files.deleteIfExists(build.resolve(name));
        }
        Files.deleteIfExists(build);
    }

    /** After a failed compaction: the build folder, and the folders the compaction created for the target. */
    private static void deleteBuildQuietly(Path build, Path targetDir, Path createdFrom) {
        try {
            deleteBuild(build);
            Backup.removeCreatedFolders(targetDir, createdFrom);
        } catch (IOException suppressed) {
            // The copy's own failure is the one to report; the next compaction names the folder.
            System.getLogger(CompactCopy.class.getName()).log(System.Logger.Level.DEBUG, "cleanup of " + build, suppressed);
        }
    }

    private static void copyTree(ReadTxn reader, Store copy, String tree) {
        try (Cursor c = reader.cursor(tree)) {
            boolean more = c.first();
            while (more) {
                try (WriteTxn w = copy.beginWrite()) {
                    long bytes = 0;
                    while (more && bytes < BATCH_BYTES) {
                        MemorySegment key = c.key();
                        MemorySegment value = c.value();
                        w.put(tree, key, value);
                        bytes += key.byteSize() + value.byteSize();
                        more = c.next();
                    }
                    w.commit();
                }
            }
        }
    }
}
