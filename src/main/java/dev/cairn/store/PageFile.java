package dev.cairn.store;

import dev.cairn.CairnException;
import dev.cairn.internal.Check;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The data file: a channel for writes and a mapping for reads (storage-format.md §2).
 *
 * <ul>
 *   <li>The file is mapped in chunks of {@link #CHUNK_PAGES} pages; a chunk is never unmapped
 *       while the file is open, so a segment a reader holds stays mapped. Mapping a chunk
 *       extends the file to the chunk's end (sparse).
 *   <li>Every write goes through {@link #write} and {@link #force} (the one door a test
 *       wrapper uses to inject torn or lost writes). A writable file is mapped read-write, and
 *       {@link #write} copies pages into the mapping: no system call and no bounce buffer per
 *       page (a channel write of a heap buffer copies it twice), which is most of what a small
 *       commit costs besides its force. Everyone else gets read-only views of the chunks, so no
 *       caller can write through a segment it was given.
 *   <li>A page's checksum is verified the first time it is read after open; pages this
 *       process wrote are trusted. The bitmap only gains bits during a session (a racy update can
 *       lose a bit, which only means a second verification), except that recovery clears the
 *       bits of pages it rewrites from the log.
 * </ul>
 */
class PageFile implements AutoCloseable {
    static final int CHUNK_PAGES = 1024;
    /** Whether fdatasync of the file also writes pages dirtied through a mapping (see {@link #force}). */
    private static final boolean FSYNC_COVERS_MAPPINGS = System.getProperty("os.name", "").startsWith("Linux");

    final Path path;
    final int pageBytes;
    final int pageShift;
    private final FileChannel channel;
    private final Arena arena;
    private final boolean writable;
    /** Read-only views of the chunks: what readers get. */
    private volatile MemorySegment[] chunks = new MemorySegment[0];
    /** The same chunks, writable (writable files only): used by {@link #write} alone. */
    private volatile MemorySegment[] writeChunks = new MemorySegment[0];
    private volatile long[][] verified = new long[0][];

    PageFile(Path path, FileChannel channel, int pageBytes, boolean writable) {
        Check.that(Integer.bitCount(pageBytes) == 1, "pageBytes %d (expected: power of two)", pageBytes);
        this.path = path;
        this.channel = channel;
        this.pageBytes = pageBytes;
        this.pageShift = Integer.numberOfTrailingZeros(pageBytes);
        this.writable = writable;
        this.arena = Arena.ofShared();
    }

    /** The chunks mapped so far; the array is never changed after it was published. */
    MemorySegment[] chunks() {
        return chunks;
    }

    /** Maps chunks until pages [0, pageCount) are covered and returns the chunk array. */
    synchronized MemorySegment[] mapUpTo(long pageCount) {
        MemorySegment[] current = chunks;
        long needed = (pageCount + CHUNK_PAGES - 1) / CHUNK_PAGES;
        if (current.length >= needed) return current;
        MemorySegment[] next = Arrays.copyOf(current, (int) needed);
        MemorySegment[] nextWritable = Arrays.copyOf(writeChunks, writable ? (int) needed : 0);
        long[][] bits = Arrays.copyOf(verified, (int) needed);
        long chunkBytes = (long) CHUNK_PAGES * pageBytes;
        try {
            // One mapping for all new chunks (at open: the whole file in one mmap call), sliced
            // into chunks; a read-only file maps only the bytes it has.
            long offset = current.length * chunkBytes;
            long size = writable ? (needed - current.length) * chunkBytes : channel.size() - offset;
            MemorySegment mapped = channel.map(writable ? FileChannel.MapMode.READ_WRITE : FileChannel.MapMode.READ_ONLY,
                offset, size, arena);
            for (int i = current.length; i < needed; i++) {
                long at = (i - current.length) * chunkBytes;
                MemorySegment chunk = mapped.asSlice(at, Math.min(chunkBytes, size - at));
                next[i] = chunk.asReadOnly();
                if (writable) nextWritable[i] = chunk;
                bits[i] = new long[CHUNK_PAGES / 64];
            }
        } catch (IOException e) {
            throw new CairnException("cannot map " + path + ": " + e.getMessage(), e);
        }
        verified = bits;
        writeChunks = nextWritable;
        chunks = next;
        return next;
    }

    /** The page as a segment of one page, from a chunk array that covers it. */
    final MemorySegment page(MemorySegment[] chunkArray, long pageId) {
        return chunk(chunkArray, pageId).asSlice(offsetInChunk(pageId), pageBytes);
    }

    /** The mapped chunk holding the page (read-only), from a chunk array that covers it. */
    static MemorySegment chunk(MemorySegment[] chunkArray, long pageId) {
        return chunkArray[(int) (pageId / CHUNK_PAGES)];
    }

    /** Where the page starts in its {@link #chunk}. */
    final long offsetInChunk(long pageId) {
        return (pageId % CHUNK_PAGES) << pageShift;
    }

    /** A run of contiguous pages: a slice when it lies in one chunk, else a heap copy. */
    final MemorySegment run(MemorySegment[] chunkArray, long pageId, long pages) {
        long first = pageId / CHUNK_PAGES;
        long last = (pageId + pages - 1) / CHUNK_PAGES;
        if (first == last) {
            return chunkArray[(int) first].asSlice((pageId % CHUNK_PAGES) << pageShift, pages << pageShift);
        }
        MemorySegment copy = MemorySegment.ofArray(new byte[Math.toIntExact(pages << pageShift)]);
        for (long p = 0; p < pages; p++) {
            MemorySegment.copy(page(chunkArray, pageId + p), 0, copy, p << pageShift, pageBytes);
        }
        return copy.asReadOnly();
    }

    boolean isVerified(long pageId) {
        long[][] bits = verified;
        int c = (int) (pageId / CHUNK_PAGES);
        if (c >= bits.length) return false;
        int bit = (int) (pageId % CHUNK_PAGES);
        return (bits[c][bit >>> 6] & (1L << bit)) != 0;
    }

    void markVerified(long pageId) {
        long[][] bits = verified;
        int c = (int) (pageId / CHUNK_PAGES);
        if (c >= bits.length) return;
        int bit = (int) (pageId % CHUNK_PAGES);
        bits[c][bit >>> 6] |= 1L << bit;
    }

    /**
     * Writes whole pages starting at pageId into the mapping (mapping more of the file first if
     * they lie beyond it). The one door for every write to the file.
     */
    void write(long pageId, MemorySegment pages) {
        Check.that(writable, "write to a data file opened read-only");
        Check.that(pages.byteSize() % pageBytes == 0, "write of %d bytes (expected: whole pages)", pages.byteSize());
        long count = pages.byteSize() >> pageShift;
        if (count == 0) return;
        MemorySegment[] target = writeChunks;
        if ((pageId + count - 1) / CHUNK_PAGES >= target.length) {
            mapUpTo(pageId + count);
            target = writeChunks;
        }
        long id = pageId;
        try {
            for (long p = 0; p < count; p++, id++) {
                MemorySegment.copy(pages, p << pageShift, chunk(target, id), offsetInChunk(id), pageBytes);
            }
        } catch (InternalError e) {
            // The JVM turns a fault (SIGBUS) in mapped memory into this error: the file was cut
            // under us, or the device could not give a block to a page of the sparse file.
            throw new CairnException("cannot write page " + id + " of " + path
                + ": the mapped file failed (device full, or the file was truncated): " + e.getMessage(), e);
        }
    }

    /**
     * Forces every write so far to the device (fdatasync). On Linux, whose page cache is the
     * mapping's, that includes the pages written through the mapping; elsewhere (POSIX leaves it
     * open, Windows needs FlushViewOfFile) the mapped chunks are forced (msync) first.
     */
    void force() {
        if (!FSYNC_COVERS_MAPPINGS) {
            for (MemorySegment chunk : writeChunks) chunk.force();
        }
        ChannelIo.force(channel, path);
    }

    /**
     * A heap copy of one page, read through the channel: for looking at a file before mapping
     * it, since mapping a writable file extends it to the chunk's end.
     */
    MemorySegment readPage(long pageId) {
        ByteBuffer page = ByteBuffer.allocate(pageBytes);
        ChannelIo.readFully(channel, path, page, pageId << pageShift);
        return MemorySegment.ofArray(page.array());
    }

    long fileBytes() {
        return ChannelIo.size(channel, path);
    }

    @Override
    public void close() {
        try {
            arena.close();
        } finally {
            try {
                channel.close();
            } catch (IOException e) {
                throw new CairnException("cannot close " + path + ": " + e.getMessage(), e);
            }
        }
    }
}
