package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.DatabaseLockedException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The lock of a database folder: an OS lock on its lock file ({@link Store#LOCK_FILE}), taken by
 * a {@link Store} for as long as it is open, and by a copy of the folder while it copies.
 *
 * <p>The OS lock is a POSIX record lock, and closing <em>any</em> channel of a file releases every
 * such lock the process holds on it. So a second open of a folder that this JVM holds must never
 * open the lock file, not even to find the lock taken and close it again: that would release the
 * first holder's lock, and another process could then open the folder under it and write into
 * its files. A registry of the lock files this JVM holds (by file key: the same file through
 * another path, a symbolic link or a hard link is the same lock) refuses a second taker before
 * it touches the file; taking and releasing go through one monitor, so two threads opening one
 * folder cannot race past the registry.
 */
final class FolderLock implements AutoCloseable {
    /** File keys of the lock files this JVM holds; guarded by FolderLock.class. */
    private static final Set<Object> HELD = new HashSet<>();
    /**
     * Channels of lock files that some other code of this JVM locked outside this registry:
     * closing them would release that lock, so they stay open. Guarded by FolderLock.class.
     */
    private static final List<FileChannel> NEVER_CLOSED = new ArrayList<>();

    private final Path dir;
    private final Object key;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean released;

    private FolderLock(Path dir, Object key, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the folder's lock (creating the lock file if it is missing), or refuses.
     *
     * @throws DatabaseLockedException another process, or another handle of this JVM, holds it
     */
    static FolderLock take(Path dir) throws IOException {
        return take(dir, false);
    }

    /**
     * The lock a copy of the folder takes ({@link Store#copyAsIs}): shared, through a channel
     * that only reads the lock file, so that a lock file this user may only read serves (a folder
     * of another user, files of mode 444: verify, stats and backup only read). It keeps every
     * store, of this process or another, from opening the folder until it is released, as a
     * store's exclusive lock keeps a copy out; copies may share it. Null when the folder has no
     * lock file and this user cannot make one (a folder it may not write into): no store has the
     * folder open then, since an open makes the lock file first, and the caller checks after
     * copying that none made one meanwhile.
     *
     * @throws DatabaseLockedException a store, of this process or another, holds the folder
     * @throws UnreadableFileException the lock file is there and this user may not read it
     */
    static FolderLock takeShared(Path dir) throws IOException {
        if (!Files.exists(dir.resolve(Store.LOCK_FILE))) {
            try {
                Files.createFile(dir.resolve(Store.LOCK_FILE));
            } catch (FileAlreadyExistsException exists) {
                // made meanwhile: lock it
            } catch (IOException cannotMake) {
                return null;
            }
        }
        return take(dir, true);
    }

    private static FolderLock take(Path dir, boolean shared) throws IOException {
        Path file = dir.resolve(Store.LOCK_FILE);
        boolean interrupted = Thread.interrupted(); // tryLock on an interrupted thread closes its channel
        try {
            synchronized (FolderLock.class) {
                if (!shared) {
                    try {
                        Files.createFile(file);
                    } catch (FileAlreadyExistsException exists) {
                        // The usual case: the lock file stays in the folder.
                    }
                }
                Object key = fileKey(file);
                if (HELD.contains(key)) throw locked(dir);
                FileChannel channel;
                if (shared) {
                    try {
                        channel = FileChannel.open(file, StandardOpenOption.READ);
                    } catch (IOException e) {
                        throw new UnreadableFileException(file, StoreFile.cannotRead(file, e)
                            + "; a copy locks the folder through it, so that no process changes the database while it"
                            + " is copied", e);
                    }
                } else {
                    channel = FileChannel.open(file, StandardOpenOption.WRITE);
                }
                FileLock lock;
                try {
                    lock = channel.tryLock(0, Long.MAX_VALUE, shared);
                } catch (OverlappingFileLockException e) {
                    NEVER_CLOSED.add(channel);
                    throw locked(dir);
                } catch (IOException | RuntimeException e) {
                    channel.close(); // this JVM holds no lock on the file (HELD): nothing to release
                    throw e;
                }
                if (lock == null) {
                    channel.close(); // another process holds it; this JVM holds none to release
                    throw locked(dir);
                }
                HELD.add(key);
                return new FolderLock(dir, key, channel, lock);
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private static DatabaseLockedException locked(Path dir) {
        return new DatabaseLockedException("database folder " + dir + " is in use by another process or handle");
    }

    /** The file's identity (device and inode); its real path where the platform has no file key. */
    private static Object fileKey(Path file) throws IOException {
        Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        return key != null ? key : file.toRealPath();
    }

    /** Releases the lock. Idempotent. */
    @Override
    public void close() {
        synchronized (FolderLock.class) {
            if (released) return;
            released = true;
            try {
                lock.release();
                channel.close();
            } catch (IOException e) {
                throw new CairnException("cannot release the lock of " + dir + ": " + StoreFile.reason(e), e);
            } finally {
                HELD.remove(key);
            }
        }
    }
}
