package dev.cairn.store;

import dev.cairn.internal.Check;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The data file: a channel for writes and a mapping for reads (storage-format.md §2).
 *
 * <ul>
 *   <li>The file is mapped in chunks of {@link #CHUNK_PAGES} pages; a chunk is never unmapped
 *       while the file is open, so a segment a reader holds stays mapped. Mapping a chunk
 *       extends the file to the chunk's end (sparse).
 *   <li>Chunks are slices of larger mappings: at open the whole file is one, and each growth
 *       maps the new chunks together with the last old one, so a run of pages the file grew
 *       for lies in one mapping. A run of pages is a slice of the mapping that holds it whole
 *       ({@link #run}); one across two growths gets a mapping of its own chunks.
 *   <li>Every write goes through {@link #write} and {@link #force} (the one door a test
 *       wrapper uses to inject torn or lost writes): positional channel writes (pwrite), from a
 *       native staging buffer, one call per run of consecutive pages ({@link #writePages}). The
 *       mapping is read-only; Linux's page cache is shared, so readers see a write at once.
 *       Writing through a shared writable mapping instead cost a page fault per page written
 *       after each force (the kernel write-protects a page again once it is clean), which made
 *       a bulk load's commits about a fifth slower, and turned a full device into SIGBUS.
 *   <li>A page's checksum is verified the first time it is read after open; pages this
 *       process wrote are trusted. The bitmap only gains bits during a session (a racy update can
 *       lose a bit, which only means a second verification), except that recovery clears the
 *       bits of pages it rewrites from the log.
 * </ul>
 */
class PageFile implements AutoCloseable {
    static final int CHUNK_PAGES = 1024;
    /** Pages the staging buffer holds: writes of more go out in pieces of this many. */
    static final int STAGE_PAGES = 64;
    /**
     * Mappings made for runs across two mappings: each stays until close, so they are bounded
     * (against the kernel's limit on mappings, {@code vm.max_map_count}); beyond that, such a
     * run is copied.
     */
    static final int MAX_BRIDGES = 1024;

    final Path path;
    final int pageBytes;
    final int pageShift;
    /** log2 of a chunk's bytes: a file position's chunk is {@code position >>> chunkShift}. */
    final int chunkShift;
    /** A file position's offset in its chunk is {@code position & chunkMask}. */
    final long chunkMask;
    private final StoreFile file;
    private final Arena arena;
    private final boolean writable;
    private final int maxBridges;
    /** Read-only views of the chunks: what readers get. */
    private volatile MemorySegment[] chunks = new MemorySegment[0];
    /**
     * For each chunk, of the mappings that hold it, the one reaching furthest into the file:
     * a run starting in the chunk lies in one mapping when it lies in this one. Published
     * before {@link #chunks}, so it covers every chunk array a reader holds.
     */
    private volatile Mapping[] mappings = new Mapping[0];
    /**
     * Mappings of chunk ranges [first, last] made for runs ({@link #bridge}), by first * 2^32 +
     * last: read without a lock, added to under its own (this object's is the writer's).
     */
    private final Map<Long, MemorySegment> bridges = new ConcurrentHashMap<>();
    /** Native memory pages are gathered in before a write (a heap buffer would be copied by the JDK anyway). */
    private MemorySegment stage;
    private volatile long[][] verified = new long[0][];

    PageFile(StoreFile file, int pageBytes, boolean writable) {
        this(file, pageBytes, writable, MAX_BRIDGES);
    }

    /** A data file whose {@link #run} makes at most {@code maxBridges} mappings of its own. */
    PageFile(StoreFile file, int pageBytes, boolean writable, int maxBridges) {
        Check.that(Integer.bitCount(pageBytes) == 1, "pageBytes %d (expected: power of two)", pageBytes);
        this.path = file.path;
        this.file = file;
        this.pageBytes = pageBytes;
        this.pageShift = Integer.numberOfTrailingZeros(pageBytes);
        this.chunkShift = pageShift + Integer.numberOfTrailingZeros(CHUNK_PAGES);
        this.chunkMask = (1L << chunkShift) - 1;
        this.writable = writable;
        this.maxBridges = maxBridges;
        this.arena = Arena.ofShared();
    }

    /** The chunks mapped so far; the array is never changed after it was published. */
    MemorySegment[] chunks() {
        return chunks;
    }

    /** A mapping of {@code count} chunks of the file from chunk {@code first} on (one mmap call). */
    private record Mapping(MemorySegment segment, int first, int count) {
        boolean holds(long chunk) {
            return chunk >= first && chunk < first + count;
        }
    }

    /** Maps chunks until pages [0, pageCount) are covered and returns the chunk array. */
    synchronized MemorySegment[] mapUpTo(long pageCount) {
        MemorySegment[] current = chunks;
        long needed = (pageCount + CHUNK_PAGES - 1) / CHUNK_PAGES;
        if (current.length >= needed) return current;
        MemorySegment[] next = Arrays.copyOf(current, (int) needed);
        Mapping[] nextMappings = Arrays.copyOf(mappings, (int) needed);
        long[][] bits = Arrays.copyOf(verified, (int) needed);
        long chunkBytes = (long) CHUNK_PAGES * pageBytes;
        // One mapping for all new chunks and the last old one (at open: the whole file in one
        // mmap call), sliced into chunks: a run the file grows for starts at its old end, in the
        // last old chunk, so the run lies in this one mapping. Mapping beyond the end extends a
        // writable file to the chunks' end (sparse); a read-only file maps only the bytes it has.
        int from = Math.max(0, current.length - 1);
        long offset = from * chunkBytes;
        long size = writable ? (needed - from) * chunkBytes : file.size() - offset;
        MemorySegment mapped = file.map(FileChannel.MapMode.READ_ONLY, offset, size, arena);
        Mapping mapping = new Mapping(mapped, from, (int) ((size + chunkBytes - 1) / chunkBytes));
        for (int i = from; i < needed; i++) {
            nextMappings[i] = mapping;
            if (i < current.length) continue;
            long at = (i - from) * chunkBytes;
            next[i] = mapped.asSlice(at, Math.min(chunkBytes, size - at));
            bits[i] = new long[CHUNK_PAGES / 64];
        }
        verified = bits;
        mappings = nextMappings;
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

    /** The file position of the first byte of the page's chunk. */
    final long chunkStart(long pageId) {
        return (pageId / CHUNK_PAGES) << chunkShift;
    }

    /**
     * A run of contiguous pages, read-only, from a chunk array that covers it: a slice of the
     * mapping that holds it, or of one made for its chunks ({@link #bridge}); a heap copy only
     * once the most such mappings ({@link #MAX_BRIDGES}) exist.
     */
    final MemorySegment run(MemorySegment[] chunkArray, long pageId, long pages) {
        long first = pageId / CHUNK_PAGES;
        long last = (pageId + pages - 1) / CHUNK_PAGES;
        if (first == last) {
            return chunkArray[(int) first].asSlice((pageId % CHUNK_PAGES) << pageShift, pages << pageShift);
        }
        Mapping mapping = mappings[(int) first];
        if (mapping.holds(last)) {
            long at = (pageId - (long) mapping.first * CHUNK_PAGES) << pageShift;
            return mapping.segment.asSlice(at, pages << pageShift);
        }
        MemorySegment bridge = bridge(first, last);
        if (bridge != null) return bridge.asSlice((pageId % CHUNK_PAGES) << pageShift, pages << pageShift);
        MemorySegment copy = MemorySegment.ofArray(new byte[Math.toIntExact(pages << pageShift)]);
        for (long p = 0; p < pages; p++) {
            MemorySegment.copy(page(chunkArray, pageId + p), 0, copy, p << pageShift, pageBytes);
        }
        return copy.asReadOnly();
    }

    /**
     * One mapping of chunks [first, last], all mapped already: made at the first run across
     * them and kept until close; null once {@code maxBridges} exist.
     */
    private MemorySegment bridge(long first, long last) {
        Long key = first << 32 | last;
        MemorySegment bridge = bridges.get(key);
        if (bridge != null) return bridge;
        synchronized (bridges) {
            bridge = bridges.get(key);
            if (bridge != null || bridges.size() >= maxBridges) return bridge;
            long chunkBytes = (long) CHUNK_PAGES * pageBytes;
            long offset = first * chunkBytes;
            long size = Math.min((last - first + 1) * chunkBytes, file.size() - offset);
            bridge = file.map(FileChannel.MapMode.READ_ONLY, offset, size, arena);
            bridges.put(key, bridge);
            return bridge;
        }
    }

    /** How many mappings {@link #run} has made for runs across two mappings (for tests). */
    int bridgeCount() {
        return bridges.size();
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
     * Writes whole pages starting at pageId (mapping more of the file first if they lie beyond
     * it). The one door for every write to the file.
     */
    void write(long pageId, MemorySegment pages) {
        Check.that(writable, "write to a data file opened read-only");
        Check.that(pages.byteSize() % pageBytes == 0, "write of %d bytes (expected: whole pages)", pages.byteSize());
        long count = pages.byteSize() >> pageShift;
        if (count == 0) return;
        if ((pageId + count - 1) / CHUNK_PAGES >= chunks.length) mapUpTo(pageId + count);
        if (pages.isNative()) {
            writeNative(pageId, pages);
            return;
        }
        synchronized (this) {
            MemorySegment stage = stage();
            for (long done = 0; done < count; done += STAGE_PAGES) {
                long n = Math.min(STAGE_PAGES, count - done);
                MemorySegment.copy(pages, done << pageShift, stage, 0, n << pageShift);
                writeNative(pageId + done, stage.asSlice(0, n << pageShift));
            }
        }
    }

    /**
     * Writes pages (one page each) at the ids beside them, ascending: each run of consecutive ids
     * with one {@link #write} of up to {@link #STAGE_PAGES} pages gathered in the staging buffer.
     */
    synchronized void writePages(long[] sortedIds, MemorySegment[] pages) {
        Check.that(pages.length == sortedIds.length, "%d pages for %d ids", pages.length, sortedIds.length);
        MemorySegment stage = stage();
        int i = 0;
        while (i < sortedIds.length) {
            long first = sortedIds[i];
            int n = 0;
            do {
                MemorySegment.copy(pages[i + n], 0, stage, (long) n << pageShift, pageBytes);
                n++;
            } while (i + n < sortedIds.length && n < STAGE_PAGES && sortedIds[i + n] == first + n);
            if (i + n < sortedIds.length && sortedIds[i + n] < first + n) {
                throw new AssertionError("page ids not ascending: " + sortedIds[i + n] + " after " + (first + n - 1));
            }
            write(first, stage.asSlice(0, (long) n << pageShift));
            i += n;
        }
    }

    private MemorySegment stage() {
        if (stage == null) stage = arena.allocate((long) STAGE_PAGES << pageShift, pageBytes);
        return stage;
    }

    private void writeNative(long pageId, MemorySegment pages) {
        file.writeFully(pages.asByteBuffer(), pageId << pageShift, pageShift);
    }

    /** @throws dev.cairn.DatabaseLockedException another process took the data file after an interrupt released its lock */
    void checkLocked() {
        file.checkLocked();
    }

    /** True when another process took the data file after an interrupt released this process's lock. */
    boolean lockLost() {
        return file.lockLost();
    }

    /** The data file (for tests that close its channel as an interrupt does). */
    StoreFile file() {
        return file;
    }

    /** Forces every write so far to the device (fdatasync). */
    void force() {
        file.force();
    }

    /**
     * A heap copy of one page, read through the channel: for looking at a file before mapping
     * it, since mapping a writable file extends it to the chunk's end.
     */
    MemorySegment readPage(long pageId) {
        ByteBuffer page = ByteBuffer.allocate(pageBytes);
        file.readFully(page, pageId << pageShift);
        return MemorySegment.ofArray(page.array());
    }

    long fileBytes() {
        return file.size();
    }

    @Override
    public void close() {
        try {
            arena.close();
        } finally {
            file.close();
        }
    }
}
