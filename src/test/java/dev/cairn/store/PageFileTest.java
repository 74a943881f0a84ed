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

/** The data file's one door for writes: pages copied into the mapping, read back everywhere. */
class PageFileTest {
    private static final int P = 4096;
    @TempDir Path dir;

    /** A writable data file at path; closing it closes its channel. */
    private static PageFile writable(Path path) throws Exception {
        return new PageFile(path, FileChannel.open(path, CREATE, READ, WRITE), P, true);
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
        try (FileChannel channel = FileChannel.open(path, READ)) {
            ByteBuffer back = ByteBuffer.allocate(4 * P);
            ChannelIo.readFully(channel, path, back, first * P);
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
    void aWriteIntoAFileCutUnderTheMappingFailsWithAClearError() throws Exception {
        Path path = dir.resolve("data");
        try (PageFile file = writable(path)) {
            file.write(5, pages(1, 1));
            try (FileChannel other = FileChannel.open(path, WRITE)) {
                other.truncate(0); // another process cut the file: its mapped pages are gone
            }
            CairnException e = assertThrows(CairnException.class, () -> file.write(5, pages(1, 2)));
            assertTrue(e.getMessage().contains("page 5") && e.getMessage().contains(path.toString()), e.getMessage());
        }
    }

    @Test
    void writesToAReadOnlyFileAndPartialPagesAreBugs() throws Exception {
        Path path = dir.resolve("data");
        try (PageFile file = writable(path)) {
            assertThrows(AssertionError.class, () -> file.write(3, MemorySegment.ofArray(new byte[P + 1])));
        }
        try (PageFile file = new PageFile(path, FileChannel.open(path, READ), P, false)) {
            assertThrows(AssertionError.class, () -> file.write(3, pages(1, 1)));
        }
    }
}
