package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.CorruptionException;
import dev.cairn.DatabaseLockedException;
import dev.cairn.WritesStoppedException;
import dev.cairn.internal.Check;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;

import static dev.cairn.store.PageLayout.*;

/**
 * A database folder: a data file ({@value #DATA_FILE}), its write-ahead log ({@value #WAL_FILE})
 * and a lock file ({@value #LOCK_FILE}). Named trees of byte keys and byte values, one writer,
 * any number of readers (storage-format.md).
 *
 * <ul>
 *   <li>{@link #beginRead()} never blocks: it pins the current snapshot (one atomic increment on
 *       a per-thread stripe, and one allocation). {@link #beginWrite()} blocks until the write slot is free.
 *   <li>Commits are durable by default: a commit appends its operations to the log and forces
 *       the log only; a checkpoint forces the data file once the log or the space held for it
 *       is large. A transaction too large for the log forces its pages and meta into the data
 *       file instead (storage-format.md §5).
 *   <li>After damage is detected ({@code CorruptionException}) the store refuses writes until
 *       it is reopened.
 *   <li>{@link #close()} is idempotent; it refuses while a write transaction is open; read
 *       transactions still open become unusable (their calls and segments throw
 *       {@link IllegalStateException}).
 * </ul>
 * {@snippet :
 * try (Store store = Store.open(dir)) {
 *     try (WriteTxn w = store.beginWrite()) {
 *         w.createTree("parts");
 *         w.put("parts", key, value);
 *         w.commit();
 *     }
 *     try (ReadTxn r = store.beginRead()) {
 *         MemorySegment v = r.get("parts", key);
 *     }
 * }
 * }
 */
public final class Store implements AutoCloseable {
    static final String DATA_FILE = "data.cairn";
    static final String WAL_FILE = "wal.cairn";
    static final String LOCK_FILE = "lock";
    /** Above this many bytes of ops a commit goes to the data file directly (storage-format.md §5.1.1). */
    static final long LOGGED_COMMIT_BYTES_MAX = 1L << 20;
    private static final System.Logger LOG = System.getLogger(Store.class.getName());

    private final Path dir;
    /** From the data file's header (storage-format.md §3.1); 0 for a file made before ids. */
    private final long databaseId;
    final PageFile pageFile;
    final WalFile wal;
    private final FolderLock folderLock;
    private final boolean durable;
    private final boolean writable;
    /** The data file's format read version (storage-format.md §3.1). */
    private final int formatVersion;
    private final long checkpointBytes;
    private final ReaderTable readers = new ReaderTable();
    private final Semaphore writeSlot = new Semaphore(1);
    /**
     * Held shared by each copy of a pinned snapshot (backup, compaction), exclusively by
     * {@link #close}: a close waits for a copy to finish rather than unmap the pages it reads.
     */
    private final java.util.concurrent.locks.ReentrantReadWriteLock copying = new java.util.concurrent.locks.ReentrantReadWriteLock();
    private volatile Thread writerThread;
    private volatile Snapshot current;
    private volatile boolean closed;
    private volatile boolean damaged;
    /**
     * Not null once a write failed (its state in memory is suspect): writes stop until a reopen.
     * What failed first, kept as thrown: its text is made only when a later write is refused,
     * since making it can run out of memory ({@link #markFailed}).
     */
    private volatile Throwable failedBecause;
    /** The last checkpoint tried after a commit was not taken (said once until one is). Writer only. */
    private boolean checkpointFailing;
    /** Read at the first write transaction (or to replay the log): see {@link #freeSpace()}. */
    private FreeSpace freeSpace;
    private long nextTxnId;
    /** The commit the data file alone holds (its newest meta), and that meta's slot. */
    private long checkpointTxn;
    private long checkpointSlot;
    /** Pages born at or before the checkpoint and freed since: held until the next one (§6). */
    private long heldForCheckpoint;
    /** The ops of the current write transaction, for its log frame; reused. */
    private final LogOps logOps = new LogOps();
    /** Page buffers reused by write transactions: up to 1 MiB of them. */
    private final PagePool pagePool;
    /** What {@link #recover} found in the log; null when there is no log. */
    private Recovered recovered;
    /** Tests only: runs in {@link #pin} between reading the current snapshot and pinning it (the race of §6). */
    Runnable beforePin;
    /** Full verify after every commit under -ea / -Dcairn.verify=all; torn-write tests turn it off. */
    boolean verifyAfterCommit = Check.expensiveOn();

    /** Creates a PageFile; tests pass a wrapper that injects faults. */
    interface PageFileFactory {
        PageFile create(StoreFile file, int pageBytes, boolean writable);
    }

    /** Creates a WalFile; tests pass a wrapper that injects faults. */
    interface WalFileFactory {
        WalFile create(StoreFile file, int pageBytes, long databaseId);
    }

    private Store(Path dir, FileHeader.Info info, PageFile pageFile, WalFile wal, FolderLock folderLock,
                  StoreOptions options) {
        this.dir = dir;
        this.databaseId = info.databaseId();
        this.pageFile = pageFile;
        this.wal = wal;
        this.folderLock = folderLock;
        this.durable = options.durable();
        this.checkpointBytes = options.checkpointBytes();
        this.writable = info.writable();
        this.formatVersion = info.readVersion();
        this.pagePool = new PagePool(pageFile.pageBytes, (1 << 20) / pageFile.pageBytes);
    }

    /** True if dir holds a database (its data file); {@link #open} creates one where it does not. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(DATA_FILE));
    }

    /**
     * True if dir holds a data file or a log: a database, or one whose data file is gone, which
     * {@link #open} refuses, naming both (its log may hold commits).
     */
    public static boolean holdsFiles(Path dir) {
        Path log = dir.resolve(WAL_FILE);
        try {
            return exists(dir) || Files.isRegularFile(log) && Files.size(log) > 0;
        } catch (IOException e) {
            return true; // there is a log: opening it says what is wrong with it
        }
    }

