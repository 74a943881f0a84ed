package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.CorruptionException;
import dev.cairn.internal.Check;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The write-ahead log, {@value Store#WAL_FILE} (storage-format.md §5): a commit appends one
 * frame with its operations ({@link LogOps}) and forces this file only. A checkpoint forces the
 * data file and starts a new generation of the log from its start.
 *
 * <ul>
 *   <li>Header (64 bytes): magic, version, page size, generation, base txn id, the data file's
 *       database id (so a log is never replayed onto another database), CRC32C.
 *   <li>Frame: 32-byte frame header (txn id, generation, ops length, op count, flags, chained
 *       CRC32C) and the ops. The CRC covers the previous frame's CRC (the header's for the first
 *       frame), the frame header's first 28 bytes and the ops; so a frame is valid only after
 *       every earlier frame of its generation, and frames of an older generation never are.
 *   <li>A frame written after everything before it was forced says so ({@link #FLAG_AFTER_FORCE}):
 *       a damaged frame followed by an intact one that says so is damage, not a crash's torn
 *       write, and is refused rather than read as the log's end.
 *   <li>Every write goes through {@link #write} and {@link #force}, the door a test wrapper uses
 *       to tear or lose writes.
 * </ul>
 */
class WalFile implements AutoCloseable {
    static final byte[] MAGIC = {'C', 'A', 'I', 'R', 'N', 'W', 'A', 'L'};
    static final int VERSION = 3;
    /** Version 2 logs (no {@link #FLAG_AFTER_FORCE}) are read as well; frames are only appended under a version 3 header. */
    static final int OLDEST_READ_VERSION = 2;
    static final int HEADER_BYTES = 64;
    static final int FRAME_HEADER_BYTES = 32;
    /** Where the header holds the data file's database id (version 3; zero in version 2). */
    static final int DATABASE_ID_OFFSET = 32;
    /** Frame flag: the frame is a whole commit (the only kind of frame there is). */
    static final int FLAG_COMMIT = 1;
    /**
     * Frame flag (version 3): every byte of the log before this frame had been forced to the
     * device before this frame was written. Set in durable mode (each commit's force returns
     * before the next frame is written), never after an unforced frame.
     */
    static final int FLAG_AFTER_FORCE = 2;
    /** Bytes read per call when frames are scanned; and the step in which the log is extended. */
    private static final int IO_BYTES = 1 << 20;
    /**
     * Zeros for {@link #extend}, shared read-only by every log: a direct buffer, so writing it
     * needs no bounce copy, and small, so growing the log allocates nothing (a fresh 1 MiB heap
     * array per step is a humongous allocation that can start a G1 marking cycle).
     */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10).asReadOnlyBuffer();

    final Path path;
    final int pageBytes;
    /** The data file's database id (storage-format.md §3.1), written into every header; 0 for a file made before ids. */
    final long databaseId;
    private final StoreFile file;
    private final CRC32C crc = new CRC32C();
    private long generation;
    private long baseTxn;
    /** CRC of the last frame appended (the header's when none); seeds the next frame's CRC. */
    private int chain;
    /** Where the next frame goes. */
    private long end = HEADER_BYTES;
    /** The log file's length as this object last set or read it. */
    private long allocated = -1;
    /** True until a valid header was read or written. */
    private boolean headerLost = true;
    /** The version of the header read or written (frames are appended only under {@link #VERSION}). */
    private int version;
    /**
     * True when every byte written to the log was forced since: set by {@link #force}, cleared
     * by each frame written. False at open, where what the log holds may be only in the OS's
     * cache (a process that did not force it crashed).
     */
    private boolean forced;
    /** The frame being appended; direct, so the channel writes it without a bounce copy. */
    private ByteBuffer buffer = ByteBuffer.allocateDirect(0).order(ByteOrder.LITTLE_ENDIAN);

    WalFile(StoreFile file, int pageBytes, long databaseId) {
        this.path = file.path;
        this.file = file;
        this.pageBytes = pageBytes;
        this.databaseId = databaseId;
    }

    /** The checkpoint this generation of the log follows (its header's base txn id). */
    long baseTxn() {
        return baseTxn;
    }

    /** Bytes of frames appended in this generation. */
    long frameBytes() {
        return end - HEADER_BYTES;
    }

    // ---------------------------------------------------------------- appending

    /** Appends one commit: a frame with the transaction's ops, in one write; forces if asked. */
    void append(long txnId, LogOps ops, boolean force) {
        Check.that(txnId > baseTxn, "log frame of txn %d after base %d", txnId, baseTxn);
        Check.that(version == VERSION, "log frame appended under a header of version %d", version);
        int need = FRAME_HEADER_BYTES + ops.size();
        if (buffer.capacity() < need) {
            buffer = ByteBuffer.allocateDirect(Math.max(need, 2 * buffer.capacity())).order(ByteOrder.LITTLE_ENDIAN);
        }
        buffer.clear();
        int flags = forced ? FLAG_COMMIT | FLAG_AFTER_FORCE : FLAG_COMMIT;
        buffer.putLong(txnId).putLong(generation).putInt(ops.size()).putInt(ops.count()).putInt(flags);
        crc.reset();
        updateChain();
        crc.update(buffer.slice(0, FRAME_HEADER_BYTES - 4));
        crc.update(ops.bytes(), 0, ops.size());
        int frameCrc = (int) crc.getValue();
        buffer.putInt(frameCrc);
        buffer.put(ops.bytes(), 0, ops.size());
        buffer.flip();
        if (end + need > allocated()) extend(end + need);
        forced = false;
        write(end, buffer);
        end += need;
        chain = frameCrc;
        if (force) force();
    }

    /**
     * Writes zeros from the log's end past {@code upTo}, in 1 MiB steps: frames are then written
     * over blocks the file already has, and a force need not commit a new file length (an
     * fdatasync that grows a file costs a journal commit more on most file systems).
     */
    private void extend(long upTo) {
        long from = Math.max(allocated(), end); // never over the header or a frame
        long to = Math.max(upTo, from + IO_BYTES);
        ByteBuffer zeros = ZEROS.duplicate();
        for (long at = from; at < to; at += zeros.capacity()) {
            zeros.clear().limit((int) Math.min(zeros.capacity(), to - at));
            write(at, zeros);
        }
        allocated = to;
    }

    private long allocated() {
        if (allocated < 0) allocated = size();
        return allocated;
    }

    /**
     * Starts a new generation after a checkpoint made txn {@code checkpointTxn} durable in the
     * data file: writes and forces a new header; older frames become invalid. A log longer than
     * twice {@code keepBytes} (after a commit larger than a checkpoint's worth) is cut to
     * keepBytes; a shorter one keeps its length, so later commits overwrite its blocks in place.
     */
    void reset(long checkpointTxn, long keepBytes) {
        if (size() > 2 * keepBytes) truncate(keepBytes);
        // After a lost header the old generation is unknown: start from a random one, so no
        // frame left from before can continue the new chain.
        generation = headerLost ? new java.util.Random().nextLong() & Long.MAX_VALUE : generation + 1;
        headerLost = false;
        version = VERSION;
        baseTxn = checkpointTxn;
        end = HEADER_BYTES;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putInt(VERSION).putInt(pageBytes).putLong(generation).putLong(baseTxn).putLong(databaseId);
        crc.reset();
        crc.update(header.array(), 0, HEADER_BYTES - 4);
        chain = (int) crc.getValue();
        header.putInt(HEADER_BYTES - 4, chain).clear();
        write(0, header);
        if (allocated >= 0 && allocated < HEADER_BYTES) allocated = HEADER_BYTES;
        force();
    }

    // ---------------------------------------------------------------- reading at open

    /**
     * What the log holds, found by {@link #scan}: its header, the committed frames, and where and
     * why reading stopped.
     */
    record Scan(boolean headerValid, int version, long baseTxn, long committedEnd, long lastCommitTxn, int commits,
                String stopReason, boolean stoppedInFrame) {
        boolean hasCommits() {
            return commits > 0;
        }
    }

    /**
     * Reads the header and every valid frame; committed frames end at the last valid commit
     * frame. Leaves the log ready to append after them (or ready for {@link #reset}).
     *
     * <p>No header yet (a log shorter than a header, or zeros where it goes: created, never
     * written) means an empty log, unless frames show it had one ({@link #frameAfterZeroHeader}:
     * refused as a damaged header). A header that is there but fails its checks is damage, not a
     * torn write (the header is one 64-byte write inside one disk sector), and the log may hold
     * commits the data file lacks: that is refused, never silently dropped.
     *
     * @param checkpointTxn the txn id of the data file's newest intact meta, which frames follow
     * @throws CorruptionException the header is damaged or belongs to another page size
     * @throws CairnException      the log was written by a newer Cairn
     */
    Scan scan(long checkpointTxn) {
        long size = size();
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        read(0, header);
        if (size < HEADER_BYTES) return new Scan(false, 0, 0, HEADER_BYTES, 0, 0, "no header", false);
        if (isZero(header)) {
            long found = frameAfterZeroHeader(size, checkpointTxn);
            if (found < 0) return new Scan(false, 0, 0, HEADER_BYTES, 0, 0, "no header", false);
            throw new LogRefusedException(path + ": the log header (bytes [0, 64)) is zeros, but "
                + (found == HEADER_BYTES ? "a frame follows it at byte 64" : "a commit after the data file's last checkpoint"
                    + " (txn " + checkpointTxn + ") lies at byte " + found)
                + ": a crash cannot leave that (the header is written and forced before any frame, and never"
                + " cleared), so the header was damaged, and the log's commits, which may be newer than the data file's"
                + " last checkpoint, cannot be checked. To open the database at that checkpoint instead (losing them), move "
                + path.getFileName() + " out of the folder" + salvageHint(path), 0);
        }
        String problem = headerProblem(header);
        if (problem != null) {
            throw new LogRefusedException(path + ": log header: " + problem + ". The log may hold commits newer than the"
                + " data file's last checkpoint; to open the database at that checkpoint instead (losing them), move "
                + path.getFileName() + " out of the folder" + salvageHint(path), 0);
        }
        version = header.getInt(8);
        if (version < OLDEST_READ_VERSION || version > VERSION) {
            throw new CairnException(path + ": log version " + version + " (this Cairn reads versions "
                + OLDEST_READ_VERSION + " to " + VERSION + "); open the database with the Cairn that wrote it");
        }
        if (version >= 3 && header.getLong(DATABASE_ID_OFFSET) != databaseId) {
            throw new LogRefusedException(path + ": the log belongs to another database (its header names database id "
                + PageLayout.hex(header.getLong(DATABASE_ID_OFFSET)) + ", the data file's is " + PageLayout.hex(databaseId)
                + "): its commits are not this database's and are not replayed. To open the database at its data file's"
                + " last checkpoint, move " + path.getFileName() + " out of the folder" + salvageHint(path), 0);
        }
        headerLost = false;
        generation = header.getLong(16);
        baseTxn = header.getLong(24);
        chain = header.getInt(HEADER_BYTES - 4);
        startReading(size);
        long lastCommit = 0;
        int commits = 0;
        String stop;
        while (true) {
            stop = nextFrame(Math.max(baseTxn, lastCommit) + 1);
            if (stop != null) break;
            lastCommit = frameTxn;
            commits++;
        }
        boolean inFrame = stopInFrame;
        refuseIfIntactFramesFollow(lastCommit, stop, commits);
        end = readAt;
        stopReading();
        return new Scan(true, version, baseTxn, readAt, lastCommit, commits, stop, inFrame);
    }

    /**
     * Scan stopped at the frame at {@link #readAt}: the log's end, or a frame torn by a crash, or
     * damage. A crash can tear only the last frame written, and in durable mode a frame is
     * written only after the one before it was forced. So if the bytes after the stopped frame
     * (where its length field says it ends) hold an intact frame of this generation that chains
     * to it (from its stored CRC, or from the CRC its bytes give when only the CRC field was hit)
     * and carries {@link #FLAG_AFTER_FORCE}, the stopped frame was on disk whole before that one
     * was written: it was damaged later, and reading it as the log's end would silently drop
     * acknowledged commits. Refused, saying how to open without them.
     *
     * <p>When the stopped frame's length field was hit as well (a zeroed block), the frame after
     * it is not where the field says: then the rest of the log is searched for a frame header that
     * can follow it ({@link #frameFurtherOn}). Costs one 32-byte read at a clean open (the log
     * starts with an older generation's frame); after a crash, one read of the rest of the log.
     */
    private void refuseIfIntactFramesFollow(long lastCommit, String stop, int commits) {
        long at = readAt;
        int chainBefore = chain; // the last committed frame's: the next commit chains to it
        if (at + FRAME_HEADER_BYTES > readLimit) return;
        ByteBuffer stopped = ByteBuffer.allocate(FRAME_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        read(at, stopped);
        long minTxn = Math.max(baseTxn, lastCommit) + 1;
        long next = at + FRAME_HEADER_BYTES + (stopped.getInt(16) & 0xFFFF_FFFFL);
        if (next + FRAME_HEADER_BYTES <= readLimit) {
            ByteBuffer following = ByteBuffer.allocate(FRAME_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            read(next, following);
            if (following.getLong(8) == generation && (following.getInt(24) & FLAG_AFTER_FORCE) != 0) {
                int stored = stopped.getInt(FRAME_HEADER_BYTES - 4);
                long opsBytes = next - at - FRAME_HEADER_BYTES;
                int[] seeds = opsBytes > IO_BYTES << 4 ? new int[] {stored} : new int[] {stored, crcOfFrameAt(at, opsBytes, stopped)};
                for (int seed : seeds) {
                    chain = seed;
                    readAt = next;
                    if (nextFrame(minTxn) == null && (frameFlags & FLAG_AFTER_FORCE) != 0) refuse(at, stop, next);
                }
            }
        }
        readAt = at;
        // The length field was hit too (a zeroed block, the commonest damage a disk does): look
        // further. Not at a clean open (the log starts with an older generation's frame: the
        // scan would read the whole file for nothing), nor in a version 2 log (no AFTER_FORCE).
        if (version >= 3 && (commits > 0 || !stop.equals(OTHER_GENERATION))) {
            long found = frameFurtherOn(at + FRAME_HEADER_BYTES, at, minTxn, false);
            if (found >= 0) refuse(at, stop, found);
        }
        readAt = at;
        chain = chainBefore;
    }

    /**
     * Where, at or after {@code from}, a frame header of this generation (of any but 0, when
     * {@code anyGeneration}: the header that named it is lost) starts that carries
     * {@link #FLAG_AFTER_FORCE} and a txn id that can follow the stopped frame's, at
     * {@code stoppedAt} (at least {@code minTxn}): above it, and at most one more per 32 bytes
     * after it (a generation's txn ids count up by one, from the first frame a process writes),
     * with its ops inside the log, and {@link #backed} by what follows it. -1 when none. Its own
     * CRC cannot be checked: it chains to the damaged frame's. Reads the rest of the log once, in
     * 1 MiB steps.
     */
    private long frameFurtherOn(long from, long stoppedAt, long minTxn, boolean anyGeneration) {
        ByteBuffer buf = ByteBuffer.allocate(IO_BYTES + FRAME_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (long base = from; base + FRAME_HEADER_BYTES <= readLimit; base += IO_BYTES) {
            int n = (int) Math.min(buf.capacity(), readLimit - base);
            buf.clear().limit(n);
            read(base, buf);
            for (int p = 0; p + FRAME_HEADER_BYTES <= n && p < IO_BYTES; p++) {
                long frameGeneration = buf.getLong(p + 8);
                if (buf.getInt(p + 24) != (FLAG_COMMIT | FLAG_AFTER_FORCE)) continue;
                if (anyGeneration ? frameGeneration == 0 : frameGeneration != generation) continue;
                long at = base + p;
                long txn = buf.getLong(p);
                long opsLength = buf.getInt(p + 16) & 0xFFFF_FFFFL;
                if (txn <= minTxn || txn > minTxn + 1 + (at - stoppedAt) / FRAME_HEADER_BYTES) continue;
                if (opsLength > readLimit - at - FRAME_HEADER_BYTES) continue;
                if (anyGeneration) generation = frameGeneration; // what backed() reads the next frame against
                if (backed(at, txn, buf.getInt(p + 20), (int) opsLength, buf.getInt(p + 28))) return at;
            }
        }
        return -1;
    }

    /**
     * For {@link #frameFurtherOn}: the frame header at {@code at} heads a frame, as the next
     * frame chains to it (its CRC held), or, when no frame of this generation follows, as its
     * ops parse exactly; bytes of a stored value that look like a header do neither (probe 84
     * made one that did not chain).
     */
    private boolean backed(long at, long txn, int opCount, int opsLength, int storedCrc) {
        chain = storedCrc;
        readAt = at + FRAME_HEADER_BYTES + opsLength;
        if (nextFrame(txn + 1) == null) return true;
        if (stopInFrame) return false;
        ByteBuffer ops = ByteBuffer.allocate(opsLength);
        read(at + FRAME_HEADER_BYTES, ops);
        return LogOps.parses(ByteBuffer.wrap(ops.array()), opCount);
    }

    /**
     * Refuses the log damaged at {@code at} ({@code stop} says how), with intact commits from
     * byte {@code next} that were written after it had been forced.
     */
    private void refuse(long at, String stop, long next) {
        // The first intact frame was checked by the caller (its CRC chains to the damaged frame's):
        // count it by its header, and the ones that chain to it.
        ByteBuffer head = ByteBuffer.allocate(FRAME_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        read(next, head);
        long firstTxn = head.getLong(0);
        chain = head.getInt(FRAME_HEADER_BYTES - 4);
        readAt = next + FRAME_HEADER_BYTES + (head.getInt(16) & 0xFFFF_FFFFL);
        int intact = 1;
        long lastTxn = firstTxn;
        while (nextFrame(lastTxn + 1) == null) {
            lastTxn = frameTxn;
            intact++;
        }
        String intactCommits = intact == 1
            ? "1 intact commit (txn " + firstTxn + ", from byte " + next + ") follows the damaged frame and was"
            : intact + " intact commits (txn " + firstTxn + " to " + lastTxn + ", from byte " + next
                + ") follow the damaged frame and were";
        throw new LogRefusedException(path + ": the log is damaged at byte " + at + " (" + stop + "), but " + intactCommits
            + " written after it had been forced to disk: this is damage, not a write torn by a crash, and opening"
            + " would drop acknowledged commits. To open the database as of the last commit before the damage"
            + " instead (dropping the damaged frame and every commit after it), keep a copy of the log and cut it to "
            + at + " bytes (truncate -s " + at + " " + path + ")" + salvageHint(path), at);
    }

    /**
     * The chained CRC the frame at {@code at} has if its bytes are whole ({@code header} is its
     * header); frames are never longer than the log limit (1 MiB), so the caller asks only up to 16 MiB.
     */
    private int crcOfFrameAt(long at, long opsBytes, ByteBuffer header) {
        ByteBuffer ops = ByteBuffer.allocate((int) opsBytes);
        read(at + FRAME_HEADER_BYTES, ops);
        crc.reset();
        updateChain();
        crc.update(header.array(), 0, FRAME_HEADER_BYTES - 4);
        crc.update(ops.array(), 0, ops.capacity());
        return (int) crc.getValue();
    }

    /** Ends the message of every {@link LogRefusedException}: the command that applies its remedy. */
    static String salvageHint(Path log) {
        return ". `java -jar cairn.jar salvage " + log.toAbsolutePath().getParent() + "` shows what that would do,"
            + " and with --apply does it, keeping a copy of the whole log";
    }

    // ---------------------------------------------------------------- reading frames
    // Plain fields and methods of this class, not a nested reader class: loading one more class
    // at open cost about a millisecond here.

    /** Where reading stops (the log's length, or the committed end for a replay). */
    private long readLimit;
    private ByteBuffer window = ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
    /** File offset of window[0]. */
    private long windowAt;
    /** Offset of the next frame to read. */
    private long readAt;
    /** The last frame read: its txn id, op count, and its ops at window[opsAt, opsAt + opsBytes). */
    private long frameTxn;
    private int frameFlags;
    private int frameOpCount;
    private int opsAt;
    private int opsBytes;
    /**
     * Whether the last {@link #nextFrame} that stopped, stopped at a frame of this generation that
     * does not check out (a torn or damaged commit), not at the log's usual end (zeros, an older
     * generation's frame, the file's end).
     */
    private boolean stopInFrame;
    /** The stop reason of a frame left from an older generation: the usual end after a clean close. */
    private static final String OTHER_GENERATION = "frame of another generation";

    /** Starts reading frames from byte 64, up to {@code limit}; frames are read in steps of about 1 MiB. */
    private void startReading(long limit) {
        readLimit = limit;
        readAt = HEADER_BYTES;
        windowAt = 0;
        window.clear().limit(0);
    }

    /**
     * Reads the frame at {@link #readAt}: null and advances past it if it is whole, has this
     * generation, a matching chained CRC (following {@link #chain}), flags COMMIT and a txn id of
     * at least minTxn; else why not (the log's end, or damage).
     */
    private String nextFrame(long minTxn) {
        long size = readLimit;
        long at = readAt;
        stopInFrame = false;
        if (at + FRAME_HEADER_BYTES > size) return at == size ? "end of log" : "frame header cut off by the log's end";
        loadWindow(FRAME_HEADER_BYTES);
        int p = (int) (at - windowAt);
        // The usual ends of a log: the zeros it was extended with, or a frame left from an
        // older generation (constant messages: nothing to build).
        if (window.getLong(p + 8) != generation) {
            return window.getLong(p) == 0 && window.getLong(p + 8) == 0 ? "end of frames" : OTHER_GENERATION;
        }
        stopInFrame = true;
        long opsLength = window.getInt(p + 16) & 0xFFFF_FFFFL;
        if (opsLength > size - at - FRAME_HEADER_BYTES) return "frame of " + opsLength + " bytes cut off by the log's end";
        loadWindow(FRAME_HEADER_BYTES + (int) opsLength);
        p = (int) (at - windowAt);
        // The CRC covers the header's first 28 bytes and the ops, not the CRC field between them.
        crc.reset();
        updateChain();
        crc.update(window.array(), p, FRAME_HEADER_BYTES - 4);
        crc.update(window.array(), p + FRAME_HEADER_BYTES, (int) opsLength);
        int actual = (int) crc.getValue();
        int stored = window.getInt(p + 28);
        if (stored != actual) return "checksum " + PageLayout.hex(stored) + " (expected: " + PageLayout.hex(actual) + ")";
        // A valid checksum with a bad field means a writer bug, not a torn write: still stop here.
        long txn = window.getLong(p);
        if (txn < minTxn) return "txn id " + txn + " (expected: >= " + minTxn + ")";
        int flags = window.getInt(p + 24);
        if (flags != FLAG_COMMIT && (version < 3 || flags != (FLAG_COMMIT | FLAG_AFTER_FORCE))) {
            return "flags " + flags + " (expected: " + (version < 3 ? "1" : "1 or 3") + ")";
        }
        stopInFrame = false;
        frameTxn = txn;
        frameFlags = flags;
        frameOpCount = window.getInt(p + 20);
        opsAt = p + FRAME_HEADER_BYTES;
        opsBytes = (int) opsLength;
        chain = stored;
        readAt = at + FRAME_HEADER_BYTES + opsLength;
        return null;
    }

    /** Makes bytes [readAt, readAt + n) of the file readable in the window (the caller checked the size). */
    private void loadWindow(int n) {
        long at = readAt;
        if (at >= windowAt && at + n <= windowAt + window.limit()) return;
        // The first read is one frame header: after a clean close that frame is stale, and
        // open stays cheap.
        int want = (int) Math.min(at == HEADER_BYTES && n == FRAME_HEADER_BYTES ? n : Math.max(n, IO_BYTES), readLimit - at);
        if (window.capacity() < want) window = ByteBuffer.allocate(want).order(ByteOrder.LITTLE_ENDIAN);
        window.clear().limit(want);
        read(at, window);
        windowAt = at;
    }

    /** Drops the read window (up to 1 MiB, or a frame): the log is read only at open. */
    private void stopReading() {
        if (window.capacity() > 0) window = ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The ops of the frame just read. */
    private ByteBuffer frameOps() {
        return window.duplicate().order(ByteOrder.LITTLE_ENDIAN).limit(opsAt + opsBytes).position(opsAt);
    }

    private String headerProblem(ByteBuffer h) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (h.get(i) != MAGIC[i]) return "magic mismatch (expected: CAIRNWAL)";
        }
        crc.reset();
        crc.update(h.array(), 0, HEADER_BYTES - 4);
        int actual = (int) crc.getValue();
        int stored = h.getInt(HEADER_BYTES - 4);
        if (stored != actual) return "checksum " + PageLayout.hex(stored) + " (expected: " + PageLayout.hex(actual) + ")";
        if (h.getInt(12) != pageBytes) return "page size " + h.getInt(12) + " (expected: the data file's " + pageBytes + ")";
        return null;
    }

    /**
     * Where a log whose header is zeros shows that it had one: byte 64 when the first frame
     * header's place is not zeros; else the first frame header further on that a commit after
     * the checkpoint {@code checkpointTxn} left ({@link #frameFurtherOn}, of any generation: the
     * header that named it is gone). A zeroed block, the commonest damage a disk does, takes the
     * header and the first frames together; the frames after it hold acknowledged commits. -1:
     * none, a log created and never written.
     */
    private long frameAfterZeroHeader(long size, long checkpointTxn) {
        if (size < HEADER_BYTES + FRAME_HEADER_BYTES) return -1;
        ByteBuffer frame = ByteBuffer.allocate(FRAME_HEADER_BYTES);
        read(HEADER_BYTES, frame);
        for (int i = 0; i < FRAME_HEADER_BYTES; i++) {
            if (frame.get(i) != 0) return HEADER_BYTES;
        }
        startReading(size);
        version = VERSION; // frames with AFTER_FORCE, the ones looked for, are version 3's
        try {
            return frameFurtherOn(HEADER_BYTES + FRAME_HEADER_BYTES, HEADER_BYTES, checkpointTxn + 1, true);
        } finally {
            stopReading();
        }
    }

    private static boolean isZero(ByteBuffer h) {
        for (int i = 0; i < HEADER_BYTES; i++) {
            if (h.get(i) != 0) return false;
        }
        return true;
    }

    /** The commits of the log, in order, as {@link #replay} hands them out. */
    interface CommitSink {
        /** One commit: its txn id, its op count, and its ops (position to limit). */
        void commit(long txnId, int opCount, ByteBuffer ops);
    }

    /**
     * Hands the committed frames found by {@link #scan} with txn id > afterTxn to the sink, in
     * log order. Reads them again, checking each as the scan did.
     */
    void replay(Scan scan, long afterTxn, CommitSink sink) {
        long endAfterScan = end;
        int chainAfterScan = chain;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        read(0, header);
        chain = header.getInt(HEADER_BYTES - 4);
        startReading(scan.committedEnd());
        for (int i = 0; i < scan.commits(); i++) {
            String problem = nextFrame(0);
            if (problem != null) {
                throw new CorruptionException(path + ": frame at byte " + readAt + " changed since the log was read: " + problem);
            }
            if (frameTxn > afterTxn) sink.commit(frameTxn, frameOpCount, frameOps());
        }
        stopReading();
        end = endAfterScan;
        chain = chainAfterScan;
    }

    /** Feeds the previous frame's CRC to the CRC being computed, as 4 little-endian bytes. */
    private void updateChain() {
        for (int shift = 0; shift < 32; shift += 8) crc.update(chain >>> shift);
    }

    // ---------------------------------------------------------------- file access

    /** Writes the buffer's remaining bytes at position. The one door for every write to the log. */
    void write(long position, ByteBuffer bytes) {
        file.writeFully(bytes, position);
    }

    /** Forces the log to the device (fdatasync). */
    void force() {
        file.force();
        forced = true;
    }

    private void read(long position, ByteBuffer into) {
        file.readFully(into, position);
    }

    private void truncate(long bytes) {
        allocated = -1;
        file.truncate(bytes);
    }

    private long size() {
        return file.size();
    }

    @Override
    public void close() {
        file.close();
    }
}
