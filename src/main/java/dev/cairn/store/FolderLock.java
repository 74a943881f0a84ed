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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
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
 *
 * <p>A lock file can be deleted (or replaced) while its store holds it: an operator removing a
 * "stale" lock. The next open would then make a new lock file, lock it, and write into the same
 * data file as the first store. So a store also locks one byte of its data file, {@link
 * #DATA_LOCK_BYTE}, through the one channel it has to it ({@link StoreFile#openData}), and a
 * copy takes that byte shared ({@link #lockDataShared}). The same rule holds there: the registry
 * holds the data file's key for its store, and every other channel of a data file that this JVM
 * opens is closed through {@link #closeChannel}, which keeps it open while a store of this JVM
 * holds the file.
 */
final class FolderLock implements AutoCloseable {
    /** File keys of the lock files this JVM holds; guarded by FolderLock.class. */
    private static final Set<Object> HELD = new HashSet<>();
    /**
     * Channels of lock files that some other code of this JVM locked outside this registry:
     * closing them would release that lock, so they stay open. Guarded by FolderLock.class.
     */
    private static final List<FileChannel> NEVER_CLOSED = new ArrayList<>();
    /**
     * Channels of data files held by a store of this JVM that other code (a copy) is done with:
     * closed once the store lets go of the file. Guarded by FolderLock.class.
     */
    private static final Map<Object, List<FileChannel>> CLOSE_LATER = new HashMap<>();

    /**
     * The byte of a data file that its store locks (storage-format.md §1): far beyond the end of
     * any data file, so that no read or write ever touches it (locks are mandatory on Windows).
     */
    static final long DATA_LOCK_BYTE = Long.MAX_VALUE - 1;

    private final Path dir;
    private final Object key;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean released;
    /** The key of the data file that this lock's store holds in the registry; null before {@link #holdData}. */
    private Object dataKey;

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
                // Asked first: the lock file stays in the folder, and createFile threw (and the
                // open caught) an exception each time it was there, 0.2 ms of a 2 ms reopen.
                if (!shared && !Files.exists(file)) {
                    try {
                        Files.createFile(file);
                    } catch (FileAlreadyExistsException exists) {
                        // made meanwhile
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

    /**
     * Holds the folder's data file in the registry for this lock's store, before the store opens
     * its channel and locks the file: refuses while another store or copy of this JVM holds it
     * (through another lock file: the folder's was deleted or replaced meanwhile). Released with
     * this lock; holding the same file again is a no-op (a salvage opens it more than once).
     */
    void holdData(Path data) throws IOException {
        synchronized (FolderLock.class) {
            Object key = fileKey(data);
            if (key.equals(dataKey)) return;
            if (HELD.contains(key)) throw locked(dir);
            if (dataKey != null) HELD.remove(dataKey);
            HELD.add(key);
            dataKey = key;
        }
    }

    /**
     * Takes the data lock through the store's channel of its data file: exclusive, one byte at
     * {@link #DATA_LOCK_BYTE}. When another process holds it, closes the channel (this JVM holds
     * no lock on the byte, or tryLock would have said so) and returns false; when other code of
     * this JVM holds it, keeps the channel open for good, since closing it would release that
     * lock, and returns false.
     */
    static boolean lockData(FileChannel channel) throws IOException {
        try {
            if (channel.tryLock(DATA_LOCK_BYTE, 1, false) != null) return true;
        } catch (OverlappingFileLockException e) {
            synchronized (FolderLock.class) {
                NEVER_CLOSED.add(channel);
            }
            return false;
        }
        channel.close();
        return false;
    }

    /**
     * Takes the data lock shared through a copy's channel of {@code dir}'s data file; refuses when
     * a store, of this process or another, holds it. Close the channel through {@link #closeChannel}.
     *
     * @throws DatabaseLockedException a store holds the data file
     */
    static void lockDataShared(FileChannel channel, Path dir) throws IOException {
        try {
            if (channel.tryLock(DATA_LOCK_BYTE, 1, true) != null) return;
        } catch (OverlappingFileLockException e) {
            // A store of this JVM holds it.
        }
        throw locked(dir);
    }

    /**
     * True if a store or copy, of this process or another, holds the data file {@code data}
     * (its data lock is taken): what {@link Store#inUse} asks when the lock file says nothing.
     */
    static boolean dataInUse(Path data) throws IOException {
        Object key = fileKey(data);
        synchronized (FolderLock.class) {
            if (HELD.contains(key)) return true;
        }
        FileChannel channel = FileChannel.open(data, StandardOpenOption.READ);
        try {
            FileLock probe = channel.tryLock(DATA_LOCK_BYTE, 1, true);
            if (probe == null) return true;
            probe.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        } finally {
            closeChannel(key, channel);
        }
    }

    /** The key by which {@link #closeChannel} knows the file; take it before opening the channel. */
    static Object keyOf(Path file) throws IOException {
        return fileKey(file);
    }

    /**
     * Closes a channel that code other than a store opened on a folder's file (a copy): at once,
     * unless a store of this JVM holds the file, whose lock closing it would release; then when
     * that store lets go.
     */
    static void closeChannel(Object key, FileChannel channel) throws IOException {
        synchronized (FolderLock.class) {
            if (HELD.contains(key)) {
                CLOSE_LATER.computeIfAbsent(key, k -> new ArrayList<>()).add(channel);
                return;
            }
        }
        channel.close();
    }

    private static DatabaseLockedException locked(Path dir) {
        return new DatabaseLockedException("database folder " + dir + " is in use by another process or handle");
    }

    /** The file's identity (device and inode); its real path where the platform has no file key. */
    private static Object fileKey(Path file) throws IOException {
        Object key = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        return key != null ? key : file.toRealPath();
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // A read-only channel of a copy: nothing was written through it.
        }
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
                if (dataKey != null) {
                    // The store closed its data file before: nothing of it is locked any more.
                    HELD.remove(dataKey);
                    for (FileChannel later : CLOSE_LATER.getOrDefault(dataKey, List.of())) closeQuietly(later);
                    CLOSE_LATER.remove(dataKey);
                }
            }
        }
    }
}
