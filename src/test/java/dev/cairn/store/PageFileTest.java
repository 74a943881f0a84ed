package dev.cairn.store;

import dev.cairn.CairnException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Random;

import static java.nio.file.StandardOpenOption.*;
import static org.junit.jupiter.api.Assertions.*;

/** The data file's one door for writes: pages written with the channel, read back through the mapping and the file. */
class PageFileTest {
    private static final int P = 4096;
    @TempDir Path dir;

    /** A writable data file at path; closing it closes its channel. */
    private static PageFile writable(Path path) throws Exception {
        return new PageFile(StoreFile.open(path, CREATE, READ, WRITE), P, true);
    }

    /** {@code count} pages of random bytes; {@code seed} picks them. */
    private static MemorySegment pages(int count, long seed) {
        byte[] bytes = new byte[count * P];
        new Random(seed).nextBytes(bytes);
        return MemorySegment.ofArray(bytes);
    }

    @Test
    void writtenPagesReadBackThroughTheReadOnlyChunksAndTheFile() throws Exception {
        Path path = dir.resolve("data");
        long first = PageFile.CHUNK_PAGES - 2; // pages 1022..1025 span two chunks
        MemorySegment written = pages(4, 1);
        try (PageFile file = writable(path)) {
            file.write(first, written); // beyond the mapped part: write maps more first
            file.force();
            MemorySegment[] chunks = file.chunks();
            assertTrue(chunks.length >= 2, "chunks mapped: " + chunks.length);
            for (int p = 0; p < 4; p++) {
                MemorySegment page = file.page(chunks, first + p);
                assertTrue(page.isReadOnly(), "a reader's view of page " + (first + p) + " is read-only");
                assertEquals(-1, page.mismatch(written.asSlice((long) p * P, P)), "page " + (first + p) + " via the mapping");
            }
        }
        try (StoreFile channel = StoreFile.open(path, READ)) {
            ByteBuffer back = ByteBuffer.allocate(4 * P);
            channel.readFully(back, first * P);
            assertEquals(-1, MemorySegment.ofBuffer(back).mismatch(written), "pages via the file");
        }
    }

    @Test
    void rewritingAPageReplacesItsBytes() throws Exception {
        Path path = dir.resolve("data");
        try (PageFile file = writable(path)) {
            file.write(7, pages(1, 1));
            MemorySegment second = pages(1, 2);
            file.write(7, second);
            assertEquals(-1, file.page(file.chunks(), 7).mismatch(second));
        }
    }

    @Test
    void runsOfConsecutivePagesGoOutTogetherAndLandInPlace() throws Exception {
        Path path = dir.resolve("data");
        // Ids with gaps, a run longer than the staging buffer, and a run across a chunk boundary.
        long[] ids = new long[PageFile.STAGE_PAGES + 10];
        int n = 0;
        for (long id = 3; id < 6; id++) ids[n++] = id;
        ids[n++] = 9;
        for (long id = PageFile.CHUNK_PAGES - 3; n < ids.length; id++) ids[n++] = id;
        MemorySegment all = pages(ids.length, 7);
        MemorySegment[] each = new MemorySegment[ids.length];
        for (int i = 0; i < ids.length; i++) each[i] = all.asSlice((long) i * P, P);
        java.util.List<Long> writes = new java.util.ArrayList<>();
        try (PageFile file = new PageFile(StoreFile.open(path, CREATE, READ, WRITE), P, true) {
            @Override
            void write(long pageId, MemorySegment pages) {
                writes.add(pageId);
                writes.add(pages.byteSize() / P);
                super.write(pageId, pages);
            }
        }) {
            file.writePages(ids, each);
            long last = ids[ids.length - 1];
            assertEquals(java.util.List.of(3L, 3L, 9L, 1L, (long) PageFile.CHUNK_PAGES - 3, (long) PageFile.STAGE_PAGES,
                PageFile.CHUNK_PAGES - 3L + PageFile.STAGE_PAGES, last - (PageFile.CHUNK_PAGES - 3L + PageFile.STAGE_PAGES) + 1),
                writes, "(first page, pages) of each write");
            MemorySegment[] chunks = file.chunks();
            for (int i = 0; i < ids.length; i++) assertEquals(-1, file.page(chunks, ids[i]).mismatch(each[i]), "page " + ids[i]);
            assertThrows(AssertionError.class, () -> file.writePages(new long[] {9, 4}, new MemorySegment[] {each[0], each[1]}),
                "ids must ascend");
        }
    }

    @Test
    void writesToAReadOnlyFileAndPartialPagesAreBugs() throws Exception {
        Path path = dir.resolve("data");
        try (PageFile file = writable(path)) {
            assertThrows(AssertionError.class, () -> file.write(3, MemorySegment.ofArray(new byte[P + 1])));
        }
        try (PageFile file = new PageFile(StoreFile.open(path, READ), P, false)) {
            assertThrows(AssertionError.class, () -> file.write(3, pages(1, 1)));
        }
    }
}
