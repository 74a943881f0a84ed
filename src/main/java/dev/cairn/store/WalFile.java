package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.CorruptionException;
import dev.cairn.internal.Check;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The write-ahead log, {@value Store#WAL_FILE} (storage-format.md §5): a commit appends an image
 * of every page it wrote, then its meta page as the commit frame, and forces this file only.
 * A checkpoint forces the data file and starts a new generation of the log from its start.
 *
 * <ul>
 *   <li>Header (64 bytes): magic, version, page size, generation, base txn id, CRC32C.
 *   <li>Frame: 32-byte frame header (page id, txn id, generation, flags, chained CRC32C) and one
 *       page. The CRC covers the previous frame's CRC (the header's for the first frame), the
 *       frame header's first 28 bytes and the page; so a frame is valid only after every earlier
 *       frame of its generation, and frames of an older generation never are.
 *   <li>Every write goes through {@link #write} and {@link #force}, the door a test wrapper uses
 *       to tear or lose writes.
 * </ul>
 */
class WalFile implements AutoCloseable {
    static final byte[] MAGIC = {'C', 'A', 'I', 'R', 'N', 'W', 'A', 'L'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 64;
    static final int FRAME_HEADER_BYTES = 32;
    /** Frame flag: the last frame of a commit; its page is the commit's meta page. */
    static final int FLAG_COMMIT = 1;
    /** Bytes read or written per call when frames are streamed. */
    private static final int IO_BYTES = 1 << 20;

    final Path path;
    final int pageBytes;
    private final FileChannel channel;
    private final CRC32C crc = new CRC32C();
    private long generation;
    private long baseTxn;
    /** CRC of the last frame appended (the header's when none); seeds the next frame's CRC. */
    private int chain;
    /** Where the next frame goes. */
    private long end = HEADER_BYTES;
    /** True until a valid header was read or written. */
    private boolean headerLost = true;
    private ByteBuffer buffer = ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);

    WalFile(Path path, FileChannel channel, int pageBytes) {
        this.path = path;
        this.channel = channel;
        this.pageBytes = pageBytes;
    }

    /** Bytes of frames appended in this generation. */
    long frameBytes() {
        return end - HEADER_BYTES;
    }

    int frameBytesPerPage() {
        return FRAME_HEADER_BYTES + pageBytes;
    }

    /** Whole frames in about {@link #IO_BYTES}: the unit in which frames are written and read. */
    private int ioBufferBytes() {
        int frameBytes = frameBytesPerPage();
        return Math.max(frameBytes, IO_BYTES / frameBytes * frameBytes);
    }

    // ---------------------------------------------------------------- appending

    /** Starts a commit's frames: the buffer is reused and holds the frames until {@link #finishCommit}. */
    void beginCommit(int pages) {
        int need = (int) Math.min((long) (pages + 1) * frameBytesPerPage(), ioBufferBytes());
        if (buffer.capacity() < need) buffer = ByteBuffer.allocate(need).order(ByteOrder.LITTLE_ENDIAN);
        buffer.clear();
    }

    /**
     * Adds one page image of a commit (the page's remaining bytes, exactly one page); a long
     * commit's frames are written out in 1 MiB steps.
     */
    void addPage(long pageId, long txnId, ByteBuffer page) {
        addFrame(pageId, txnId, 0, page);
    }

    /** Adds the commit frame (the meta page), writes the commit's remaining frames, forces if asked. */
    void finishCommit(long metaSlot, long txnId, byte[] metaPage, boolean force) {
        addFrame(metaSlot, txnId, FLAG_COMMIT, ByteBuffer.wrap(metaPage));
        flush();
        if (force) force();
    }

    private void addFrame(long pageId, long txnId, int flags, ByteBuffer page) {
        Check.that(txnId > baseTxn, "log frame of txn %d after base %d", txnId, baseTxn);
        Check.that(page.remaining() == pageBytes, "log frame of %d bytes (expected: %d)", page.remaining(), pageBytes);
        if (buffer.remaining() < frameBytesPerPage()) flush();
        int at = buffer.position();
        buffer.putLong(pageId).putLong(txnId).putLong(generation).putShort((short) flags).putShort((short) 0);
        crc.reset();
        updateChain();
        crc.update(buffer.array(), at, FRAME_HEADER_BYTES - 4);
        crc.update(page.duplicate());
        chain = (int) crc.getValue();
        buffer.putInt(chain);
        buffer.put(page);
    }

    private void flush() {
        buffer.flip();
        int bytes = buffer.remaining();
        if (bytes > 0) write(end, buffer);
        end += bytes;
        buffer.clear();
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
        baseTxn = checkpointTxn;
        end = HEADER_BYTES;
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(MAGIC).putInt(VERSION).putInt(pageBytes).putLong(generation).putLong(baseTxn);
        crc.reset();
        crc.update(header.array(), 0, HEADER_BYTES - 4);
        chain = (int) crc.getValue();
        header.putInt(HEADER_BYTES - 4, chain).clear();
        write(0, header);
        force();
    }

    // ---------------------------------------------------------------- reading at open

    /**
     * What the log holds, found by {@link #scan}: its header, the committed frames, and where and
     * why reading stopped.
     */
    record Scan(boolean headerValid, long baseTxn, long committedEnd, long lastCommitTxn, int commits,
                long stopOffset, String stopReason) {
        boolean hasCommits() {
            return commits > 0;
        }
    }

    /**
     * Reads the header and every valid frame; committed frames end at the last valid commit
     * frame. Leaves the log ready to append after them (or ready for {@link #reset}).
     *
     * <p>No header yet (a log shorter than a header, or zeros where it goes: created, never
     * written) means an empty log. A header that is there but fails its checks is damage, not a
     * torn write (the header is one 64-byte write inside one disk sector), and the log may hold
     * commits the data file lacks: that is refused, never silently dropped.
     *
     * @throws CorruptionException the header is damaged or belongs to another page size
     * @throws CairnException      the log was written by a newer Cairn
     */
    Scan scan() {
        long size = size();
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        read(0, header);
        if (size < HEADER_BYTES || isZero(header)) return new Scan(false, 0, HEADER_BYTES, 0, 0, 0, "no header");
        String problem = headerProblem(header);
        if (problem != null) {
            throw new CorruptionException(path + ": log header: " + problem + ". The log may hold commits newer than the"
                + " data file's last checkpoint; to open the database at that checkpoint instead (losing them), move "
                + path.getFileName() + " out of the folder");
        }
        if (header.getInt(8) != VERSION) {
            throw new CairnException(path + ": log version " + header.getInt(8) + " (this Cairn reads version " + VERSION
                + "); open the database with the Cairn that wrote it");
        }
        headerLost = false;
        generation = header.getLong(16);
        baseTxn = header.getLong(24);
        chain = header.getInt(HEADER_BYTES - 4);
        int frameBytes = frameBytesPerPage();
        // One frame first: after a clean close the first frame is stale, and open stays cheap.
        ByteBuffer frames = ByteBuffer.allocate(frameBytes).order(ByteOrder.LITTLE_ENDIAN);
        long at = HEADER_BYTES;
        long committedEnd = HEADER_BYTES;
        int committedChain = chain;
        long lastCommit = 0;
        long openTxn = -1;
        int commits = 0;
        String stop = "end of log";
        scanning:
        while (true) {
            if (at > HEADER_BYTES && frames.capacity() < IO_BYTES) {
                frames = ByteBuffer.allocate(ioBufferBytes()).order(ByteOrder.LITTLE_ENDIAN);
            }
            frames.clear();
            if (at + frameBytes > size) break;
            frames.limit((int) Math.min(frames.capacity(), (size - at) / frameBytes * frameBytes));
            read(at, frames);
            for (int p = 0; p + frameBytes <= frames.limit(); p += frameBytes, at += frameBytes) {
                String bad = frameProblem(frames, p, openTxn, Math.max(baseTxn, lastCommit) + 1);
                if (bad != null) {
                    stop = bad;
                    break scanning;
                }
                openTxn = frames.getLong(p + 8);
                chain = frames.getInt(p + 28);
                if ((frames.getShort(p + 24) & FLAG_COMMIT) != 0) {
                    committedEnd = at + frameBytes;
                    committedChain = chain;
                    lastCommit = openTxn;
                    openTxn = -1;
                    commits++;
                }
            }
        }
        chain = committedChain;
        end = committedEnd;
        return new Scan(true, baseTxn, committedEnd, lastCommit, commits, at, stop);
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

    private static boolean isZero(ByteBuffer h) {
        for (int i = 0; i < HEADER_BYTES; i++) {
            if (h.get(i) != 0) return false;
        }
        return true;
    }

    /**
     * Null if the frame at p continues the chain, else why not. Its txn id must be openTxn (a
     * commit's frames share one id) or, for a commit's first frame, at least minTxn.
     */
    private String frameProblem(ByteBuffer f, int p, long openTxn, long minTxn) {
        long pageId = f.getLong(p);
        long txn = f.getLong(p + 8);
        long gen = f.getLong(p + 16);
        int flags = f.getShort(p + 24);
        // The usual end of a log: a frame left from an older generation (no message to build).
        if (gen != generation) return "frame of another generation";
        crc.reset();
        updateChain();
        crc.update(f.array(), p, FRAME_HEADER_BYTES - 4);
        crc.update(f.array(), p + FRAME_HEADER_BYTES, pageBytes);
        int actual = (int) crc.getValue();
        int stored = f.getInt(p + 28);
        if (stored != actual) return "checksum " + PageLayout.hex(stored) + " (expected: " + PageLayout.hex(actual) + ")";
        // A valid checksum with a bad field means a writer bug, not a torn write: still stop here.
        if (openTxn >= 0 ? txn != openTxn : txn < minTxn) {
            return "txn id " + txn + (openTxn >= 0 ? " (expected: " + openTxn + ")" : " (expected: >= " + minTxn + ")");
        }
        boolean commit = (flags & FLAG_COMMIT) != 0;
        if (flags != (commit ? FLAG_COMMIT : 0)) return "flags " + flags;
        if (commit ? pageId != 1 && pageId != 2 : pageId < PageLayout.FIRST_DATA_PAGE) {
            return "page id " + pageId + (commit ? " (expected: meta slot 1 or 2)" : " (expected: >= 3)");
        }
        return null;
    }

    /** Page images of the committed frames with txn id > afterTxn, in log order. */
    interface FrameSink {
        void page(long pageId, long txnId, ByteBuffer page);
    }

    /** Streams the committed frames found by {@link #scan} with txn id > afterTxn to the sink. */
    void replay(Scan scan, long afterTxn, FrameSink sink) {
        int frameBytes = frameBytesPerPage();
        ByteBuffer frames = ByteBuffer.allocate(ioBufferBytes()).order(ByteOrder.LITTLE_ENDIAN);
        for (long at = HEADER_BYTES; at < scan.committedEnd(); ) {
            frames.clear();
            frames.limit((int) Math.min(frames.capacity(), scan.committedEnd() - at));
            read(at, frames);
            for (int p = 0; p < frames.limit(); p += frameBytes, at += frameBytes) {
                long txn = frames.getLong(p + 8);
                if (txn > afterTxn) sink.page(frames.getLong(p), txn, frames.slice(p + FRAME_HEADER_BYTES, pageBytes));
            }
        }
    }

    /** Feeds the previous frame's CRC to the CRC being computed, as 4 little-endian bytes. */
    private void updateChain() {
        for (int shift = 0; shift < 32; shift += 8) crc.update(chain >>> shift);
    }

    // ---------------------------------------------------------------- file access

    /** Writes the buffer's remaining bytes at position. The one door for every write to the log. */
    void write(long position, ByteBuffer bytes) {
        ChannelIo.writeFully(channel, path, bytes, position);
    }

    /** Forces the log to the device (fdatasync). */
    void force() {
        ChannelIo.force(channel, path);
    }

    private void read(long position, ByteBuffer into) {
        ChannelIo.readFully(channel, path, into, position);
    }

    private void truncate(long bytes) {
        try {
            channel.truncate(bytes);
        } catch (IOException e) {
            throw new CairnException("cannot truncate " + path + " to " + bytes + " bytes: " + e.getMessage(), e);
        }
    }

    private long size() {
        return ChannelIo.size(channel, path);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new CairnException("cannot close " + path + ": " + e.getMessage(), e);
        }
    }
}