    /**
     * True if a store, of this process or another, holds the folder {@code dir} open now (its
     * lock is taken). Probes with the shared lock a copy takes ({@link FolderLock#takeShared}),
     * released at once; false for a folder without a lock file that this user cannot make one in.
     *
     * @throws CairnException naming the folder when its lock file cannot be read
     */
    public static boolean inUse(Path dir) {
        try {
            FolderLock probe = FolderLock.takeShared(dir);
            if (probe != null) probe.close();
            // The lock file may have been deleted or replaced under a store that holds the folder.
            Path data = dir.resolve(DATA_FILE);
            return Files.isRegularFile(data) && Files.isReadable(data) && FolderLock.dataInUse(data);
        } catch (DatabaseLockedException e) {
            return true;
        } catch (IOException e) {
            throw new CairnException("cannot probe the lock of " + dir + ": " + StoreFile.reason(e), e);
        }
    }

    /** Opens (creating if absent) the database in dir, with durable commits. */
    public static Store open(Path dir) {
        return open(dir, StoreOptions.defaults());
    }

    /**
     * Opens (creating if absent) the database in dir.
     *
     * @throws DatabaseLockedException another process or handle holds the folder
     * @throws CorruptionException     the file fails a check that recovery cannot get past
     */
    public static Store open(Path dir, StoreOptions options) {
        return open(dir, options, PageFile::new, WalFile::new);
    }

    static Store open(Path dir, StoreOptions options, PageFileFactory factory, WalFileFactory walFactory) {
        return open(dir, options, factory, walFactory, false).store();
    }

    /**
     * What the open found in the log (storage-format.md §5.2, §5.4), for tools that report it.
     *
     * @param checkpointTxn the data file's newest good meta: the commit it holds by itself
     * @param replayed      commits of the log after it, applied again at this open (0: closed cleanly,
     *                      or nothing committed since the checkpoint)
     * @param lastTxn       the last commit the log holds (0 if none)
     * @param logEnd        the byte where the log's committed frames end
     * @param endReason     why reading stopped there (e.g. "end of frames", or "checksum ...")
     * @param frameDropped  reading stopped at a frame of the log's generation that does not check
     *                      out: a commit written last, torn by a crash or damaged since, that is
     *                      not in the database (nothing after it in the log is intact, §5.2)
     */
    public record Recovered(long checkpointTxn, int replayed, long lastTxn, long logEnd, String endReason,
                            boolean frameDropped) { }

    /**
     * What {@link #salvage} did.
     *
     * @param store     the open database
     * @param refusals  the refusals it got past, in order; empty when the database opened as it was
     * @param keptLog   the copy of the whole log as it was before, or null when nothing was changed
     */
    public record Salvaged(Store store, List<LogRefusedException> refusals, Path keptLog) { }

    /**
     * Opens the database in dir; if its log refuses the open ({@link LogRefusedException}), does
     * what the refusal says first, holding the folder's lock throughout: copies the whole log to
     * {@code wal.cairn.refused-N} (forced; never deleted), cuts the log to the refusal's
     * {@link LogRefusedException#keepBytes() keepBytes}, and opens. The commits the refusal names
     * are then not in the database (the copy still holds their bytes). For an operator who has
     * read the refusal ({@code cairn salvage}); never done by {@link #open}.
     *
     * @throws CorruptionException damage that giving up log commits does not get past
     */
    public static Salvaged salvage(Path dir, StoreOptions options) {
        return open(dir, options, PageFile::new, WalFile::new, true);
    }

