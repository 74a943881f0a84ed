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
        Path file = dir.resolve(Store.LOCK_FILE);
        boolean interrupted = Thread.interrupted(); // tryLock on an interrupted thread closes its channel
        try {
            synchronized (FolderLock.class) {
                try {
                    Files.createFile(file);
                } catch (FileAlreadyExistsException exists) {
                    // The usual case: the lock file stays in the folder.
                }
                Object key = fileKey(file);
                if (HELD.contains(key)) throw locked(dir);
                FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
                FileLock lock;
                try {
                    lock = channel.tryLock();
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
