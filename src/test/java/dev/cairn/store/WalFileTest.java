package dev.cairn.store;

import dev.cairn.CorruptionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The log on its own (storage-format.md §5.2): what scan finds after torn tails, stale
 * generations and flipped bytes is always a prefix of the commits written, and replay gives
 * back exactly their page images.
 */
class WalFileTest {
    static final int PAGE = 4096;
    @TempDir Path dir;

    /** One frame written: page id, txn id, the page's bytes (compared by content). */
    record Frame(long pageId, long txnId, byte[] page) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Frame f && f.pageId == pageId && f.txnId == txnId && Arrays.equals(f.page, page);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(pageId) * 31 + Arrays.hashCode(page);
        }

        @Override
        public String toString() {
            return "Frame[page " + pageId + ", txn " + txnId + "]";
        }
    }

    @Test
    void committedFramesComeBackInOrderAndOnlyAfterTheAskedTxn() throws IOException {
        List<List<Frame>> commits = writeCommits(dir.resolve("wal"), 5, new Random(1));
        try (WalFile wal = open(dir.resolve("wal"))) {
            WalFile.Scan scan = wal.scan();
            assertTrue(scan.headerValid());
            assertEquals(5, scan.commits());
            assertEquals(14, scan.lastCommitTxn());
            assertEquals(flatten(commits), replay(wal, scan, 0));
            assertEquals(flatten(commits.subList(3, 5)), replay(wal, scan, 12), "only txns after 12");
        }
    }

    @Test
    void aTornTailAtEveryByteLosesOnlyTheLastCommit() throws IOException {
        Path path = dir.resolve("wal");
        List<List<Frame>> commits = writeCommits(path, 3, new Random(2));
        byte[] whole = Files.readAllBytes(path);
        long lastStart = whole.length - (long) commits.get(2).size() * (WalFile.FRAME_HEADER_BYTES + PAGE);
        Random rnd = new Random(3);
        for (long cut = lastStart; cut < whole.length; cut += 1 + rnd.nextInt(700)) {
            byte[] torn = whole.clone();
            // Past the cut: zeros (never written) or random bytes (an older generation's garbage).
            if (rnd.nextBoolean()) {
                Arrays.fill(torn, (int) cut, torn.length, (byte) 0);
            } else {
                for (int i = (int) cut; i < torn.length; i++) torn[i] = (byte) rnd.nextInt();
            }
            Files.write(path, torn);
            try (WalFile wal = open(path)) {
                WalFile.Scan scan = wal.scan();
                assertEquals(2, scan.commits(), "cut at " + cut);
                assertEquals(flatten(commits.subList(0, 2)), replay(wal, scan, 0), "cut at " + cut);
            }
        }
    }

    @Test
    void framesOfAnOlderGenerationAreNeverReplayed() throws IOException {
        Path path = dir.resolve("wal");
        writeCommits(path, 4, new Random(4));
        try (WalFile wal = open(path)) {
            wal.scan();
            wal.reset(20, 1 << 20);
            wal.beginCommit(1);
            byte[] page = new byte[PAGE];
            page[100] = 7;
            wal.addPage(9, 22, ByteBuffer.wrap(page));
            wal.finishCommit(1, 22, new byte[PAGE], true);
        }
        try (WalFile wal = open(path)) {
            WalFile.Scan scan = wal.scan();
            assertEquals(1, scan.commits(), "the longer old generation behind the new commit counts for nothing");
            assertEquals(20, scan.baseTxn());
            assertEquals(22, scan.lastCommitTxn());
            List<Frame> frames = replay(wal, scan, 0);
            assertEquals(2, frames.size());
            assertEquals(9, frames.get(0).pageId());
            assertEquals(7, frames.get(0).page()[100]);
        }
    }

    @Test
    void aDamagedHeaderIsRefusedAndAMissingOrNeverWrittenOneIsAnEmptyLog() throws IOException {
        Path path = dir.resolve("wal");
        writeCommits(path, 2, new Random(5));
        byte[] b = Files.readAllBytes(path);
        b[20] ^= 1;
        Files.write(path, b);
        try (WalFile wal = open(path)) {
            CorruptionException e = assertThrows(CorruptionException.class, wal::scan);
            assertTrue(e.getMessage().contains("log header: checksum") && e.getMessage().contains("move wal out"), e.getMessage());
        }
        byte[] zeros = b.clone();
        Arrays.fill(zeros, 0, WalFile.HEADER_BYTES, (byte) 0);
        Files.write(path, zeros);
        try (WalFile wal = open(path)) {
            WalFile.Scan scan = wal.scan();
            assertFalse(scan.headerValid());
            assertFalse(scan.hasCommits());
        }
        try (WalFile wal = open(dir.resolve("new"))) {
            assertFalse(wal.scan().hasCommits());
        }
    }

    @Test
    void aLogOfANewerVersionOrAnotherPageSizeIsRefused() throws IOException {
        Path path = dir.resolve("wal");
        writeCommits(path, 1, new Random(8));
        try (WalFile other = new WalFile(path, FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE), 8192)) {
            CorruptionException e = assertThrows(CorruptionException.class, other::scan);
            assertTrue(e.getMessage().contains("page size 4096"), e.getMessage());
        }
        byte[] b = Files.readAllBytes(path);
        ByteBuffer h = ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        h.putInt(8, WalFile.VERSION + 1);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, 0, WalFile.HEADER_BYTES - 4);
        h.putInt(WalFile.HEADER_BYTES - 4, (int) crc.getValue());
        Files.write(path, b);
        try (WalFile wal = open(path)) {
            dev.cairn.CairnException e = assertThrows(dev.cairn.CairnException.class, wal::scan);
            assertTrue(e.getMessage().contains("log version " + (WalFile.VERSION + 1)), e.getMessage());
        }
    }

    /** Flipped bytes anywhere: scan stops at the damage, so replay gives a prefix of the commits. */
    @Test
    void flippedBytesGiveAPrefixOfTheCommitsNeverOtherData() throws IOException {
        Path path = dir.resolve("wal");
        List<List<Frame>> commits = writeCommits(path, 6, new Random(6));
        byte[] whole = Files.readAllBytes(path);
        Random rnd = new Random(7);
        int shortened = 0;
        for (int trial = 0; trial < 200; trial++) {
            byte[] damaged = whole.clone();
            int flips = 1 + rnd.nextInt(3);
            for (int f = 0; f < flips; f++) damaged[rnd.nextInt(damaged.length)] ^= (byte) (1 + rnd.nextInt(255));
            Files.write(path, damaged);
            try (WalFile wal = open(path)) {
                WalFile.Scan scan = wal.scan();
                int n = scan.commits();
                assertTrue(n <= 6);
                assertEquals(flatten(commits.subList(0, n)), replay(wal, scan, 0), "trial " + trial);
                if (n < 6) shortened++;
            }
        }
        assertTrue(shortened > 150, "only " + shortened + " of 200 damaged logs were cut short");
    }

    // ---------------------------------------------------------------- helpers

    /** Writes a fresh log (base txn 9) with n commits of 1..4 random pages, txn ids 10, 11, ... */
    private static List<List<Frame>> writeCommits(Path path, int n, Random rnd) {
        List<List<Frame>> commits = new ArrayList<>();
        try (WalFile wal = open(path)) {
            wal.scan();
            wal.reset(9, 1 << 20);
            for (int c = 0; c < n; c++) {
                long txn = 10 + c;
                int pages = 1 + rnd.nextInt(4);
                List<Frame> frames = new ArrayList<>();
                wal.beginCommit(pages);
                for (int p = 0; p < pages; p++) {
                    byte[] page = new byte[PAGE];
                    rnd.nextBytes(page);
                    long id = 3 + rnd.nextInt(100);
                    wal.addPage(id, txn, ByteBuffer.wrap(page));
                    frames.add(new Frame(id, txn, page));
                }
                byte[] meta = new byte[PAGE];
                rnd.nextBytes(meta);
                long slot = 1 + rnd.nextInt(2);
                wal.finishCommit(slot, txn, meta, c % 2 == 0);
                frames.add(new Frame(slot, txn, meta));
                commits.add(frames);
            }
        }
        return commits;
    }

    private static WalFile open(Path path) {
        try {
            return new WalFile(path, FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE), PAGE);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<Frame> replay(WalFile wal, WalFile.Scan scan, long afterTxn) {
        List<Frame> frames = new ArrayList<>();
        wal.replay(scan, afterTxn, (pageId, txnId, page) -> {
            byte[] copy = new byte[page.remaining()];
            page.duplicate().get(copy);
            frames.add(new Frame(pageId, txnId, copy));
        });
        return frames;
    }

    private static List<Frame> flatten(List<List<Frame>> commits) {
        List<Frame> all = new ArrayList<>();
        commits.forEach(all::addAll);
        return all;
    }
}
