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
 * back exactly their ops.
 */
class WalFileTest {
    static final int PAGE = 4096;
    /** The database id of the data file these logs belong to. */
    static final long DATABASE = 0x5eed_ca1e_0000_0001L;
    @TempDir Path dir;

    /** One commit's frame: txn id, op count, the ops' bytes (compared by content). */
    record Frame(long txnId, int opCount, byte[] ops) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Frame f && f.txnId == txnId && f.opCount == opCount && Arrays.equals(f.ops, ops);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(txnId) * 31 + Arrays.hashCode(ops);
        }

        @Override
        public String toString() {
            return "Frame[txn " + txnId + ", " + opCount + " ops, " + ops.length + " bytes]";
        }
    }

    @Test
    void committedFramesComeBackInOrderAndOnlyAfterTheAskedTxn() throws IOException {
        List<Frame> commits = writeCommits(dir.resolve("wal"), 5, new Random(1));
        try (WalFile wal = open(dir.resolve("wal"))) {
            WalFile.Scan scan = wal.scan(0);
            assertTrue(scan.headerValid());
            assertEquals(5, scan.commits());
            assertEquals(14, scan.lastCommitTxn());
            assertEquals(commits, replay(wal, scan, 0));
            assertEquals(commits.subList(3, 5), replay(wal, scan, 12), "only txns after 12");
        }
    }

    @Test
    void framesLargerThanTheReadStepAndManySmallOnesReadBackWhole() throws IOException {
        Path path = dir.resolve("wal");
        List<Frame> commits = new ArrayList<>();
        Random rnd = new Random(11);
        try (WalFile wal = open(path)) {
            wal.scan(0);
            wal.reset(9, 1 << 20);
            int[] sizes = {3_000_000, 10, 700_000, 900_000, 1, 1 << 20, 5};
            for (int c = 0; c < 300; c++) {
                int bytes = c < sizes.length ? sizes[c] : rnd.nextInt(2000);
                commits.add(append(wal, 10 + c, bytes, rnd, c % 3 == 0));
            }
        }
        try (WalFile wal = open(path)) {
            WalFile.Scan scan = wal.scan(0);
            assertEquals(300, scan.commits(), scan.stopReason());
            assertEquals(commits, replay(wal, scan, 0));
        }
    }

    @Test
    void theLogGrowsInStepsOfAtLeastOneMebibyteOfZeros() throws IOException {
        Path path = dir.resolve("wal");
        Random rnd = new Random(12);
        List<Frame> commits = new ArrayList<>();
        try (WalFile wal = open(path)) {
            wal.scan(0);
            wal.reset(9, 1 << 20);
            long length = Files.size(path);
            // Small frames inside the first step, one that crosses its end, one larger than a step.
            for (int bytes : new int[] {100, 5000, (1 << 20) - 500, 2_500_007, 10}) {
                commits.add(append(wal, 10 + commits.size(), bytes, rnd, false));
                long end = framesOnly(path, commits).length;
                byte[] file = Files.readAllBytes(path);
                assertTrue(file.length >= end, "log of " + file.length + " bytes, frames end at " + end);
                assertTrue(file.length == length || file.length >= length + (1 << 20),
                    "the log grew from " + length + " to " + file.length + " bytes");
                for (int i = (int) end; i < file.length; i++) {
                    if (file[i] != 0) fail("byte " + i + " past the last frame (" + end + ") is " + file[i]);
                }
                length = file.length;
            }
        }
        try (WalFile wal = open(path)) {
            assertEquals(commits, replay(wal, wal.scan(0), 0));
        }
    }

    @Test
    void aTornTailAtEveryByteLosesOnlyTheLastCommit() throws IOException {
        Path path = dir.resolve("wal");
        List<Frame> commits = writeCommits(path, 3, new Random(2));
        byte[] whole = framesOnly(path, commits);
        long lastStart = whole.length - (WalFile.FRAME_HEADER_BYTES + commits.get(2).ops().length);
        Random rnd = new Random(3);
        for (long cut = lastStart; cut < whole.length; cut += 1 + rnd.nextInt(70)) {
            byte[] torn = whole.clone();
            // Past the cut: zeros (never written) or random bytes (an older generation's garbage).
            if (rnd.nextBoolean()) {
                Arrays.fill(torn, (int) cut, torn.length, (byte) 0);
            } else {
                for (int i = (int) cut; i < torn.length; i++) torn[i] = (byte) rnd.nextInt();
            }
            Files.write(path, torn);
            try (WalFile wal = open(path)) {
                WalFile.Scan scan = wal.scan(0);
                assertEquals(2, scan.commits(), "cut at " + cut);
                assertEquals(commits.subList(0, 2), replay(wal, scan, 0), "cut at " + cut);
            }
        }
    }

    @Test
    void framesOfAnOlderGenerationAreNeverReplayed() throws IOException {
        Path path = dir.resolve("wal");
        writeCommits(path, 4, new Random(4));
        try (WalFile wal = open(path)) {
            wal.scan(0);
            wal.reset(20, 1 << 20);
            LogOps ops = new LogOps();
            ops.put("t", new byte[] {7}, java.lang.foreign.MemorySegment.ofArray(new byte[] {8}));
            wal.append(22, ops, true);
        }
        try (WalFile wal = open(path)) {
            WalFile.Scan scan = wal.scan(0);
            assertEquals(1, scan.commits(), "the longer old generation behind the new commit counts for nothing");
            assertEquals(20, scan.baseTxn());
            assertEquals(22, scan.lastCommitTxn());
            List<Frame> frames = replay(wal, scan, 0);
            assertEquals(1, frames.size());
            assertEquals(22, frames.get(0).txnId());
            assertEquals(1, frames.get(0).opCount());
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
            CorruptionException e = assertThrows(CorruptionException.class, () -> wal.scan(0));
            assertTrue(e.getMessage().contains("log header: checksum") && e.getMessage().contains("move wal out"), e.getMessage());
        }
        byte[] zeroHeader = b.clone();
        Arrays.fill(zeroHeader, 0, WalFile.HEADER_BYTES, (byte) 0);
        Files.write(path, zeroHeader);
        try (WalFile wal = open(path)) {
            // Frames behind a header of zeros: no crash leaves that (the header is forced before any frame).
            CorruptionException e = assertThrows(LogRefusedException.class, () -> wal.scan(0));
            assertTrue(e.getMessage().contains("is zeros, but a frame follows it") && e.getMessage().contains("move wal out"),
                e.getMessage());
        }
        Files.write(path, new byte[b.length]);
        try (WalFile wal = open(path)) {
            WalFile.Scan scan = wal.scan(0);
            assertFalse(scan.headerValid());
            assertFalse(scan.hasCommits());
        }
        try (WalFile wal = open(dir.resolve("new"))) {
            assertFalse(wal.scan(0).hasCommits());
        }
    }

    @Test
    void aLogOfANewerVersionOrAnotherPageSizeIsRefused() throws IOException {
        Path path = dir.resolve("wal");
        writeCommits(path, 1, new Random(8));
        try (WalFile other = new WalFile(StoreFile.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE), 8192, DATABASE)) {
            CorruptionException e = assertThrows(CorruptionException.class, () -> other.scan(0));
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
            dev.cairn.CairnException e = assertThrows(dev.cairn.CairnException.class, () -> wal.scan(0));
            assertTrue(e.getMessage().contains("log version " + (WalFile.VERSION + 1)), e.getMessage());
        }
    }

    /**
     * Flipped bytes anywhere in the frames: scan either stops at the damage, giving a prefix of
     * the commits, or refuses; never other data. It must refuse when one flip hit a frame that an
     * intact frame written after a force follows, next or later (frames 1, 3 and 5 here: commits
     * 0, 2 and 4 were forced), whichever field the flip hit; and it must read a prefix when the
     * damage is in the last frame.
     */
    @Test
    void flippedBytesGiveAPrefixOfTheCommitsOrARefusalNeverOtherData() throws IOException {
        Path path = dir.resolve("wal");
        List<Frame> commits = writeCommits(path, 6, new Random(6));
        byte[] whole = framesOnly(path, commits);
        long[] starts = frameStarts(commits);
        Random rnd = new Random(7);
        int shortened = 0;
        int refused = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] damaged = whole.clone();
            int flips = trial % 3 == 0 ? 1 + rnd.nextInt(3) : 1;
            int at = 0;
            // Every fourth trial hits the last frame, which a crash may tear.
            int from = (int) (trial % 4 == 3 ? starts[5] : WalFile.HEADER_BYTES);
            for (int f = 0; f < flips; f++) {
                at = from + rnd.nextInt(damaged.length - from);
                damaged[at] ^= (byte) (1 + rnd.nextInt(255));
            }
            int hit = frameAt(starts, at);
            long offsetInFrame = at - starts[hit];
            // One flip in a frame that one written after a force follows (frames 1, 3 and 5 say
            // so): found where the damaged frame says the next starts, or, when its length field
            // was hit, further on.
            boolean mustRefuse = flips == 1 && hit < 5;
            Files.write(path, damaged);
            try (WalFile wal = open(path)) {
                WalFile.Scan scan;
                try {
                    scan = wal.scan(0);
                } catch (CorruptionException e) {
                    refused++;
                    if (flips == 1) {
                        assertTrue(mustRefuse, "trial " + trial + ": byte " + at + " of frame " + hit + ": " + e.getMessage());
                        assertTrue(e.getMessage().contains("damaged at byte " + starts[hit] + " ")
                            && e.getMessage().contains("truncate -s " + starts[hit] + " "), "trial " + trial + ": " + e.getMessage());
                    }
                    continue;
                }
                int n = scan.commits();
                assertFalse(mustRefuse, "trial " + trial + ": byte " + at + " of frame " + hit + " damaged, scan read "
                    + n + " commits (" + scan.stopReason() + ")");
                assertTrue(n <= 6);
                assertEquals(commits.subList(0, n), replay(wal, scan, 0), "trial " + trial);
                if (flips == 1) assertEquals(hit, n, "trial " + trial + ": byte " + at + " of frame " + hit + " damaged");
                if (n < 6) shortened++;
            }
        }
        assertTrue(shortened > 60 && refused > 150, shortened + " of 300 damaged logs were cut short, " + refused + " refused");
    }

    /**
     * Every byte of a frame's header, and its ops, damaged in turn in the first of two frames
     * where the second was written after a force: refused. A hit CRC field is found through the
     * CRC the frame's bytes give; a hit length field, which hides where the next frame starts,
     * by searching the rest of the log for a frame header that can follow.
     */
    @Test
    void damageToAnyFieldButTheLengthOfAFrameBeforeAForcedOneIsRefused() throws IOException {
        Path path = dir.resolve("wal");
        List<Frame> commits = writeCommits(path, 2, new Random(13));
        byte[] whole = framesOnly(path, commits);
        int frame = WalFile.HEADER_BYTES;
        for (int offset = 0; offset <= WalFile.FRAME_HEADER_BYTES; offset++) {
            byte[] damaged = whole.clone();
            damaged[frame + offset] ^= 0x04;
            Files.write(path, damaged);
            try (WalFile wal = open(path)) {
                CorruptionException e = assertThrows(CorruptionException.class, () -> wal.scan(0), "byte " + offset + " of the frame");
                assertTrue(e.getMessage().contains("1 intact commit (txn 11, from byte "), e.getMessage());
            }
        }
    }

    /**
     * A stored value whose bytes look like a frame header of the log's next generation (probe 84
     * made one) stays in the log's file after a checkpoint, beyond the new generation's frames.
     * After a crash the search for frames past the end finds it; its "frame" parses as no ops and
     * no frame chains to it, so it is not taken for one: the log opens with its commits.
     */
    @Test
    void bytesOfAValueThatLookLikeAFrameHeaderAreNoFrame() throws IOException {
        Path path = dir.resolve("wal");
        long generation;
        try (WalFile wal = open(path)) {
            wal.scan(0);
            wal.reset(9, 1 << 20);
            generation = ByteBuffer.wrap(Files.readAllBytes(path)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(16);
            ByteBuffer fake = ByteBuffer.allocate(4096).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            // Past where the next generation's first frame ends, with a txn id that can follow it.
            fake.putLong(2048, 13).putLong(2056, generation + 1).putInt(2064, 64).putInt(2068, 1).putInt(2072, 3)
                .putInt(2076, 0x1234);
            for (int i = 2080; i < 2144; i++) fake.put(i, (byte) 0xFF); // its "ops": no op kind is 0xFF
            LogOps ops = new LogOps();
            ops.put("t", new byte[] {1}, java.lang.foreign.MemorySegment.ofArray(fake.array()));
            wal.append(10, ops, true);
            wal.reset(10, 1 << 20); // a checkpoint: the next generation starts over from byte 64
            append(wal, 11, 40, new Random(1), true);
        }
        try (WalFile wal = open(path)) {
            WalFile.Scan scan = wal.scan(0);
            assertEquals(1, scan.commits(), scan.stopReason());
        }
    }

    /**
     * A log names its data file's database id: another database's log is refused (never
     * replayed onto this one) without being changed; a version 2 log has no id and is read.
     */
    @Test
    void aLogOfAnotherDatabaseIsRefused() throws IOException {
        Path path = dir.resolve("wal");
        List<Frame> commits = writeCommits(path, 3, new Random(14));
        byte[] log = Files.readAllBytes(path);
        assertEquals(DATABASE, ByteBuffer.wrap(log).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(WalFile.DATABASE_ID_OFFSET));
        try (WalFile wal = open(path, DATABASE + 1)) {
            CorruptionException e = assertThrows(CorruptionException.class, () -> wal.scan(0));
            assertTrue(e.getMessage().contains("belongs to another database") && e.getMessage().contains("0x5eedca1e00000001")
                && e.getMessage().contains("move wal out"), e.getMessage());
        }
        assertArrayEquals(log, Files.readAllBytes(path), "refusing changed the log");
        Files.write(path, asVersion2(framesOnly(path, commits)));
        try (WalFile wal = open(path, DATABASE + 1)) {
            assertEquals(3, wal.scan(0).commits(), "a version 2 log names no database");
        }
    }

    /** Frames appended without a force after them carry no AFTER_FORCE flag; a forced one's successor does. */
    @Test
    void onlyAFrameWrittenAfterAForceSaysSo() throws IOException {
        Path path = dir.resolve("wal");
        List<Frame> commits = writeCommits(path, 6, new Random(9));
        byte[] log = Files.readAllBytes(path);
        long[] starts = frameStarts(commits);
        ByteBuffer b = ByteBuffer.wrap(log).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            // The header was forced before frame 0; commits 0, 2, 4 were forced.
            boolean afterForce = i == 0 || i % 2 == 1;
            int expected = afterForce ? WalFile.FLAG_COMMIT | WalFile.FLAG_AFTER_FORCE : WalFile.FLAG_COMMIT;
            assertEquals(expected, b.getInt((int) starts[i] + 24), "flags of frame " + i);
        }
        try (WalFile wal = open(path)) {
            wal.scan(0);
            LogOps ops = new LogOps();
            ops.put("t", new byte[] {1}, java.lang.foreign.MemorySegment.ofArray(new byte[] {2}));
            wal.append(20, ops, true);
            wal.append(21, ops, false);
        }
        b = ByteBuffer.wrap(Files.readAllBytes(path)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int end = (int) (starts[5] + WalFile.FRAME_HEADER_BYTES + commits.get(5).ops().length);
        assertEquals(WalFile.FLAG_COMMIT, b.getInt(end + 24), "the first frame after open: the log was not forced since");
        int next = end + WalFile.FRAME_HEADER_BYTES + b.getInt(end + 16);
        assertEquals(WalFile.FLAG_COMMIT | WalFile.FLAG_AFTER_FORCE, b.getInt(next + 24), "after a forced commit");
    }

    /** A version 2 log (no AFTER_FORCE flags) is still read, damage in it as the log's end. */
    @Test
    void aVersion2LogIsReadAndDamageInItEndsIt() throws IOException {
        Path path = dir.resolve("wal");
        List<Frame> commits = writeCommits(path, 4, new Random(10));
        byte[] v2 = asVersion2(framesOnly(path, commits));
        Files.write(path, v2);
        try (WalFile wal = open(path)) {
            WalFile.Scan scan = wal.scan(0);
            assertEquals(2, scan.version());
            assertEquals(4, scan.commits(), scan.stopReason());
            assertEquals(commits, replay(wal, scan, 0));
        }
        long[] starts = frameStarts(commits);
        v2[(int) starts[1] + WalFile.FRAME_HEADER_BYTES + 3] ^= 0x10;
        Files.write(path, v2);
        try (WalFile wal = open(path)) {
            WalFile.Scan scan = wal.scan(0);
            assertEquals(1, scan.commits(), "version 2 frames do not say they followed a force: " + scan.stopReason());
            assertEquals(commits.subList(0, 1), replay(wal, scan, 0));
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Writes a fresh log (base txn 9) with n commits of 1..4 random puts, txn ids 10, 11, ... */
    private static List<Frame> writeCommits(Path path, int n, Random rnd) {
        List<Frame> commits = new ArrayList<>();
        try (WalFile wal = open(path)) {
            wal.scan(0);
            wal.reset(9, 1 << 20);
            for (int c = 0; c < n; c++) commits.add(append(wal, 10 + c, 50 + rnd.nextInt(5000), rnd, c % 2 == 0));
        }
        return commits;
    }

    /** Appends a commit of puts into tree "t" with about {@code bytes} of values. */
    private static Frame append(WalFile wal, long txn, int bytes, Random rnd, boolean force) {
        LogOps ops = new LogOps();
        int puts = 1 + rnd.nextInt(4);
        for (int p = 0; p < puts; p++) {
            byte[] key = new byte[1 + rnd.nextInt(20)];
            byte[] value = new byte[bytes / puts];
            rnd.nextBytes(key);
            rnd.nextBytes(value);
            ops.put("t", key, java.lang.foreign.MemorySegment.ofArray(value));
        }
        wal.append(txn, ops, force);
        return new Frame(txn, ops.count(), Arrays.copyOf(ops.bytes(), ops.size()));
    }

    /** The log's bytes up to its last frame, without the zeros it was extended with. */
    private static byte[] framesOnly(Path path, List<Frame> commits) throws IOException {
        long end = WalFile.HEADER_BYTES;
        for (Frame f : commits) end += WalFile.FRAME_HEADER_BYTES + f.ops().length;
        return Arrays.copyOf(Files.readAllBytes(path), (int) end);
    }

    /** Where each frame starts. */
    private static long[] frameStarts(List<Frame> commits) {
        long[] starts = new long[commits.size()];
        long at = WalFile.HEADER_BYTES;
        for (int i = 0; i < starts.length; i++) {
            starts[i] = at;
            at += WalFile.FRAME_HEADER_BYTES + commits.get(i).ops().length;
        }
        return starts;
    }

    /** The frame holding byte {@code at}. */
    private static int frameAt(long[] starts, long at) {
        int i = 0;
        while (i + 1 < starts.length && starts[i + 1] <= at) i++;
        return i;
    }

    /**
     * The same frames as a version 2 log writes them (storage-format.md §5.2): header version 2
     * without a database id, every frame's flags 1, and the CRCs computed again ({@link #rechained}).
     * {@code log} holds the header and whole frames only.
     */
    static byte[] asVersion2(byte[] log) {
        byte[] v2 = log.clone();
        ByteBuffer b = ByteBuffer.wrap(v2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(8, 2);
        Arrays.fill(v2, WalFile.DATABASE_ID_OFFSET, WalFile.HEADER_BYTES - 4, (byte) 0); // version 2 had no id
        for (int at = WalFile.HEADER_BYTES; at < v2.length; at += WalFile.FRAME_HEADER_BYTES + b.getInt(at + 16)) {
            b.putInt(at + 24, WalFile.FLAG_COMMIT);
        }
        return rechained(v2);
    }

    /** The log with its header's base txn id set to {@code base}, checksums and chain made to match. */
    static byte[] withBase(byte[] log, long base) {
        byte[] changed = log.clone();
        ByteBuffer.wrap(changed).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(24, base);
        return rechained(changed);
    }

    /**
     * Computes the header's CRC and every frame's chained CRC again, as §5.2 defines them (a
     * second writer, independent of WalFile); {@code log} holds the header and whole frames only.
     */
    private static byte[] rechained(byte[] v2) {
        ByteBuffer b = ByteBuffer.wrap(v2).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(v2, 0, WalFile.HEADER_BYTES - 4);
        int chain = (int) crc.getValue();
        b.putInt(WalFile.HEADER_BYTES - 4, chain);
        for (int at = WalFile.HEADER_BYTES; at < v2.length; ) {
            int opsBytes = b.getInt(at + 16);
            crc.reset();
            crc.update(ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0, chain));
            crc.update(v2, at, WalFile.FRAME_HEADER_BYTES - 4);
            crc.update(v2, at + WalFile.FRAME_HEADER_BYTES, opsBytes);
            chain = (int) crc.getValue();
            b.putInt(at + WalFile.FRAME_HEADER_BYTES - 4, chain);
            at += WalFile.FRAME_HEADER_BYTES + opsBytes;
        }
        return v2;
    }

    private static WalFile open(Path path) {
        return open(path, DATABASE);
    }

    private static WalFile open(Path path, long databaseId) {
        try {
            return new WalFile(StoreFile.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE), PAGE, databaseId);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<Frame> replay(WalFile wal, WalFile.Scan scan, long afterTxn) {
        List<Frame> frames = new ArrayList<>();
        wal.replay(scan, afterTxn, (txnId, opCount, ops) -> {
            byte[] copy = new byte[ops.remaining()];
            ops.duplicate().get(copy);
            frames.add(new Frame(txnId, opCount, copy));
        });
        return frames;
    }
}
