package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.CorruptionException;
import dev.cairn.DatabaseLockedException;
import dev.cairn.internal.Check;
import dev.cairn.internal.Limits;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Semaphore;

import static dev.cairn.store.PageLayout.*;

/**
 * A database folder: one data file ({@value #DATA_FILE}) and a lock file ({@value #LOCK_FILE}).
 * Named trees of byte keys and byte values, one writer, any number of readers
 * (storage-format.md).
 *
 * <ul>
 *   <li>{@link #beginRead()} never blocks: it pins the current snapshot (one atomic increment on
 *       a per-thread stripe, and one allocation). {@link #beginWrite()} blocks until the write slot is free.
 *   <li>Commits are durable by default, with one force per commit (storage-format.md §5).
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
    static final String LOCK_FILE = "lock";
    private static final System.Logger LOG = System.getLogger(Store.class.getName());

    private final Path dir;
    final PageFile pageFile;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final boolean durable;
    private final boolean writable;
    private final ReaderTable readers = new ReaderTable();
    private final Semaphore writeSlot = new Semaphore(1);
    private volatile Thread writerThread;
    private volatile Snapshot current;
    private volatile boolean closed;
    private volatile boolean damaged;
    private volatile boolean failed;
    private FreeSpace freeSpace;
    private long nextTxnId;
    /** Full verify after every commit under -ea / -Dcairn.verify=all; torn-write tests turn it off. */
    boolean verifyAfterCommit = Check.expensiveOn();

    /** Creates a PageFile; tests pass a wrapper that injects faults. */
    interface PageFileFactory {
        PageFile create(Path path, FileChannel channel, int pageBytes, boolean writable);
    }

    private Store(Path dir, PageFile pageFile, FileChannel lockChannel, FileLock lock, boolean durable, boolean writable) {
        this.dir = dir;
        this.pageFile = pageFile;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.durable = durable;
        this.writable = writable;
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
        return open(dir, options, PageFile::new);
    }

    static Store open(Path dir, StoreOptions options, PageFileFactory factory) {
        if (dir == null) throw new IllegalArgumentException("dir is null");
        if (options == null) throw new IllegalArgumentException("options is null");
        FileChannel lockChannel = null;
        FileChannel channel = null;
        try {
            // createDirectories throws and catches an exception when the folder exists: ask first.
            if (!Files.isDirectory(dir)) Files.createDirectories(dir);
            lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new DatabaseLockedException("database folder " + dir + " is in use by another process or handle");
            }
            Path data = dir.resolve(DATA_FILE);
            if (!Files.exists(data)) create(dir, data, options.pageBytes());
            channel = FileChannel.open(data, StandardOpenOption.READ, StandardOpenOption.WRITE);
            ByteBuffer head = ByteBuffer.allocate(32);
            while (head.hasRemaining() && channel.read(head, head.position()) > 0) { }
            FileHeader.Info info = FileHeader.read(data, java.util.Arrays.copyOf(head.array(), head.position()));
            PageFile pageFile = factory.create(data, channel, info.pageBytes(), true);
            Store store = new Store(dir, pageFile, lockChannel, lock, options.durable(), info.writable());
            try {
                store.recover();
            } catch (RuntimeException e) {
                pageFile.close();
                throw e;
            }
            return store;
        } catch (IOException e) {
            closeQuietly(channel, lockChannel);
            throw new CairnException("cannot open database folder " + dir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel, lockChannel);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel... channels) {
        for (FileChannel c : channels) {
            if (c == null) continue;
            try {
                c.close();
            } catch (IOException suppressed) {
                // Closing after a failed open: the open's own exception is the one to report.
                LOG.log(System.Logger.Level.DEBUG, "close after failed open", suppressed);
            }
        }
    }

    /** Writes header and an empty meta into a new file, forces it, then renames it into place. */
    private static void create(Path dir, Path data, int pageBytes) throws IOException {
        Path fresh = dir.resolve(DATA_FILE + ".new");
        MemorySegment pages = MemorySegment.ofArray(new byte[3 * pageBytes]);
        FileHeader.write(pages.asSlice(0, pageBytes), pageBytes);
        MetaPage.write(pages.asSlice(pageBytes, pageBytes), 1, new MetaPage.Meta(0, 0, 0, 0, 0, 0, 0, FIRST_DATA_PAGE));
        try (FileChannel c = FileChannel.open(fresh, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer b = pages.asByteBuffer();
            while (b.hasRemaining()) c.write(b, b.position());
            c.force(true);
        }
        Files.move(fresh, data, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private void recover() {
        Recovery.Result r = Recovery.choose(this);
        damaged = false;
        freeSpace = new FreeSpace(r.snapshot().meta.pageCount(), r.freePages());
        nextTxnId = r.highestTxnId() + 2;
        current = r.snapshot();
        readers.publish(current);
    }

    // ---------------------------------------------------------------- transactions

    /** A read transaction on the last commit. Never blocks. */
    public ReadTxn beginRead() {
        checkOpen();
        int stripe = PinCount.stripe();
        return new ReadTxn(this, pin(stripe), stripe);
    }

    Snapshot pin(int stripe) {
        while (true) {
            Snapshot s = current;
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
     * @throws IllegalStateException the calling thread already holds it, the store is closed or read-only
     * @throws CorruptionException   damage was detected earlier; reopen the store
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
            if (damaged) throw new CorruptionException(dir + ": refusing writes since damage was detected; reopen the store");
            if (failed) throw new IllegalStateException(dir + ": a commit failed; reopen the store before writing again");
            writerThread = Thread.currentThread();
            Snapshot base = current;
            freeSpace.release(readers.oldestPinned(base));
            return new WriteTxn(this, base, nextTxnId, freeSpace);
        } catch (RuntimeException e) {
            writerThread = null;
            writeSlot.release();
            throw e;
        }
    }

    void endWrite(WriteTxn txn) {
        writerThread = null;
        writeSlot.release();
    }

    /** Commit protocol, storage-format.md §5: pages, free list, meta, one force, publish. */
    void commit(WriteTxn tx) {
        try {
            MetaPage.Meta meta = writeCommit(tx);
            LOG.log(System.Logger.Level.DEBUG, "commit txn {0}: {1} pages", tx.newTxnId, meta.pageCount());
        } catch (RuntimeException | Error e) {
            failed = true;
            tx.rollback();
            throw e;
        }
        if (verifyAfterCommit) {
            VerifyReport report = new Verifier(this, new ReadTxn(this, current)).run();
            Check.that(report.ok(), "verify after commit %s: %s", tx.newTxnId, report.problems());
        }
    }

    private MetaPage.Meta writeCommit(WriteTxn tx) {
        long txnId = tx.newTxnId;
        Snapshot base = tx.snapshot;
        for (long id : Recovery.freeListPages(this, new ReadTxn(this, base))) {
            tx.freePage(id, base.meta.freeHeadTxn());
        }
        long[] freed = tx.freedPages().toArray();
        int perPage = (pageFile.pageBytes - HEADER_BYTES) / 8;
        int need = (freeSpace.size() + freed.length + perPage - 1) / perPage;
        long[] listIds = new long[need];
        for (int j = 0; j < need; j++) listIds[j] = tx.allocPage();
        long[] entries = union(freeSpace.all(), freed);
        Check.that(entries.length <= (long) need * perPage, "free list of %d entries fits %d pages", entries.length, need);
        for (int j = 0, e = 0; j < need; j++) {
            byte[] page = tx.newPage(listIds[j], KIND_FREE_LIST);
            int n = Math.min(perPage, entries.length - e);
            PageBuffer.put16(page, (int) COUNT_OFFSET, n);
            PageBuffer.put64(page, (int) NEXT_PAGE_OFFSET, j + 1 < need ? listIds[j + 1] : 0);
            for (int i = 0; i < n; i++) PageBuffer.put64(page, HEADER_BYTES + 8 * i, entries[e++]);
        }
        long pageCount = freeSpace.pageCount();
        MemorySegment[] chunks = pageFile.mapUpTo(pageCount);
        LongMap<WriteTxn.Dirty> dirty = tx.dirtyPages();
        long[] dirtyIds = dirty.sortedKeys();
        for (long id : dirtyIds) {
            byte[] page = dirty.get(id).bytes();
            Check.that(PageBuffer.pageId(page) == id, "dirty page %d holds its own id", id);
            Check.that(id >= FIRST_DATA_PAGE && id < pageCount, "dirty page %d below page count %d", id, pageCount);
            PageBuffer.seal(page);
        }
        writeCoalesced(dirty, dirtyIds);
        long[] runIds = tx.dirtyRuns().sortedKeys();
        for (long id : runIds) {
            MemorySegment run = tx.dirtyRuns().get(id);
            seal(run, HEADER_BYTES + (long) run.get(U32, RUN_VALUE_BYTES_OFFSET));
            pageFile.write(id, run);
        }
        WriteTxn.MutableTree catalog = tx.catalog();
        MetaPage.Meta meta = new MetaPage.Meta(txnId, catalog.root, catalog.rootTxn, catalog.count,
            need > 0 ? listIds[0] : 0, need > 0 ? txnId : 0, entries.length, pageCount);
        long slot = base.metaSlot == 1 ? 2 : 1;
        MemorySegment metaPage = MemorySegment.ofArray(new byte[pageFile.pageBytes]);
        MetaPage.write(metaPage, slot, meta);
        pageFile.write(slot, metaPage);
        if (durable) pageFile.force();
        for (long id : dirtyIds) pageFile.markVerified(id);
        for (long id : runIds) pageFile.markVerified(id);
        freeSpace.addPending(txnId, freed);
        Snapshot next = new Snapshot(meta, slot, chunks);
        readers.publish(next);
        current = next;
        nextTxnId = txnId + 1;
        return meta;
    }

    /** Writes sorted dirty pages, joining runs of consecutive ids into one write each. */
    private void writeCoalesced(LongMap<WriteTxn.Dirty> dirty, long[] ids) {
        int pageBytes = pageFile.pageBytes;
        for (int i = 0; i < ids.length; ) {
            int j = i + 1;
            while (j < ids.length && ids[j] == ids[j - 1] + 1 && j - i < 256) j++;
            if (j - i == 1) {
                pageFile.write(ids[i], dirty.get(ids[i]).view());
            } else {
                byte[] joined = new byte[(j - i) * pageBytes];
                for (int k = i; k < j; k++) System.arraycopy(dirty.get(ids[k]).bytes(), 0, joined, (k - i) * pageBytes, pageBytes);
                pageFile.write(ids[i], MemorySegment.ofArray(joined));
            }
            i = j;
        }
    }

    private static long[] union(long[] sortedA, long[] b) {
        long[] all = java.util.Arrays.copyOf(sortedA, sortedA.length + b.length);
        System.arraycopy(b, 0, all, sortedA.length, b.length);
        java.util.Arrays.sort(all);
        return all;
    }

    // ---------------------------------------------------------------- whole-store operations

    /** Checks every page of the current snapshot (storage-format.md §7). */
    public VerifyReport verify() {
        try (ReadTxn r = beginRead()) {
            return new Verifier(this, r).run();
        }
    }

    /**
     * Copies the current snapshot into targetDir (which must not hold a database), while
     * writers keep committing. The copy opens as an ordinary database.
     */
    public void backup(Path targetDir) {
        if (targetDir == null) throw new IllegalArgumentException("targetDir is null");
        try (ReadTxn r = beginRead()) {
            Backup.copy(this, r, targetDir);
        }
    }

    public Path directory() {
        return dir;
    }

    /** Closes the store. Idempotent. @throws IllegalStateException a write transaction is open */
    @Override
    public synchronized void close() {
        if (closed) return;
        if (!writeSlot.tryAcquire()) {
            throw new IllegalStateException("cannot close " + dir + ": a write transaction is open (commit or abort it first)");
        }
        closed = true;
        writeSlot.release();
        try {
            if (writable && !failed) pageFile.force();
            pageFile.close();
        } finally {
            try {
                lock.release();
                lockChannel.close();
            } catch (IOException e) {
                throw new CairnException("cannot release the lock of " + dir + ": " + e.getMessage(), e);
            }
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

    int pageBytes() {
        return pageFile.pageBytes;
    }

    Snapshot currentSnapshot() {
        return current;
    }
}
