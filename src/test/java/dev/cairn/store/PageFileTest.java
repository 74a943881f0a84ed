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

    /** Asserts that the run of {@code pages} pages at pageId is a slice of a mapping holding {@code expected}. */
    private static void assertMappedRun(PageFile file, long pageId, MemorySegment expected) {
        MemorySegment run = file.run(file.chunks(), pageId, expected.byteSize() / P);
        assertTrue(run.isMapped() && run.isReadOnly(), "run at page " + pageId + " is a read-only slice of a mapping, not a copy");
        assertEquals(-1, run.mismatch(expected), "bytes of the run at page " + pageId);
    }

    /**
     * A run of pages across chunk boundaries is a slice of the file's mapping, not a copy: one
     * the file grew for (written beyond its end, or starting in the last mapped chunk), every
     * run after a reopen (one mapping), and one across two growths (a mapping of its own).
     */
    @Test
    void runsAcrossChunksAreSlicesOfAMapping() throws Exception {
        Path path = dir.resolve("data");
        int c = PageFile.CHUNK_PAGES;
        MemorySegment grownFor = pages(c + 10, 1);  // [c - 5, 2c + 5): written beyond the end
        MemorySegment fromLastChunk = pages(c, 2);  // [2c + 100, 3c + 100): starts in the last mapped chunk
        MemorySegment acrossGrowths = pages(2 * c, 3);
        try (PageFile file = writable(path)) {
            file.write(0, pages(1, 0));
            assertEquals(1, file.chunks().length);
            file.write(c - 5, grownFor);
            file.write(2 * c + 100, fromLastChunk);
            assertEquals(4, file.chunks().length, "chunks mapped");
            assertMappedRun(file, c - 5, grownFor);
            assertMappedRun(file, 2 * c + 100, fromLastChunk);
            assertEquals(0, file.bridgeCount(), "mappings made for runs");
            // [c + 50, 3c + 50) lies across the second growth (chunks 0..2) and the third (2..3).
            file.write(c + 50, acrossGrowths);
            assertMappedRun(file, c + 50, acrossGrowths);
            assertMappedRun(file, c + 60, acrossGrowths.asSlice(10L * P, (2L * c - 10) * P));
            assertEquals(1, file.bridgeCount(), "one mapping made for chunks 1..3, used by both runs");
        }
        try (PageFile file = new PageFile(StoreFile.open(path, READ, WRITE), P, true)) {
            file.mapUpTo(4L * c);
            assertMappedRun(file, c + 50, acrossGrowths);
            assertMappedRun(file, c - 5, grownFor.asSlice(0, 55L * P)); // the part acrossGrowths left
            assertEquals(0, file.bridgeCount(), "after a reopen the whole file is one mapping");
        }
    }

    /** Once the most mappings for runs exist, a run across two mappings is a heap copy, with the same bytes. */
    @Test
    void runsBeyondTheMostMappingsAreCopies() throws Exception {
        Path path = dir.resolve("data");
        int c = PageFile.CHUNK_PAGES;
        try (PageFile file = new PageFile(StoreFile.open(path, CREATE, READ, WRITE), P, true, 1)) {
            file.write(0, pages(1, 0));
            file.write(c, pages(1, 0));       // second growth: chunks 0..1
            file.write(2 * c, pages(1, 0));   // third: chunks 1..2
            file.write(3 * c, pages(1, 0));   // fourth: chunks 2..3
            MemorySegment first = pages(c + 2, 4);
            MemorySegment second = pages(c + 2, 5);
            file.write(c - 1, first);         // [c - 1, 2c + 1): chunks 0..2
            assertMappedRun(file, c - 1, first);
            file.write(2 * c - 1, second);    // [2c - 1, 3c + 1): chunks 1..3
            MemorySegment copy = file.run(file.chunks(), 2 * c - 1, c + 2);
            assertFalse(copy.isNative(), "a heap copy once the one mapping allowed exists");
            assertTrue(copy.isReadOnly());
            assertEquals(-1, copy.mismatch(second));
            assertEquals(1, file.bridgeCount());
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
