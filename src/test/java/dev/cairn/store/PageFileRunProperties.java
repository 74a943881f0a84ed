package dev.cairn.store;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static java.nio.file.StandardOpenOption.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs of pages read back through the mappings ({@link PageFile#run}) against a byte-array model
 * of the file: writes that grow the file by a few pages or several chunks at a time, then runs
 * of random length anywhere, across growths too; before and after a reopen, with room for many
 * or few mappings of their own.
 */
class PageFileRunProperties {
    private static final int P = 4096;
    private static final int CHUNK = PageFile.CHUNK_PAGES;

    @Property(tries = 20)
    void everyRunReadsWhatWasWrittenThere(@ForAll long seed, @ForAll @IntRange(min = 0, max = 3) int maxBridges)
            throws Exception {
        SplittableRandom rnd = new SplittableRandom(seed);
        Path dir = Files.createTempDirectory("runs");
        Path path = dir.resolve("data");
        int filePages = 1 + rnd.nextInt(5 * CHUNK);
        byte[] model = new byte[filePages * P];
        try {
            try (PageFile file = new PageFile(StoreFile.open(path, CREATE, READ, WRITE), P, true, maxBridges)) {
                int end = 0;
                while (end < filePages) { // grow in steps of 1 page to 2 chunks, each step one write
                    int n = Math.min(filePages - end, 1 + rnd.nextInt(rnd.nextBoolean() ? 64 : 2 * CHUNK));
                    write(file, model, end, n, rnd);
                    end += n;
                }
                for (int i = 0; i < 20; i++) { // rewrites anywhere, as reused free pages are
                    int at = rnd.nextInt(filePages);
                    write(file, model, at, 1 + rnd.nextInt(Math.min(filePages - at, 2 * CHUNK)), rnd);
                }
                checkRuns(file, model, filePages, rnd, seed);
                assertTrue(file.bridgeCount() <= maxBridges, file.bridgeCount() + " mappings of its own");
            }
            try (PageFile file = new PageFile(StoreFile.open(path, READ, WRITE), P, true, maxBridges)) {
                file.mapUpTo(filePages);
                checkRuns(file, model, filePages, rnd, seed);
                assertEquals(0, file.bridgeCount(), "after a reopen the file is one mapping");
            }
        } finally {
            Files.deleteIfExists(path);
            Files.delete(dir);
        }
    }

    private static void write(PageFile file, byte[] model, int at, int pages, SplittableRandom rnd) {
        byte[] bytes = new byte[pages * P];
        for (int p = 0; p < pages; p++) bytes[p * P + rnd.nextInt(P)] = (byte) (1 + rnd.nextInt(255));
        for (int p = 0; p < pages; p++) bytes[p * P] = (byte) (at + p); // names its page
        file.write(at, MemorySegment.ofArray(bytes));
        System.arraycopy(bytes, 0, model, at * P, bytes.length);
    }

    private static void checkRuns(PageFile file, byte[] model, int filePages, SplittableRandom rnd, long seed) {
        for (int i = 0; i < 200; i++) {
            int at = rnd.nextInt(filePages);
            int pages = 1 + rnd.nextInt(Math.min(filePages - at, 3 * CHUNK));
            MemorySegment run = file.run(file.chunks(), at, pages);
            assertTrue(run.isReadOnly(), "run of " + pages + " pages at " + at + " is read-only");
            assertEquals((long) pages * P, run.byteSize());
            long mismatch = run.mismatch(MemorySegment.ofArray(model).asSlice((long) at * P, (long) pages * P));
            assertEquals(-1, mismatch, "run of " + pages + " pages at page " + at + " (seed " + seed + "): byte " + mismatch);
        }
    }
}
