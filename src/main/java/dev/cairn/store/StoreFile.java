package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.DatabaseLockedException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * One open file of a store (the data file or the log): its path and a channel that survives
 * {@link Thread#interrupt}.
 *
 * <p>A {@link FileChannel} is interruptible: an interrupt of a thread inside (or entering) one of
 * its calls closes the channel for every thread. An application that cancels a task (a GUI's
 * Future.cancel(true), an executor's shutdownNow) while it commits or reads would otherwise leave
 * the database refusing every write until it is reopened. So each call here runs with the
 * caller's interrupt status cleared, and if an interrupt arriving meanwhile (or one of another
 * thread using the same channel) closed the channel, opens the file again and repeats the call:
 * positional reads and writes and forces may be repeated. The caller's interrupt status is set
 * again before the call returns, so its cancellation still takes effect at its next check; the
 * file operation itself is never cut short. Only {@link #close} closes the file for good.
 *
 * <p>The data file's channel holds the store's data lock ({@link FolderLock#lockData}), which
 * closing the channel releases: a new channel takes it again. If another process took it in
 * between, this file refuses every call from then on (it would write under that process).
 */
final class StoreFile implements AutoCloseable {
    /** Interrupts one call survives before it gives up (each one needs a new interrupt). */
    static final int MAX_REOPENS = 1000;

    final Path path;
    private final OpenOption[] reopenOptions;
    /** The folder whose data file this is, when its channel holds the data lock; null for the log. */
    private final Path lockedDir;
    private volatile FileChannel channel;
    private volatile boolean closed;
    /** Why the data lock is lost (another process took it after an interrupt released it); null while held. */
    private volatile String lockLost;

    private StoreFile(Path path, FileChannel channel, OpenOption[] reopenOptions, Path lockedDir) {
        this.path = path;
        this.channel = channel;
        this.reopenOptions = reopenOptions;
        this.lockedDir = lockedDir;
    }

    /**
     * Opens the file; opening it again after an interrupt uses the same options but those that
     * create or truncate it.
     */
    static StoreFile open(Path path, OpenOption... options) throws IOException {
        OpenOption[] again = Arrays.stream(options)
            .filter(o -> o != StandardOpenOption.CREATE && o != StandardOpenOption.CREATE_NEW
                && o != StandardOpenOption.TRUNCATE_EXISTING)
            .toArray(OpenOption[]::new);
        boolean interrupted = Thread.interrupted();
        try {
            return new StoreFile(path, FileChannel.open(path, options), again, null);
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /**
     * Opens the data file of the folder {@code dir} to read and write, and takes the data lock
     * through its channel ({@link FolderLock#lockData}); the caller holds the file in the
     * registry ({@link FolderLock#holdData}).
     *
     * @throws DatabaseLockedException another process (or other code of this JVM) holds the data
     *     file: its folder's lock file was deleted or replaced while that process had it open
     */
    static StoreFile openData(Path path, Path dir) throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            if (!FolderLock.lockData(channel)) {
                throw new DatabaseLockedException("database folder " + dir + " is in use by another process or handle: its"
                    + " data file " + path.getFileName() + " is locked, though its lock file was not (the lock file was"
                    + " deleted or replaced while that process had the database open)");
            }
            return new StoreFile(path, channel, new OpenOption[] {StandardOpenOption.READ, StandardOpenOption.WRITE}, dir);
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    /** One call on the channel. */
    private interface Call<T> {
        T on(FileChannel channel) throws IOException;
    }

    /**
     * Runs the call with the interrupt status cleared; repeats it on a new channel while an
     * interrupt closed the one it ran on. Errors name the call: {@code what}, then {@code detail}
     * if not null, else the page {@code at >> pageShift} (pageShift > 0) or the byte {@code at}
     * (at >= 0) of the file, else the file (built only on failure: the calls are on the commit path).
     */
    private <T> T run(Call<T> call, String what, long at, int pageShift, String detail) {
        boolean interrupted = Thread.interrupted();
        try {
            for (int reopens = 0; ; reopens++) {
                FileChannel c = channel;
                try {
                    return call.on(c);
                } catch (ClosedChannelException e) {
                    // Also AsynchronousCloseException and ClosedByInterruptException: the channel
                    // was closed by an interrupt of this thread or of another one using it.
                    interrupted |= Thread.interrupted();
                    if (closed) throw new IllegalStateException(failed(what, at, pageShift, detail) + "the file is closed", e);
                    if (lockLost != null) throw new DatabaseLockedException(failed(what, at, pageShift, detail) + lockLost, e);
                    if (reopens == MAX_REOPENS) {
                        throw new CairnException(failed(what, at, pageShift, detail) + "interrupted " + reopens + " times", e);
                    }
                    reopen(c);
                } catch (IOException e) {
                    throw new CairnException(failed(what, at, pageShift, detail) + reason(e), e);
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private String failed(String what, long at, int pageShift, String detail) {
        String where = detail != null ? detail
            : pageShift > 0 ? "page " + (at >> pageShift) + " of " + path
            : at >= 0 ? path + " at byte " + at
            : path.toString();
        return "cannot " + what + " " + where + ": ";
    }

    /** True when another process took this data file after an interrupt released the lock ({@link #reopen}). */
    boolean lockLost() {
        return lockLost != null;
    }

    /**
     * Refuses when this data file's lock was lost ({@link #reopen}); first opens the file again
     * when an interrupt closed its channel, which released the lock, so that a read through the
     * mapping (no call on the channel) finds out at once that another process took the folder
     * meanwhile, instead of reading pages that process writes (probe 84: CorruptionException
     * and a record not found, on an intact file).
     *
     * @throws DatabaseLockedException another process locked the data file since
     */
    void checkLocked() {
        FileChannel c = channel;
        if (!c.isOpen() && !closed) reopen(c);
        String lost = lockLost;
        if (lost != null) throw new DatabaseLockedException(path + ": " + lost);
    }

    /**
     * Opens the file again unless another thread already replaced the closed channel; a data file
     * takes the data lock again, or is lost for good when another process took it meanwhile.
     */
    private synchronized void reopen(FileChannel closedChannel) {
        if (channel != closedChannel || closed || lockLost != null) return;
        FileChannel fresh;
        try {
            fresh = FileChannel.open(path, reopenOptions);
            if (lockedDir != null && !FolderLock.lockData(fresh)) {
                lockLost = "an interrupt closed the data file, which released this process's lock on it, and another"
                    + " process or handle has locked it since (the folder's lock file was deleted or replaced while this"
                    + " database was open), so this handle reads and writes nothing more: close it; the database in "
                    + lockedDir + " is now written by that other process";
                return; // the caller's run sees lockLost
            }
        } catch (ClosedChannelException e) {
            return; // an interrupt closed the new channel before it was locked: the caller's run opens another
        } catch (IOException e) {
            throw new CairnException("cannot open " + path + " again after an interrupt closed it: " + reason(e), e);
        }
        channel = fresh;
        try {
            closedChannel.close();
        } catch (IOException ignored) {
            // It is closed already; close() only makes sure.
        }
    }

    /**
     * An IOException's message, or its kind when it has none (ClosedByInterruptException has
     * none). A file system exception without a reason names only its file (an {@link
     * java.nio.file.AccessDeniedException} says "DIR/data.cairn", nothing else): its kind is
     * said after the file, and for access denied, which user.
     */
    static String reason(IOException e) {
        if (e instanceof ClosedByInterruptException) return "the thread was interrupted";
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null && f.getFile() != null) {
            String kind = switch (f) {
                case java.nio.file.AccessDeniedException a -> "access denied (to user " + System.getProperty("user.name")
                    + ": see the owner and permissions of the file and its folder)";
                case java.nio.file.NoSuchFileException n -> "no such file";
                case java.nio.file.NotDirectoryException n -> "not a folder";
                case java.nio.file.FileAlreadyExistsException x -> "exists already";
                default -> f.getClass().getSimpleName();
            };
            return f.getMessage() + ": " + kind;
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** "cannot read FILE: why", naming the file once whether or not the exception names it. */
    static String cannotRead(Path file, IOException e) {
        boolean named = e instanceof java.nio.file.FileSystemException f && f.getFile() != null;
        return "cannot read " + (named ? "" : file + ": ") + reason(e);
    }

    /** Writes every remaining byte of the buffer at position; errors name the byte. */
    void writeFully(ByteBuffer bytes, long position) {
        writeFully(bytes, position, 0);
    }

    /**
     * Writes every remaining byte of the buffer at position; a failure names the page it was
     * writing (position >> pageShift), or with pageShift 0 the byte.
     */
    void writeFully(ByteBuffer bytes, long position, int pageShift) {
        int start = bytes.position();
        run(c -> {
            // A repeated call goes on from the bytes the closed channel had written.
            while (bytes.hasRemaining()) c.write(bytes, position + bytes.position() - start);
            return null;
        }, "write", position, pageShift, null);
    }

    /**
     * Fills the buffer (byte i of it from file byte position + i) until its limit or the end of
     * the file, then flips it: it then holds the bytes read.
     */
    void readFully(ByteBuffer into, long position) {
        run(c -> {
            while (into.hasRemaining()) {
                if (c.read(into, position + into.position()) < 0) break;
            }
            return null;
        }, "read", position, 0, null);
        into.flip();
    }

    /** Forces every write so far to the device (fdatasync). */
    void force() {
        run(c -> {
            c.force(false);
            return null;
        }, "force", -1, 0, null);
    }

    /** The channel now in use: tests close it as an interrupt would. */
    FileChannel channel() {
        return channel;
    }

    long size() {
        return run(FileChannel::size, "read the size of", -1, 0, null);
    }

    void truncate(long bytes) {
        run(c -> c.truncate(bytes), "truncate", -1, 0, path + " to " + bytes + " bytes");
    }

    MemorySegment map(FileChannel.MapMode mode, long offset, long bytes, Arena arena) {
        return run(c -> c.map(mode, offset, bytes, arena), "map", -1, 0,
            path + " bytes [" + offset + ", " + (offset + bytes) + ")");
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            try {
                channel.close();
            } catch (IOException e) {
                throw new CairnException("cannot close " + path + ": " + reason(e), e);
            }
        }
    }
}