    /**
     * Opens with the caller's interrupt status cleared, and sets it again after: a set status
     * would make the first call on a channel close it (StoreFile). An interrupt arriving during
     * the open may still fail it, with a message saying the thread was interrupted.
     */
    private static Salvaged open(Path dir, StoreOptions options, PageFileFactory factory, WalFileFactory walFactory,
                                 boolean salvage) {
        boolean interrupted = Thread.interrupted();
        try {
            return openUninterrupted(dir, options, factory, walFactory, salvage);
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private static Salvaged openUninterrupted(Path dir, StoreOptions options, PageFileFactory factory,
                                              WalFileFactory walFactory, boolean salvage) {
        if (dir == null) throw new IllegalArgumentException("dir is null");
        if (options == null) throw new IllegalArgumentException("options is null");
        FolderLock folderLock = null;
        try {
            // createDirectories throws and catches an exception when the folder exists: ask first.
            if (!Files.isDirectory(dir)) {
                if (Files.exists(dir)) throw new CairnException("cannot open database folder " + dir + ": it is a file, not a folder");
                Files.createDirectories(dir);
            }
            folderLock = FolderLock.take(dir);
            List<LogRefusedException> refusals = new ArrayList<>();
            Path keptLog = null;
            while (true) {
                try {
                    return new Salvaged(openLocked(dir, options, factory, walFactory, folderLock), List.copyOf(refusals), keptLog);
                } catch (LogRefusedException refusal) {
                    Path log = dir.resolve(WAL_FILE);
                    // Each cut must shorten the log, so this ends (a refusal to keep it all is not salvageable).
                    if (!salvage || refusal.keepBytes() >= Files.size(log)) throw refusal;
                    if (keptLog == null) keptLog = copyLog(dir, log);
                    cutLog(log, refusal.keepBytes());
                    refusals.add(refusal);
                    LOG.log(System.Logger.Level.WARNING, "salvage of " + dir + ": cut " + WAL_FILE + " to "
                        + refusal.keepBytes() + " bytes (the whole log is kept as " + keptLog + ") after: " + refusal.getMessage());
                }
            }
        } catch (IOException e) {
            closeQuietly(folderLock);
            throw new CairnException("cannot open database folder " + dir + ": " + StoreFile.reason(e)
                + (e instanceof java.nio.file.AccessDeniedException || readOnlyFileSystem(e) ? "; an open writes into the"
                    + " folder's files (cairn verify, stats and backup only read them)" : ""), e);
        } catch (RuntimeException e) {
            closeQuietly(folderLock);
            throw e;
        }
    }

    /** Opens the files of a folder whose lock this process holds; closes them again if that fails. */
    private static Store openLocked(Path dir, StoreOptions options, PageFileFactory factory, WalFileFactory walFactory,
                                    FolderLock folderLock) throws IOException {
        StoreFile dataFile = null;
        StoreFile walFile = null;
        try {
            Path data = dir.resolve(DATA_FILE);
            if (!Files.exists(data)) {
                refuseLogWithoutData(dir);
                create(dir, data, options.pageBytes());
            }
            folderLock.holdData(data);
            dataFile = StoreFile.openData(data, dir);
            ByteBuffer head = ByteBuffer.allocate(FileHeader.READ_BYTES);
            dataFile.readFully(head, 0);
            FileHeader.Info info = FileHeader.read(data, java.util.Arrays.copyOf(head.array(), head.limit()));
            PageFile pageFile = factory.create(dataFile, info.pageBytes(), true);
            Path walPath = dir.resolve(WAL_FILE);
            if (info.writable()) {
                walFile = StoreFile.open(walPath, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } else if (Files.exists(walPath)) {
                walFile = StoreFile.open(walPath, StandardOpenOption.READ);
            }
            // An empty log was just created (or never written): its name must be made durable.
            boolean walCreated = walFile != null && walFile.size() == 0;
            WalFile wal = walFile == null ? null : walFactory.create(walFile, info.pageBytes(), info.databaseId());
            Store store = new Store(dir, info, pageFile, wal, folderLock, options);
            try {
                store.recover();
                if (walCreated && info.writable()) forceDirectory(dir);
            } catch (RuntimeException e) {
                pageFile.close();
                throw e;
            }
            return store;
        } catch (IOException | RuntimeException e) {
            closeQuietly(dataFile, walFile);
            throw e;
        }
    }

    /**
     * A log that holds anything (its first 64 bytes not all zero) beside no data file: the data
     * file was deleted or moved away. A new, empty data file would not be the log's database (the
     * open would then refuse the log as another database's, after writing the new file into the
     * folder), and the log's commits need the data file they follow: refuse, and write nothing.
     * Public for the tools, which say so of such a folder without opening it.
     *
     * @throws CorruptionException naming the folder, the log's size and what to do
     */
    public static void refuseLogWithoutData(Path dir) throws IOException {
        Path log = dir.resolve(WAL_FILE);
        if (!Files.isRegularFile(log) || Files.size(log) == 0) return;
        byte[] head;
        try (java.io.InputStream in = Files.newInputStream(log)) {
            head = in.readNBytes(64);
        }
        for (byte b : head) {
            if (b != 0) {
                throw new CorruptionException(dir + " holds a log (" + WAL_FILE + ", " + Files.size(log) + " bytes) but no data"
                    + " file (" + DATA_FILE + "): the data file was deleted or moved away, and the log's commits cannot be"
                    + " read without it. Put " + DATA_FILE + " back; or, to start a new, empty database in this folder, move "
                    + WAL_FILE + " out of it. Nothing was written");
            }
        }
    }

    /**
     * Copies the data file and the log of the database in {@code dir}, byte for byte as they are,
     * into {@code targetDir} (which must hold no database), holding {@code dir}'s lock meanwhile so
     * that nothing changes them; writes nothing into {@code dir} (but the empty lock file, if it
     * is missing and this user may write into the folder). The lock is shared and taken through a
     * read-only handle ({@link FolderLock#takeShared}), so reading the folder's files is all it
     * needs: a folder of another user, or of mode 444, is copied too. Opening the copy then does
     * what opening {@code dir} would (recovery, §5.4) to the copy only: how {@code cairn verify}
     * and {@code cairn stats} look without changing the evidence.
     *
     * @throws DatabaseLockedException another process or handle holds {@code dir}
     * @throws UnreadableFileException a file of {@code dir} cannot be read (named, with why)
     * @throws IllegalArgumentException {@code dir} holds no database (neither data file nor log), or the target does
     */
    public static void copyAsIs(Path dir, Path targetDir) {
        copyAsIs(dir, targetDir, "copy");
    }

    /** {@link #copyAsIs(Path, Path)}, naming the target in errors as {@code what} ("backup", "copy"). */
    public static void copyAsIs(Path dir, Path targetDir, String what) {
        if (!holdsFiles(dir)) throw new IllegalArgumentException("no database in " + dir);
        Backup.checkTarget(dir, targetDir, what);
        Path createdFrom = Backup.firstMissing(targetDir);
        // Shared, through a read-only handle: a folder this user may only read is copied too.
        FolderLock folderLock;
        try {
            folderLock = FolderLock.takeShared(dir);
        } catch (IOException e) {
            throw new CairnException("cannot lock " + dir + " to copy it: " + StoreFile.reason(e), e);
        }
        try {
            try {
                Files.createDirectories(targetDir);
            } catch (IOException e) {
                throw new CairnException("cannot make the folder " + targetDir + " for the " + what + ": "
                    + StoreFile.reason(e), e);
            }
            for (String name : List.of(DATA_FILE, WAL_FILE)) {
                Path from = dir.resolve(name);
                try {
                    // The data file under its shared data lock too: a store may hold it after its lock file was deleted.
                    if (Files.exists(from)) ForeignBackup.copyFile(from, targetDir.resolve(name), name.equals(DATA_FILE) ? dir : null);
                } catch (DatabaseLockedException e) {
                    throw new DatabaseLockedException(e.getMessage() + Backup.removePartial(targetDir, createdFrom), e);
                } catch (UnreadableFileException e) {
                    throw new UnreadableFileException(from, "cannot copy " + dir + ": " + e.getMessage()
                        + Backup.removePartial(targetDir, createdFrom), e);
                } catch (IOException e) {
                    throw new CairnException("cannot write the " + what + " of " + dir + " into " + targetDir + ": "
                        + StoreFile.reason(e) + Backup.removePartial(targetDir, createdFrom), e);
                }
            }
            // Without a lock file to lock (none, and this user cannot make one), no store had the
            // folder open when the copy began (an open makes it first); one that opened it since
            // may have changed the files under the copy.
            if (folderLock == null && Files.exists(dir.resolve(LOCK_FILE))) {
                throw new DatabaseLockedException("database folder " + dir + " was opened by another process while it was"
                    + " copied (it had no lock file to hold, and this user cannot make one in it)"
                    + Backup.removePartial(targetDir, createdFrom));
            }
        } finally {
            if (folderLock != null) folderLock.close();
        }
    }

    /** Copies the whole log to a new {@code wal.cairn.refused-N} beside it and makes the copy durable. */
    private static Path copyLog(Path dir, Path log) throws IOException {
        Path copy = dir.resolve(WAL_FILE + ".refused-1");
        for (int n = 2; Files.exists(copy); n++) copy = dir.resolve(WAL_FILE + ".refused-" + n);
        Files.copy(log, copy);
        try (FileChannel c = FileChannel.open(copy, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        forceDirectory(dir);
        return copy;
    }

    private static void cutLog(Path log, long keepBytes) throws IOException {
        try (FileChannel c = FileChannel.open(log, StandardOpenOption.WRITE)) {
            c.truncate(keepBytes);
            c.force(true);
        }
    }

    private static void closeQuietly(AutoCloseable... files) {
        for (AutoCloseable c : files) {
            if (c == null) continue;
            try {
                c.close();
            } catch (Exception suppressed) {
                // Closing after a failed open: the open's own exception is the one to report.
                LOG.log(System.Logger.Level.DEBUG, "close after failed open", suppressed);
            }
        }
    }

    /** Writes header and an empty meta into a new file, forces it, then renames it into place. */
    private static void create(Path dir, Path data, int pageBytes) throws IOException {
        Path fresh = dir.resolve(DATA_FILE + ".new");
        MemorySegment pages = MemorySegment.ofArray(new byte[3 * pageBytes]);
        FileHeader.write(pages.asSlice(0, pageBytes), pageBytes, FileHeader.newDatabaseId());
        MetaPage.write(pages.asSlice(pageBytes, pageBytes), 1, new MetaPage.Meta(0, 0, 0, 0, 0, 0, 0, FIRST_DATA_PAGE));
        try (FileChannel c = FileChannel.open(fresh, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = pages.asByteBuffer();
            while (b.hasRemaining()) c.write(b, b.position());
            c.force(true);
        }
        Files.move(fresh, data, StandardCopyOption.ATOMIC_MOVE);
        forceDirectory(dir);
    }

    /** Makes a new name in the folder durable (a created or renamed file). */
    static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    /**
     * Recovery, storage-format.md §5.4: the data file's newest good meta (the last checkpoint),
     * then the log's commits after it applied again as one transaction, written to the data file
     * like a direct commit, and a new log generation.
     */
    private void recover() {
        Recovery.Result r = Recovery.choose(this);
        long fileTxn = r.snapshot().txnId();
        WalFile.Scan scan = wal == null ? null : wal.scan(fileTxn);
        boolean replay = scan != null && scan.hasCommits() && scan.lastCommitTxn() > fileTxn;
        if (scan != null) checkLogFollows(r, scan, replay);
        if (replay && !writable) {
            throw new CairnException(dir + " holds commits in its log up to txn " + scan.lastCommitTxn()
                + " that this read-only open cannot apply; open it once with the Cairn that wrote it");
        }
        damaged = false;
        nextTxnId = r.highestTxnId() + 2;
        current = r.snapshot();
        checkpointTxn = current.txnId();
        checkpointSlot = current.metaSlot;
        readers.publish(current);
        if (scan != null) {
            recovered = new Recovered(checkpointTxn, replay ? scan.commits() : 0, scan.lastCommitTxn(), scan.committedEnd(),
                scan.stopReason(), scan.stoppedInFrame());
        }
        if (replay) {
            replayLog(scan);
        } else if (writable && (!scan.headerValid() || scan.committedEnd() > WalFile.HEADER_BYTES
                || scan.version() < WalFile.VERSION)) {
            // A log with frames (all in the data file already), without a header, or of an older
            // version (frames are appended only under this version's header) starts over.
            wal.reset(checkpointTxn, walKeepBytes());
        }
    }

    /**
     * The log must follow the data file's newest intact meta F (§5.4 step 5): a header naming a
     * later checkpoint means that meta was damaged or the data file replaced by an older copy (a
     * generation starts only after its checkpoint's meta was forced), and in a version 3 log,
     * frames after F (those to {@code replay}) must have been appended under F itself (§5.2).
     * Either would otherwise be opened as an older state, silently.
     */
    private void checkLogFollows(Recovery.Result r, WalFile.Scan scan, boolean replay) {
        long fileTxn = r.snapshot().txnId();
        if (scan.headerValid() && scan.baseTxn() > fileTxn) {
            throw new LogRefusedException(wal.path + ": the log follows the checkpoint of txn " + scan.baseTxn()
                + ", but the newest good meta of " + pageFile.path + " is txn " + fileTxn + " ("
                + (r.otherMeta() == null ? "the data file is older than its log" : "the newer " + r.otherMeta())
                + "). A crash cannot do this. To open the database at txn " + fileTxn + " anyway, dropping every commit"
                + " after it, move " + WAL_FILE + " out of the folder" + WalFile.salvageHint(wal.path), 0);
        }
        if (replay && scan.version() >= 3 && scan.baseTxn() != fileTxn) {
            throw new LogRefusedException(wal.path + ": the log's commits up to txn " + scan.lastCommitTxn()
                + " follow the checkpoint of txn " + scan.baseTxn() + ", not the data file's newest good meta, txn "
                + fileTxn + (r.otherMeta() == null ? "" : " (the other " + r.otherMeta() + ")")
                + "; replaying them onto it would lose the commits in between. To open the database at txn " + fileTxn
                + " anyway, dropping the log's commits, move " + WAL_FILE + " out of the folder" + WalFile.salvageHint(wal.path), 0);
        }
    }

    /**
     * Applies the log's commits after the checkpoint again, in order, as one transaction with
     * the last one's txn id, and commits it directly (§5.4 step 5).
     */
    private void replayLog(WalFile.Scan scan) {
        long last = scan.lastCommitTxn();
        WriteTxn tx = new WriteTxn(this, current, last, checkpointTxn, freeSpace(), null, 0, pagePool);
        wal.replay(scan, checkpointTxn, (txnId, opCount, ops) -> LogOps.apply(ops, opCount, tx, wal.path + ": txn " + txnId));
        tx.flushCatalog();
        writeCommit(tx, false);
        if (wal.frameBytes() > 0) wal.reset(checkpointTxn, walKeepBytes()); // its commits are in the data file now
        nextTxnId = Math.max(nextTxnId, last + 2);
        LOG.log(System.Logger.Level.INFO, "{0}: recovered {1} commits from the log, up to txn {2} (the log ends at byte"
            + " {3}: {4})", dir, scan.commits(), last, scan.committedEnd(), scan.stopReason());
    }

    // ---------------------------------------------------------------- transactions

    /** A read transaction on the last commit. Never blocks. */
    public ReadTxn beginRead() {
        checkOpen();
        pageFile.checkLocked(); // per transaction, not per read: a read of it costs no more
        int stripe = PinCount.stripe();
        return new ReadTxn(this, pin(stripe), stripe);
    }

    Snapshot pin(int stripe) {
        while (true) {
            Snapshot s = current;
            Runnable hook = beforePin;
            if (hook != null) hook.run();
            s.pins.pin(stripe);
            if (s == current) return s;
            s.pins.unpin(stripe);
        }
    }

    void endRead(ReadTxn txn) {
        txn.snapshot.pins.unpin(txn.pinStripe);
    }

    /**
     * The write transaction; blocks until no other is open.
     *
     * @throws IllegalStateException the calling thread already holds it (began it, or used it last
     *         after another handed it on), the store is closed or read-only
     * @throws CorruptionException   damage was detected earlier; close and reopen the database
     */
    public WriteTxn beginWrite() {
        checkOpen();
        if (!writable) throw new IllegalStateException(dir + " was written by a newer Cairn; it is open read-only");
        if (writerThread == Thread.currentThread()) {
            throw new IllegalStateException("this thread already holds the write transaction of " + dir);
        }
        writeSlot.acquireUninterruptibly();
        try {
            checkOpen();
            pageFile.checkLocked();
            checkNotFailed();
            writerThread = Thread.currentThread();
            Snapshot base = current;
            FreeSpace free = freeSpace();
            free.release(readers.oldestPinned(base), checkpointTxn);
            return new WriteTxn(this, base, nextTxnId, checkpointTxn, free, logOps, logLimit(), pagePool);
        } catch (RuntimeException | Error e) {
            // Out of memory in free.release may leave the free space half-moved: no more writes.
            if (e instanceof Error) markFailed(e);
            writerThread = null;
            writeSlot.release();
            throw e;
        }
    }

    /**
     * The free pages (§6). The free list is read when the first write transaction begins, not at
     * open: readers never need it, and a reopen that only reads then touches none of its pages.
     * Until that write nothing has committed, so the list read is the newest meta's, intact.
     * Called by the writer.
     */
    private FreeSpace freeSpace() {
        if (freeSpace == null) {
            Snapshot checkpoint = current;
            Check.that(checkpoint.txnId() == checkpointTxn && checkpoint.freeListCurrent,
                "free list read after a commit (txn %d, checkpoint %d)", checkpoint.txnId(), checkpointTxn);
            try {
                freeSpace = new FreeSpace(checkpoint.meta.pageCount(), Recovery.readFreeList(this, new ReadTxn(this, checkpoint)));
            } catch (CorruptionException e) {
                throw new CorruptionException("the free list of the newest checkpoint, meta page " + checkpoint.metaSlot
                    + " (txn " + checkpoint.txnId() + "), is damaged, so nothing can be written: " + e.getMessage(), e);
            }
        }
        return freeSpace;
    }

    /**
     * The thread now using the open write transaction (handed on from the one that began it).
     * Only while a transaction of {@link #beginWrite} holds the write slot: the log's replay at
     * open runs one of its own, after which this thread's first beginWrite was refused as if it
     * held one.
     */
    void writerIs(Thread thread) {
        if (writerThread != null) writerThread = thread;
    }

    /** True once close has begun: read transactions still open are unusable. */
    boolean isClosed() {
        return closed;
    }

    void endWrite(WriteTxn txn) {
        writerThread = null;
        writeSlot.release();
    }

    /**
     * Stops writes until a reopen. Allocates nothing: it runs when the heap may be full, and an
     * OutOfMemoryError here left the store writing on, its state half-changed, and the write
     * slot held (probe 94: 10 of 12 databases damaged under random OutOfMemoryErrors, when this
     * made the cause's text first).
     */
    private void markFailed(Throwable e) {
        if (failedBecause == null) failedBecause = e;
    }

    /** Writes stop after damage was found or a write failed (its state in memory is suspect) until a reopen. */
    private void checkNotFailed() {
        if (damaged) throw new CorruptionException(dir + ": refusing writes since damage was detected; close and reopen the database");
        if (failedBecause != null) {
            throw new WritesStoppedException(dir + ": a commit or the checkpoint after one failed (" + failedBecause
                + "); close and reopen the database before writing again: what was committed is in the files", failedBecause);
        }
    }

    /**
     * Commit protocol, storage-format.md §5.1: pages and free list into the data file, then the
     * ops into the log with one force; or, for a transaction too large for the log, a direct
     * commit (§5.1.1). Then publish, and checkpoint if due.
     */
    void commit(WriteTxn tx) {
        boolean logged = tx.loggedOps() != null;
        try {
            writeCommit(tx, logged);
        } catch (RuntimeException | Error e) {
            markFailed(e);
            tx.rollback(); // nothing once the commit is durable (tx.committed)
            throw e;
        }
        // Durable. Whatever fails from here on (the log's reset after a direct commit, the
        // checkpoint, out of memory) stops writes until a reopen, which finds the commit in the
        // files; the commit itself returns: thrown, the application takes it for not stored and
        // writes it again. It must not roll back either, which gave its pages, now the
        // database's, to the free space (probe 94).
        try {
            if (!logged && wal.frameBytes() > 0) wal.reset(checkpointTxn, walKeepBytes());
            if (logged && checkpointDue()) checkpoint();
            checkpointFailing = false;
        } catch (CheckpointNotTaken e) {
            // Tried again after the next commit; said once until one is taken.
            if (!checkpointFailing) {
                checkpointFailing = true;
                warnCheckpointNotTaken(tx.newTxnId, e.failure());
            }
        } catch (RuntimeException | Error e) {
            // Half-changed state in memory: a later commit would write over pages still in use (probe 93).
            markFailed(e);
            warnAfterCommit(tx.newTxnId, e);
            return;
        }
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) { // spares every commit a varargs array and a boxed id
            LOG.log(System.Logger.Level.DEBUG, "commit txn {0} ({1})", tx.newTxnId, logged ? "logged" : "direct");
        }
        if (verifyAfterCommit) {
            VerifyReport report;
            try {
                Snapshot s = current;
                report = new Verifier(this, new ReadTxn(this, s), s.freeListCurrent ? null : freeSpace.all()).run();
            } catch (OutOfMemoryError e) {
                return; // a check that could not run found nothing; thrown, a stored commit looked failed
            } catch (RuntimeException e) {
                if (e.getCause() instanceof OutOfMemoryError) return; // as above, seen through another exception
                damaged = true; // what the check found (a damaged page): the commit is stored, writes stop
                throw e;
            }
            if (!report.ok()) {
                // Damage the commit made (a bug): it is stored, so writes stop until a reopen.
                // (Checked first: the message's boxing could run out of memory for a sound commit.)
                damaged = true;
                Check.that(false, "verify after commit %s: %s", tx.newTxnId, report.problems());
            }
        }
    }

    /** Says, if the heap allows, that the checkpoint after a durable commit was not taken, and writes go on. */
    private void warnCheckpointNotTaken(long txnId, Throwable e) {
        try {
            LOG.log(System.Logger.Level.WARNING, dir + ": txn " + txnId + " is committed (in the log), but the checkpoint"
                + " after it could not be taken; writes go on, and it is tried again after each commit: " + e);
        } catch (Throwable again) {
            // Out of memory: nothing is lost by not saying it.
        }
    }

    /** Says, if the heap allows, that a durable commit's follow-up failed and writes stopped. */
    private void warnAfterCommit(long txnId, Throwable e) {
        try {
            LOG.log(System.Logger.Level.WARNING, dir + ": txn " + txnId + " is committed, but the log reset or checkpoint"
                + " after it failed; writes are refused until the database is closed and reopened: " + e, e);
        } catch (Throwable again) {
            // Out of memory again: the refusal of the next write names the cause.
        }
    }

    /** The op bytes beyond which a transaction commits directly: a checkpoint's worth, at most 1 MiB. */
    private long logLimit() {
        return Math.min(checkpointBytes, LOGGED_COMMIT_BYTES_MAX);
    }

    /** A checkpoint is due once the log, or the space held for the next checkpoint, reaches checkpointBytes. */
    private boolean checkpointDue() {
        return wal.frameBytes() >= checkpointBytes || heldForCheckpoint * pageFile.pageBytes >= checkpointBytes;
    }

    private void writeCommit(WriteTxn tx, boolean logged) {
        long txnId = tx.newTxnId;
        Snapshot base = tx.snapshot;
        if (!logged) {
            // A direct commit replaces the checkpoint's free list.
            for (long id : Recovery.freeListPages(this, new ReadTxn(this, base))) {
                tx.freePage(id, base.meta.freeHeadTxn());
            }
        }
        long[] freedOld = tx.freedOldPages().toArray();
        long[] freedFresh = tx.freedFreshPages().toArray();
        // A logged commit writes no free list: recovery starts from the checkpoint's. Its meta
        // keeps naming that list, whose pages stay in use until the next checkpoint frees them.
        long freeHead = base.meta.freeHead();
        long freeHeadTxn = base.meta.freeHeadTxn();
        long freeCount = base.meta.freePageCount();
        if (!logged) {
            long[] list = freeList(tx::allocPage, id -> tx.newPage(id, KIND_FREE_LIST), freedOld, freedFresh);
            freeHead = list[0];
            freeHeadTxn = list[0] != 0 ? txnId : 0;
            freeCount = list[1];
        }
        long pageCount = freeSpace.pageCount();
        MemorySegment[] chunks = pageFile.mapUpTo(pageCount);
        LongMap<WriteTxn.Dirty> dirty = tx.dirtyPages();
        long[] dirtyIds = dirty.sortedKeys();
        tx.settleNodes(dirtyIds);
        MemorySegment[] dirtyViews = new MemorySegment[dirtyIds.length];
        for (int i = 0; i < dirtyIds.length; i++) {
            long id = dirtyIds[i];
            WriteTxn.Dirty d = dirty.get(id);
            byte[] page = d.bytes();
            Check.that(PageBuffer.pageId(page) == id, "dirty page %d holds its own id", id);
            Check.that(id >= FIRST_DATA_PAGE && id < pageCount, "dirty page %d below page count %d", id, pageCount);
            PageBuffer.seal(page);
            dirtyViews[i] = d.view();
        }
        pageFile.writePages(dirtyIds, dirtyViews);
        long[] runIds = tx.dirtyRuns().sortedKeys();
        for (long id : runIds) {
            MemorySegment run = tx.dirtyRuns().get(id);
            seal(run, HEADER_BYTES + (long) run.get(U32, RUN_VALUE_BYTES_OFFSET));
            pageFile.write(id, run);
        }
        WriteTxn.MutableTree catalog = tx.catalog();
        MetaPage.Meta meta = new MetaPage.Meta(txnId, catalog.root, catalog.rootTxn, catalog.count,
            freeHead, freeHeadTxn, freeCount, pageCount);
        // The meta reaches the data file at the next checkpoint (or now, for a direct commit),
        // in the slot that does not hold the data file's own meta.
        long slot = nextMetaSlot();
        // Everything that allocates comes before the commit is durable: from there to the
        // return nothing may fail, or a stored batch throws and the application writes it again.
        // Done early, these change only state that a failure here discards (the store stops
        // writing until a reopen, which rebuilds it from the files).
        for (long id : dirtyIds) pageFile.markVerified(id);
        for (long id : runIds) pageFile.markVerified(id);
        freeSpace.addPending(txnId, freedOld, freedFresh);
        Snapshot next = new Snapshot(meta, slot, chunks, !logged);
        readers.publish(next); // pins only: readers take {@link #current}, set below
        if (logged) {
            // Frames follow only the data file's newest meta (§5.2): after a direct commit that
            // left the log empty, or an open that found it so, start the generation over first.
            if (wal.baseTxn() != checkpointTxn) wal.reset(checkpointTxn, walKeepBytes());
            wal.append(txnId, tx.loggedOps(), durable);
        } else {
            writeMeta(slot, meta);
        }
        // Durable: field stores only from here to the return.
        tx.committed = true;
        heldForCheckpoint += freedOld.length;
        current = next;
        nextTxnId = txnId + 1;
        if (!logged) {
            checkpointTxn = txnId;
            checkpointSlot = slot;
            heldForCheckpoint = 0;
        }
    }

    /**
     * Builds the free list (§4.4) of every free page plus the pages {@code freedNow} (disjoint
     * arrays): allocates its pages with {@code alloc} (taking reusable pages shortens the list,
     * so the count before is enough) and fills the buffers {@code newPage} gives. Returns
     * {head page id, entries}.
     */
    private long[] freeList(LongSupplier alloc, LongFunction<byte[]> newPage, long[]... freedNow) {
        int perPage = (pageFile.pageBytes - HEADER_BYTES) / 8;
        long freed = 0;
        for (long[] f : freedNow) freed += f.length;
        int need = (int) ((freeSpace.size() + freed + perPage - 1) / perPage);
        long[] listIds = new long[need];
        for (int j = 0; j < need; j++) listIds[j] = alloc.getAsLong();
        long[] entries = union(freeSpace.all(), freedNow);
        Check.that(entries.length <= (long) need * perPage, "free list of %d entries fits %d pages", entries.length, need);
        for (int j = 0, e = 0; j < need; j++) {
            byte[] page = newPage.apply(listIds[j]);
            int n = Math.min(perPage, entries.length - e);
            PageBuffer.put16(page, (int) COUNT_OFFSET, n);
            PageBuffer.put64(page, (int) NEXT_PAGE_OFFSET, j + 1 < need ? listIds[j + 1] : 0);
            for (int i = 0; i < n; i++) PageBuffer.put64(page, HEADER_BYTES + 8 * i, entries[e++]);
        }
        return new long[] {need > 0 ? listIds[0] : 0, entries.length};
    }

    /**
     * Makes a meta durable in the data file, storage-format.md §5.3 steps 1-2: forces every page
     * written so far, writes the meta into the slot, forces again.
     */
    private void writeMeta(long slot, MetaPage.Meta meta) {
        pageFile.force();
        MemorySegment metaPage = MemorySegment.ofArray(new byte[pageFile.pageBytes]);
        MetaPage.write(metaPage, slot, meta);
        pageFile.write(slot, metaPage);
        pageFile.force();
    }

    /**
     * Checkpoint, storage-format.md §5.3: writes the free list of the last commit, forces the
     * data file, writes the last commit's meta into the slot not holding the data file's meta,
     * forces again, then starts a new log generation. Called by the writer (after a commit, or
     * holding the write slot) or by close.
     */
    private void checkpoint() {
        Snapshot last = current;
        if (last.txnId() == checkpointTxn) return; // no commit since the last checkpoint
        long txnId = last.txnId();
        // The last checkpoint's free-list pages: still in use until this meta is forced, then
        // held like any page born at or before a checkpoint (§6).
        long[] oldList = Recovery.freeListPages(this, new ReadTxn(this, last));
        List<byte[]> pages = new ArrayList<>();
        long pageCountBefore = freeSpace.pageCount();
        long[] list = freeList(freeSpace::take, id -> {
            byte[] page = PageBuffer.create(pageFile.pageBytes, KIND_FREE_LIST, id, txnId);
            pages.add(page);
            return page;
        }, oldList);
        long pageCount = freeSpace.pageCount();
        MemorySegment[] chunks;
        try {
            chunks = pageFile.mapUpTo(pageCount);
            for (byte[] page : pages) {
                PageBuffer.seal(page);
                pageFile.write(PageBuffer.pageId(page), MemorySegment.ofArray(page));
            }
        } catch (RuntimeException e) {
            // Say a full disk: the list's pages were free, and no meta names them yet. Give them
            // back and the checkpoint was not taken; every commit since the last one is in the log.
            for (byte[] page : pages) {
                long id = PageBuffer.pageId(page);
                if (id < pageCountBefore) freeSpace.giveBack(id);
            }
            freeSpace.pageCount(pageCountBefore);
            throw new CheckpointNotTaken(e);
        }
        MetaPage.Meta m = last.meta;
        MetaPage.Meta meta = new MetaPage.Meta(txnId, m.catalogRoot(), m.catalogRootTxn(), m.treeCount(),
            list[0], list[0] != 0 ? txnId : 0, list[1], pageCount);
        long slot = nextMetaSlot();
        writeMeta(slot, meta);
        for (byte[] page : pages) pageFile.markVerified(PageBuffer.pageId(page));
        freeSpace.addPending(txnId, oldList, new long[0]);
        Snapshot next = new Snapshot(meta, slot, chunks, true);
        readers.publish(next);
        current = next;
        checkpointTxn = txnId;
        checkpointSlot = slot;
        heldForCheckpoint = 0;
        wal.reset(checkpointTxn, walKeepBytes());
    }

    /**
     * A checkpoint that failed before it wrote its meta (a full disk while it wrote the free
     * list): nothing in memory changed, the data file's meta is the last checkpoint's, and the
     * log holds every commit since, so writes may go on. Its cause is the failure.
     */
    private static final class CheckpointNotTaken extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CheckpointNotTaken(RuntimeException cause) {
            super(cause.getMessage(), cause, false, false);
        }

        RuntimeException failure() {
            return (RuntimeException) getCause();
        }
    }

    /** True for the failure of a write to a file system mounted read-only (EROFS). */
    private static boolean readOnlyFileSystem(IOException e) {
        return e instanceof java.nio.file.FileSystemException f && f.getReason() != null
            && f.getReason().contains("Read-only file system");
    }

    /** The meta slot the next checkpoint writes: the one not holding the data file's own meta. */
    private long nextMetaSlot() {
        return checkpointSlot == 1 ? 2 : 1;
    }

    /** The log length a generation normally needs: a checkpoint's worth plus one commit's slack. */
    private long walKeepBytes() {
        return WalFile.HEADER_BYTES + checkpointBytes + (1 << 20);
    }

    /** The ids of all the arrays, sorted (the arrays are disjoint). */
    private static long[] union(long[] first, long[]... rest) {
        int n = first.length;
        for (long[] p : rest) n += p.length;
        long[] all = java.util.Arrays.copyOf(first, n);
        int at = first.length;
        for (long[] p : rest) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        java.util.Arrays.sort(all);
        return all;
    }

    // ---------------------------------------------------------------- whole-store operations

    /**
     * Checks every page of the current snapshot (storage-format.md §7). After a logged commit
     * (the usual durable one) it reads the free pages, which are the writer's: it waits while a
     * write transaction is open.
     *
     * @throws IllegalStateException the calling thread is using the open write transaction
     */
    public VerifyReport verify() {
        ReadTxn r = beginRead();
        long[] free = null;
        if (!r.snapshot.freeListCurrent) {
            // A logged commit: its free pages are the writer's, read while no commit can run.
            r.close();
            holdWriteSlot("verify");
            try {
                r = beginRead();
                free = r.snapshot.freeListCurrent ? null : freeSpace.all();
            } finally {
                writeSlot.release();
            }
        }
        try (ReadTxn pinned = r) {
            return new Verifier(this, pinned, free).run();
        }
    }

    /**
     * Copies the current snapshot into targetDir (which must not hold a database), while
     * writers keep committing, and checks the copy: it is built in targetDir's
     * {@link BackupBuild#DIR} folder, opened and verified there, and moved into targetDir only
     * then (storage-format.md §8). The copy opens as an ordinary database. After a logged commit
     * it takes a checkpoint first, so it waits while a write transaction is open.
     *
     * @return the copy's verify report (ok)
     * @throws CorruptionException the copy does not verify (nothing is left in targetDir): this
     *     database's snapshot is damaged, the report's problems are in the message
     * @throws IllegalArgumentException a target that cannot take a backup (holds a database or a
     *     build folder, lies inside this folder, is a file)
     * @throws IllegalStateException the calling thread is using the open write transaction
     */
    public VerifyReport backup(Path targetDir) {
        if (targetDir == null) throw new IllegalArgumentException("targetDir is null");
        copying.readLock().lock();
        try (BackupBuild build = BackupBuild.begin(dir, targetDir)) {
            checkOpen();
            copySnapshot(build.dir());
            VerifyReport report;
            try (Store copy = Store.open(build.dir())) {
                report = copy.verify();
            }
            if (!report.ok()) {
                throw new CorruptionException("backup of " + dir + ": the copy of its snapshot (txn " + report.txnId()
                    + ") does not verify, so this database is damaged (run cairn verify on it): "
                    + String.join("; ", report.problems()).replace(build.dir().toString(), targetDir.toString())
                    + build.discard());
            }
            build.publish();
            return report;
        } finally {
            copying.readLock().unlock();
        }
    }

    /** The copy of {@link #backup}: the current snapshot's pages into targetDir, unchecked (storage-format.md §8). */
    private void copySnapshot(Path targetDir) {
        ReadTxn r = beginRead();
        if (!r.snapshot.freeListCurrent) {
            // The copy's free list must be its snapshot's: take a checkpoint first.
            r.close();
            holdWriteSlot("back up");
            try {
                checkNotFailed();
                try {
                    checkpoint();
                } catch (CheckpointNotTaken e) {
                    throw new CairnException("backup of " + dir + ": the checkpoint a backup takes first in this database"
                        + " failed, so nothing was copied (this database writes on; retry once the cause is gone): "
                        + e.getMessage(), e.failure());
                } catch (RuntimeException | Error e) {
                    markFailed(e);
                    throw e;
                }
                r = beginRead();
            } finally {
                writeSlot.release();
            }
        }
        try (ReadTxn pinned = r) {
            Backup.copy(this, pinned, targetDir);
        }
    }

    /**
     * Writes a compacted copy of the current snapshot into targetDir (which must not hold a
     * database): every tree written anew in key order, so the copy holds live pages only
     * (storage-format.md §8.2). The data file itself never shrinks; this is how space freed by
     * deletes is given back (copy, then swap folders). Writers keep committing meanwhile. The
     * copy has its own database id and txn ids.
     */
    public void compactTo(Path targetDir) {
        if (targetDir == null) throw new IllegalArgumentException("targetDir is null");
        copying.readLock().lock();
        try (ReadTxn r = beginRead()) {
            CompactCopy.copy(this, r, targetDir);
        } finally {
            copying.readLock().unlock();
        }
    }

    /** Takes the write slot for a whole-store operation (the caller releases it). */
    private void holdWriteSlot(String what) {
        if (writerThread == Thread.currentThread()) {
            throw new IllegalStateException("cannot " + what + " " + dir + " while this thread holds its write transaction");
        }
        writeSlot.acquireUninterruptibly();
        try {
            checkOpen();
        } catch (RuntimeException e) {
            writeSlot.release();
            throw e;
        }
    }

    public Path directory() {
        return dir;
    }

    /** What this open found in the log and replayed; null when the folder had no log (read-only open). */
    public Recovered recovered() {
        return recovered;
    }

    /**
     * The database id in the data file's header, which its log names (storage-format.md §3.1);
     * 0 for a file made before ids.
     */
    public long databaseId() {
        return databaseId;
    }

    /** The data file's format version (its read version, storage-format.md §3.1): 3, or 2 for an older file. */
    public int formatVersion() {
        return formatVersion;
    }

    /** Branch cells record their child's cell start: files of read version 3 (storage-format.md §4.1). */
    boolean childCellStarts() {
        return formatVersion >= FileHeader.CHILD_CELL_STARTS_VERSION;
    }

    /** The page size the data file was made with. */
    public int pageBytes() {
        return pageFile.pageBytes;
    }

    /** Closes the store. Idempotent. @throws IllegalStateException a write transaction is open */
    @Override
    public synchronized void close() {
        if (closed) return;
        if (copying.getReadHoldCount() > 0) {
            throw new IllegalStateException("cannot close " + dir + " from inside its own backup or compaction");
        }
        copying.writeLock().lock(); // waits for a backup or compaction running on another thread
        try {
            if (!writeSlot.tryAcquire()) {
                throw new IllegalStateException("cannot close " + dir + ": a write transaction is open (commit or abort it first)");
            }
            closed = true;
            writeSlot.release();
        } finally {
            copying.writeLock().unlock();
        }
        try {
            try {
                // A store whose data file another process took (its lock lost) writes nothing more.
                if (writable && failedBecause == null && !damaged && !pageFile.lockLost()) {
                    try {
                        checkpoint();
                    } catch (CheckpointNotTaken e) {
                        throw e.failure(); // the next open replays the log
                    }
                }
            } finally {
                try {
                    pageFile.close();
                } finally {
                    if (wal != null) wal.close();
                }
            }
        } finally {
            folderLock.close();
        }
    }

    void checkOpen() {
        if (closed) throw new IllegalStateException("store " + dir + " is closed");
    }

    /** Records damage (the store refuses writes from now on) and describes it. */
    CorruptionException corruption(long pageId, String what) {
        damaged = true;
        return new CorruptionException(pageFile.path + ": page " + pageId + ": " + what);
    }

    Snapshot currentSnapshot() {
        return current;
    }
}
