package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The data file and its log after commits that freed and reused pages since the last
 * checkpoint (storage-format.md §5, §6): the data file alone opens as the last checkpoint; with
 * the log it opens as the last commit; with a log damaged where a crash could not have torn it,
 * not at all (saying where to cut the log); else as the last commit before the damage.
 */
class WalRecoveryTest {
    @TempDir Path dir;

    /** The state after each commit; index 0 is the checkpoint the commits follow. */
    private final List<TreeMap<String, String>> states = new ArrayList<>();
    /** Where the crash image's log frames end. */
    private long logEnd;

    /** Commits 40 transactions after a checkpoint, copying the folder (a crash image) after the last. */
    private Path crashImage(Random rnd) throws Exception {
        Path source = dir.resolve("source");
        TreeMap<String, String> model = new TreeMap<>();
        try (Store store = Store.open(source)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                for (int i = 0; i < 600; i++) {
                    String v = "v0-" + "x".repeat(rnd.nextInt(120));
                    w.put("t", b("k" + i), b(v));
                    model.put("k" + i, v);
                }
                w.commit();
            }
        }
        states.add(new TreeMap<>(model));
        Path image = dir.resolve("image");
        try (Store store = Store.open(source)) {
            for (int c = 1; c <= 40; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    for (int i = 0; i < 30; i++) {
                        String k = "k" + rnd.nextInt(600);
                        if (rnd.nextInt(5) == 0) {
                            w.delete("t", b(k));
                            model.remove(k);
                        } else {
                            String v = "v" + c + "-" + "y".repeat(rnd.nextInt(rnd.nextInt(30) == 0 ? 6000 : 120));
                            w.put("t", b(k), b(v));
                            model.put(k, v);
                        }
                    }
                    w.commit();
                }
                states.add(new TreeMap<>(model));
            }
            assertTrue(store.wal.frameBytes() > 0, "the commits are still in the log");
            logEnd = WalFile.HEADER_BYTES + store.wal.frameBytes();
            Files.createDirectories(image);
            Files.copy(source.resolve(Store.DATA_FILE), image.resolve(Store.DATA_FILE));
            Files.copy(source.resolve(Store.WAL_FILE), image.resolve(Store.WAL_FILE));
        }
        return image;
    }

    @Test
    void theDataFileAloneOpensAsTheLastCheckpointAndWithItsLogAsTheLastCommit() throws Exception {
        Path image = crashImage(new Random(1));
        Path withLog = dir.resolve("with-log");
        Path alone = dir.resolve("alone");
        copy(image, withLog, true);
        copy(image, alone, false);
        try (Store store = Store.open(withLog); ReadTxn r = store.beginRead()) {
            assertTrue(store.verify().ok(), store.verify().problems().toString());
            assertEquals(states.getLast(), TornWriteTest.contents(r));
        }
        try (Store store = Store.open(alone); ReadTxn r = store.beginRead()) {
            assertTrue(store.verify().ok(), "pages the checkpoint reaches were reused before the next checkpoint: "
                + store.verify().problems());
            assertEquals(states.getFirst(), TornWriteTest.contents(r));
        }
    }

    /**
     * One byte flipped in a durable log: a crash tears only the last frame, and every frame
     * after the first of a session was written after the one before it was forced. So damage in
     * the last frame (or in a frame's length field, which hides where the next frame starts)
     * opens as the commit before it; damage anywhere else is refused, changing no file, and
     * cutting the log where the message says opens the commit before the damaged frame.
     */
    @Test
    void aDamagedLogIsRefusedUnlessTheDamageCouldBeATornWrite() throws Exception {
        Path image = crashImage(new Random(2));
        byte[] log = Files.readAllBytes(image.resolve(Store.WAL_FILE));
        List<Long> starts = frameStarts(log, logEnd);
        assertEquals(40, starts.size());
        Random rnd = new Random(3);
        int refused = 0;
        int opened = 0;
        for (int trial = 0; trial < 40; trial++) {
            Path copy = dir.resolve("trial" + trial);
            copy(image, copy, false);
            byte[] damaged = log.clone();
            // Every tenth trial hits the last frame, which a crash may tear.
            long from = trial % 10 == 9 ? starts.getLast() : WalFile.HEADER_BYTES;
            int at = (int) (from + rnd.nextInt((int) (logEnd - from)));
            damaged[at] ^= (byte) (1 + rnd.nextInt(255));
            Files.write(copy.resolve(Store.WAL_FILE), damaged);
            int frame = 0;
            while (frame + 1 < starts.size() && starts.get(frame + 1) <= at) frame++;
            long inFrame = at - starts.get(frame);
            boolean mustRefuse = frame < starts.size() - 1 && (inFrame < 16 || inFrame >= 20);
            String what = "trial " + trial + ": byte " + at + " (" + inFrame + " into frame " + frame + ")";
            byte[] dataBefore = Files.readAllBytes(copy.resolve(Store.DATA_FILE));
            try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
                assertFalse(mustRefuse, what + ": opened as txn " + r.txnId());
                assertTrue(store.verify().ok(), what + ": " + store.verify().problems());
                assertEquals(states.get(frame), TornWriteTest.contents(r), what + ": not the commit before the damage");
                opened++;
                continue;
            } catch (LogRefusedException e) {
                assertTrue(mustRefuse, what + ": " + e.getMessage());
                long cut = starts.get(frame);
                assertTrue(e.getMessage().contains("damaged at byte " + cut + " ") && e.getMessage().contains("truncate -s " + cut + " "),
                    what + ": " + e.getMessage());
                assertEquals(cut, e.keepBytes(), what);
                refused++;
            }
            assertArrayEquals(dataBefore, Files.readAllBytes(copy.resolve(Store.DATA_FILE)), what + ": refusing changed the data file");
            assertArrayEquals(damaged, Files.readAllBytes(copy.resolve(Store.WAL_FILE)), what + ": refusing changed the log");
            if (trial % 4 == 0) {
                // What the message says to do by hand: cut the log where the damaged frame starts.
                try (var channel = java.nio.channels.FileChannel.open(copy.resolve(Store.WAL_FILE), java.nio.file.StandardOpenOption.WRITE)) {
                    channel.truncate(starts.get(frame));
                }
                try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
                    assertEquals(states.get(frame), TornWriteTest.contents(r), what + ": after cutting the log");
                    assertTrue(store.verify().ok(), what);
                }
            } else if (trial % 4 == 1) {
                assertSalvageOpens(copy, states.get(frame), 1);
            }
        }
        assertTrue(refused > 20 && opened >= 4, refused + " of 40 damaged logs refused, " + opened + " opened");
    }

    /**
     * A zeroed block (what a disk's damage most often looks like) hits a frame's length field as
     * well, so the frame after it is not where the field says: the log is searched further, and
     * a log with a whole frame header after the block is refused (probe 78: 4 KiB of zeros in the
     * middle of a log dropped 267 of 500 commits, and verify said OK); a block that reaches the
     * last frame's header opens as the commit before it, as a torn write would.
     */
    @Test
    void aZeroedBlockIsRefusedWhenAWholeFrameFollowsIt() throws Exception {
        Path image = crashImage(new Random(12));
        byte[] log = Files.readAllBytes(image.resolve(Store.WAL_FILE));
        List<Long> starts = frameStarts(log, logEnd);
        Random rnd = new Random(13);
        int refused = 0;
        int opened = 0;
        for (int trial = 0; trial < 30; trial++) {
            Path copy = dir.resolve("zeroed" + trial);
            copy(image, copy, false);
            int len = switch (trial % 3) {
                case 0 -> 4096;
                case 1 -> 512;
                default -> 33 + rnd.nextInt(8000);
            };
            // Every fifth block starts in one of the last two frames.
            long from = trial % 5 == 4 ? starts.get(starts.size() - 2) : WalFile.HEADER_BYTES;
            int at = (int) (from + rnd.nextInt((int) (logEnd - from)));
            byte[] damaged = log.clone();
            java.util.Arrays.fill(damaged, at, Math.min(damaged.length, at + len), (byte) 0);
            Files.write(copy.resolve(Store.WAL_FILE), damaged);
            int frame = 0;
            while (frame + 1 < starts.size() && starts.get(frame + 1) <= at) frame++;
            boolean mustRefuse = false;
            for (int g = frame + 1; g < starts.size(); g++) mustRefuse |= starts.get(g) >= at + len;
            String what = "trial " + trial + ": " + len + " zeros at byte " + at + " (frame " + frame + " of " + starts.size() + ")";
            try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
                assertFalse(mustRefuse, what + ": opened as txn " + r.txnId());
                assertEquals(states.get(frame), TornWriteTest.contents(r), what + ": not the commit before the damage");
                opened++;
                continue;
            } catch (LogRefusedException e) {
                assertTrue(mustRefuse, what + ": " + e.getMessage());
                long cut = starts.get(frame);
                assertTrue(e.getMessage().contains("damaged at byte " + cut + " ") && e.getMessage().contains("intact commit"),
                    what + ": " + e.getMessage());
                assertEquals(cut, e.keepBytes(), what);
                refused++;
            }
            assertArrayEquals(damaged, Files.readAllBytes(copy.resolve(Store.WAL_FILE)), what + ": refusing changed the log");
            if (trial % 3 == 0) assertSalvageOpens(copy, states.get(frame), 1);
        }
        assertTrue(refused >= 20 && opened >= 3, refused + " of 30 zeroed logs refused, " + opened + " opened");
    }

    /**
     * Another database's log beside this data file (both made by the same program, same tree
     * names, txn ids that would replay) is refused, changing nothing; without it the database
     * opens at its checkpoint.
     */
    @Test
    void aLogOfAnotherDatabaseIsNotReplayed() throws Exception {
        Path image = crashImage(new Random(7));
        Path other = dir.resolve("other");
        try (Store store = Store.open(other)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("k1"), b("from another database"));
                w.commit();
            }
            for (int c = 0; c < 60; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    w.put("t", b("k" + c), b("other-" + c));
                    w.commit();
                }
            }
            Path mixed = dir.resolve("mixed");
            copy(image, mixed, false);
            Files.copy(other.resolve(Store.WAL_FILE), mixed.resolve(Store.WAL_FILE));
            assertRefused(mixed, "belongs to another database");
            assertSalvageOpens(copyOf(mixed, "mixed-salvaged"), states.getFirst(), 1);
            Files.delete(mixed.resolve(Store.WAL_FILE));
            try (Store alone = Store.open(mixed); ReadTxn r = alone.beginRead()) {
                assertEquals(states.getFirst(), TornWriteTest.contents(r));
            }
        }
    }

    /**
     * The newest meta damaged after a clean close (the log holds no frames, its header names
     * that checkpoint): a crash cannot leave a log newer than the data file's newest meta, so
     * open refuses instead of opening the older checkpoint (which dropped half the records).
     * Without the log, the database opens at the older checkpoint, as the message says.
     */
    @Test
    void aDamagedNewestMetaIsRefusedEvenWhenTheLogIsEmpty() throws Exception {
        Path folder = dir.resolve("meta");
        List<TreeMap<String, String>> checkpoints = new ArrayList<>();
        TreeMap<String, String> model = new TreeMap<>();
        Random rnd = new Random(8);
        for (int session = 0; session < 2; session++) {
            try (Store store = Store.open(folder)) {
                for (int c = 0; c < 5; c++) {
                    try (WriteTxn w = store.beginWrite()) {
                        w.createTree("t");
                        TornWriteTest.change(w, rnd, model, "s" + session + "-");
                        w.commit();
                    }
                }
            }
            checkpoints.add(new TreeMap<>(model));
        }
        long damagedTxn = damageNewestMeta(folder.resolve(Store.DATA_FILE));
        assertRefused(folder, "the log follows the checkpoint of txn " + damagedTxn, "the newer meta page", "move wal.cairn out");
        assertSalvageOpens(copyOf(folder, "meta-salvaged"), checkpoints.getFirst(), 1);
        Files.move(folder.resolve(Store.WAL_FILE), dir.resolve("moved.wal"));
        try (Store store = Store.open(folder); ReadTxn r = store.beginRead()) {
            assertEquals(checkpoints.getFirst(), TornWriteTest.contents(r));
        }
    }

    /**
     * A direct commit (a value past the log limit), then logged commits: the first logged one
     * starts a log generation that follows the direct commit, so when the direct commit's meta
     * is later damaged, open refuses instead of replaying the later commits onto the checkpoint
     * before it (which silently lost the large value).
     */
    @Test
    void commitsLoggedAfterADirectCommitAreNeverReplayedWithoutIt() throws Exception {
        Path source = dir.resolve("direct");
        Path image = dir.resolve("direct-image");
        byte[] big = new byte[2 << 20];
        new Random(9).nextBytes(big);
        long directTxn;
        long checkpointBefore;
        long logEnd;
        try (Store store = Store.open(source)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("small"), b("s"));
                w.commit();
            }
        }
        try (Store store = Store.open(source)) {
            checkpointBefore = store.currentSnapshot().txnId();
            try (WriteTxn w = store.beginWrite()) {
                directTxn = w.txnId();
                w.put("t", b("big"), big);
                w.commit();
            }
            assertEquals(0, store.wal.frameBytes(), "the large commit went to the data file");
            for (int c = 0; c < 3; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    w.put("t", b("after" + c), b("a"));
                    w.commit();
                }
            }
            assertEquals(directTxn, store.wal.baseTxn(), "the logged commits follow the direct commit");
            logEnd = WalFile.HEADER_BYTES + store.wal.frameBytes();
            copy(source, image, true);
        }
        try (Store store = Store.open(copyOf(image, "intact")); ReadTxn r = store.beginRead()) {
            assertArrayEquals(big, r.get("t", b("big")).toArray(PageLayout.U8));
            assertEquals("a", StoreTest.s(r.get("t", b("after2"))));
        }
        Path damaged = copyOf(image, "damaged");
        assertEquals(directTxn, damageNewestMeta(damaged.resolve(Store.DATA_FILE)));
        assertRefused(damaged, "the log follows the checkpoint of txn " + directTxn);
        // The same frames under a header naming the checkpoint before the direct commit (as a
        // writer that did not start the log over would leave them): not replayed onto either meta.
        Path olderBase = copyOf(image, "older-base");
        byte[] log = java.util.Arrays.copyOf(Files.readAllBytes(image.resolve(Store.WAL_FILE)), (int) logEnd);
        Files.write(olderBase.resolve(Store.WAL_FILE), WalFileTest.withBase(log, checkpointBefore));
        assertRefused(olderBase, "follow the checkpoint of txn " + checkpointBefore + ", not the data file's newest good meta,"
            + " txn " + directTxn);
        TreeMap<String, String> atDirectCommit = new TreeMap<>(java.util.Map.of("small", "s", "big", StoreTest.s(java.lang.foreign.MemorySegment.ofArray(big))));
        assertSalvageOpens(copyOf(olderBase, "older-base-salvaged"), atDirectCommit, 1);
        // The same with the second frame's body damaged as well: salvage cuts the log there, then
        // the first frame is refused for its base as above, and the log is emptied.
        Path twoRefusals = copyOf(olderBase, "two-refusals");
        byte[] damagedLog = Files.readAllBytes(twoRefusals.resolve(Store.WAL_FILE));
        List<Long> starts = frameStarts(damagedLog, logEnd);
        assertEquals(3, starts.size());
        damagedLog[(int) (starts.get(1) + WalFile.FRAME_HEADER_BYTES + 2)] ^= 0x10;
        Files.write(twoRefusals.resolve(Store.WAL_FILE), damagedLog);
        assertEquals(starts.get(1), assertRefused(twoRefusals, "damaged at byte " + starts.get(1)).keepBytes());
        assertSalvageOpens(twoRefusals, atDirectCommit, 2);
    }

    /** A data file put back from an older copy beside its newer log (no frames) is refused, not opened as it was. */
    @Test
    void anOlderDataFileBesideANewerLogIsRefused() throws Exception {
        Path folder = dir.resolve("restored");
        Path old = dir.resolve("old-data");
        try (Store store = Store.open(folder)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("k"), b("first"));
                w.commit();
            }
        }
        Files.copy(folder.resolve(Store.DATA_FILE), old);
        try (Store store = Store.open(folder)) {
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("k"), b("second"));
                w.commit();
            }
        }
        Files.copy(old, folder.resolve(Store.DATA_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertRefused(folder, "the data file is older than its log");
        assertSalvageOpens(folder, new TreeMap<>(java.util.Map.of("k", "first")), 1);
    }

    /**
     * A salvage that crashed while copying the log left a partial {@code wal.cairn.refused-1}
     * and the log untouched (the log is cut only after the copy is forced): the next salvage
     * copies to {@code refused-2} and leaves the partial copy as it was.
     */
    @Test
    void aSalvageAfterOneThatCrashedWhileCopyingKeepsBothCopies() throws Exception {
        Path image = crashImage(new Random(12));
        Path folder = copyOf(image, "crashed-salvage");
        byte[] log = Files.readAllBytes(folder.resolve(Store.WAL_FILE));
        log[30] ^= 0x40; // the header: refused, keep nothing
        Files.write(folder.resolve(Store.WAL_FILE), log);
        byte[] partial = java.util.Arrays.copyOf(log, 1000);
        Files.write(folder.resolve(Store.WAL_FILE + ".refused-1"), partial);
        Store.Salvaged salvaged = Store.salvage(folder, StoreOptions.defaults());
        try (Store store = salvaged.store(); ReadTxn r = store.beginRead()) {
            assertEquals(folder.resolve(Store.WAL_FILE + ".refused-2"), salvaged.keptLog());
            assertArrayEquals(log, Files.readAllBytes(salvaged.keptLog()));
            assertArrayEquals(partial, Files.readAllBytes(folder.resolve(Store.WAL_FILE + ".refused-1")));
            assertEquals(states.getFirst(), TornWriteTest.contents(r));
        }
    }

    /** Damage outside the log (here a data file cut short) is not salvaged: refused as by open, nothing changed or copied. */
    @Test
    void salvageLeavesDamageOutsideTheLogAlone() throws Exception {
        Path image = crashImage(new Random(11));
        Path folder = copyOf(image, "cut-short");
        Path data = folder.resolve(Store.DATA_FILE);
        try (var channel = java.nio.channels.FileChannel.open(data, java.nio.file.StandardOpenOption.WRITE)) {
            channel.truncate(4L * StoreOptions.defaults().pageBytes());
        }
        byte[] dataBefore = Files.readAllBytes(data);
        byte[] logBefore = Files.readAllBytes(folder.resolve(Store.WAL_FILE));
        dev.cairn.CorruptionException e = assertThrows(dev.cairn.CorruptionException.class,
            () -> Store.salvage(folder, StoreOptions.defaults()));
        assertFalse(e instanceof LogRefusedException, e.getMessage());
        assertTrue(e.getMessage().contains("cut short"), e.getMessage());
        assertArrayEquals(dataBefore, Files.readAllBytes(data));
        assertArrayEquals(logBefore, Files.readAllBytes(folder.resolve(Store.WAL_FILE)));
        assertFalse(Files.exists(folder.resolve(Store.WAL_FILE + ".refused-1")));
    }

    /** Open refuses with a LogRefusedException whose message holds every part, and leaves both files as they were. */
    private static LogRefusedException assertRefused(Path folder, String... parts) throws Exception {
        byte[] data = Files.readAllBytes(folder.resolve(Store.DATA_FILE));
        byte[] log = Files.readAllBytes(folder.resolve(Store.WAL_FILE));
        LogRefusedException e = assertThrows(LogRefusedException.class, () -> Store.open(folder));
        for (String part : parts) assertTrue(e.getMessage().contains(part), "expected \"" + part + "\" in: " + e.getMessage());
        assertTrue(e.getMessage().contains("salvage " + folder.toAbsolutePath()), e.getMessage());
        assertArrayEquals(data, Files.readAllBytes(folder.resolve(Store.DATA_FILE)), "refusing changed the data file");
        assertArrayEquals(log, Files.readAllBytes(folder.resolve(Store.WAL_FILE)), "refusing changed the log");
        return e;
    }

    /**
     * {@link Store#salvage} of a folder whose log refuses the open: gets past {@code refusals}
     * refusals, keeps the whole log as it was, opens with {@code expected} and verifies; then
     * the folder opens plainly with the same contents.
     */
    private static void assertSalvageOpens(Path folder, TreeMap<String, String> expected, int refusals) throws Exception {
        byte[] log = Files.readAllBytes(folder.resolve(Store.WAL_FILE));
        Store.Salvaged salvaged = Store.salvage(folder, StoreOptions.defaults());
        try (Store store = salvaged.store(); ReadTxn r = store.beginRead()) {
            assertEquals(refusals, salvaged.refusals().size(), salvaged.refusals().toString());
            assertEquals(folder.resolve(Store.WAL_FILE + ".refused-1"), salvaged.keptLog());
            assertArrayEquals(log, Files.readAllBytes(salvaged.keptLog()), "the kept log is the log as it was");
            assertEquals(expected, TornWriteTest.contents(r), "after salvage");
            assertTrue(store.verify().ok(), store.verify().problems().toString());
        }
        try (Store store = Store.open(folder); ReadTxn r = store.beginRead()) {
            assertEquals(expected, TornWriteTest.contents(r), "reopened after salvage");
        }
        Store.Salvaged again = Store.salvage(folder, StoreOptions.defaults());
        again.store().close();
        assertEquals(List.of(), again.refusals());
        assertNull(again.keptLog(), "a salvage of a folder that opens changes nothing");
    }

    /** Flips a byte inside the body of the meta page with the highest txn id; returns that txn id. */
    private static long damageNewestMeta(Path data) throws Exception {
        byte[] file = Files.readAllBytes(data);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int page = StoreOptions.defaults().pageBytes();
        int slot = b.getLong(page + 16) > b.getLong(2 * page + 16) ? 1 : 2;
        long txn = b.getLong(slot * page + 16);
        file[slot * page + 50] ^= 0x01;
        Files.write(data, file);
        return txn;
    }

    private Path copyOf(Path image, String name) throws Exception {
        Path target = dir.resolve(name);
        copy(image, target, true);
        return target;
    }

    /** A log written by version 2 of the format (no AFTER_FORCE flags) is replayed, and later frames go under a new header. */
    @Test
    void aVersion2LogIsReplayedAndStartedOverAsVersion3() throws Exception {
        Path image = crashImage(new Random(6));
        byte[] v2 = WalFileTest.asVersion2(java.util.Arrays.copyOf(Files.readAllBytes(image.resolve(Store.WAL_FILE)), (int) logEnd));
        Path copy = dir.resolve("v2");
        copy(image, copy, false);
        Files.write(copy.resolve(Store.WAL_FILE), v2);
        try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
            assertEquals(states.getLast(), TornWriteTest.contents(r));
            assertEquals(WalFile.VERSION, logVersion(copy));
        }
        // A version 2 log of a clean close (a header, no frames): open writes a new header before any frame.
        Path clean = dir.resolve("clean-v2");
        copy(image, clean, true);
        try (Store store = Store.open(clean)) {
            assertEquals(WalFile.VERSION, logVersion(clean));
        }
        byte[] header = java.util.Arrays.copyOf(Files.readAllBytes(clean.resolve(Store.WAL_FILE)), WalFile.HEADER_BYTES);
        Files.write(clean.resolve(Store.WAL_FILE), WalFileTest.asVersion2(header));
        assertEquals(2, logVersion(clean));
        try (Store store = Store.open(clean)) {
            assertEquals(WalFile.VERSION, logVersion(clean), "the open started the log over");
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("after-v2"), b("x"));
                w.commit();
            }
            assertTrue(store.wal.frameBytes() > 0);
            Path crashed = dir.resolve("clean-v2-crashed");
            copy(clean, crashed, true);
            try (Store again = Store.open(crashed); ReadTxn r = again.beginRead()) {
                assertEquals("x", StoreTest.s(r.get("t", b("after-v2"))));
            }
        }
    }

    private static int logVersion(Path folder) throws Exception {
        byte[] b = Files.readAllBytes(folder.resolve(Store.WAL_FILE));
        return java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt(8);
    }

    /** Where each frame of the log's bytes [64, end) starts, following the length fields. */
    private static List<Long> frameStarts(byte[] log, long end) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(log).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        List<Long> starts = new ArrayList<>();
        for (long at = WalFile.HEADER_BYTES; at < end; at += WalFile.FRAME_HEADER_BYTES + b.getInt((int) at + 16)) starts.add(at);
        return starts;
    }

    @Test
    void aDamagedLogHeaderIsRefusedAndWithoutTheLogTheDatabaseOpensAtTheCheckpoint() throws Exception {
        Path image = crashImage(new Random(5));
        Path copy = dir.resolve("damaged-header");
        copy(image, copy, true);
        byte[] log = Files.readAllBytes(copy.resolve(Store.WAL_FILE));
        log[30] ^= 0x40;
        Files.write(copy.resolve(Store.WAL_FILE), log);
        assertRefused(copy, Store.WAL_FILE, "log header");
        assertSalvageOpens(copyOf(copy, "damaged-header-salvaged"), states.getFirst(), 1);
        Files.move(copy.resolve(Store.WAL_FILE), dir.resolve("moved-away.wal"));
        try (Store store = Store.open(copy); ReadTxn r = store.beginRead()) {
            assertEquals(states.getFirst(), TornWriteTest.contents(r));
        }
    }

    /**
     * A zeroed 4 KiB block at the log's start takes its header and its first frames: the log
     * looked empty, and the database opened at its last checkpoint without a word, dropping the
     * commits whose frames lie after the block. Refused now, naming where one lies; salvage
     * opens the database at the checkpoint, keeping the log's copy.
     */
    @Test
    void aZeroedFirstBlockOfTheLogIsRefused() throws Exception {
        Path image = crashImage(new Random(21));
        byte[] log = Files.readAllBytes(image.resolve(Store.WAL_FILE));
        assertTrue(logEnd > 3 * 4096, "frames beyond the first block");
        java.util.Arrays.fill(log, 0, 4096, (byte) 0);
        Path damaged = dir.resolve("zeroed-start");
        copy(image, damaged, false);
        Files.write(damaged.resolve(Store.WAL_FILE), log);
        LogRefusedException e = assertRefused(damaged, "the log header (bytes [0, 64)) is zeros, but a commit after the data"
            + " file's last checkpoint");
        assertEquals(0, e.keepBytes());
        assertSalvageOpens(damaged, states.getFirst(), 1);
    }

    /**
     * A log header set to zeros with frames behind it: a crash cannot leave that, so it is
     * refused like any damaged header, not read as an empty log. Before, the open silently landed
     * at the checkpoint and verify said OK, while the log still held the acknowledged commits
     * (probe helper-44). A header of zeros with zeros behind it is still a log never written.
     */
    @Test
    void aZeroedLogHeaderWithFramesBehindItIsRefused() throws Exception {
        Path image = crashImage(new Random(6));
        Path copy = dir.resolve("zero-header");
        copy(image, copy, true);
        byte[] log = Files.readAllBytes(copy.resolve(Store.WAL_FILE));
        java.util.Arrays.fill(log, 0, WalFile.HEADER_BYTES, (byte) 0);
        Files.write(copy.resolve(Store.WAL_FILE), log);
        assertRefused(copy, Store.WAL_FILE, "the log header (bytes [0, 64)) is zeros, but a frame follows it");
        assertSalvageOpens(copyOf(copy, "zero-header-salvaged"), states.getFirst(), 1);

        Path never = dir.resolve("never-written");
        copy(image, never, true);
        Files.write(never.resolve(Store.WAL_FILE), new byte[1 << 20]);
        try (Store store = Store.open(never); ReadTxn r = store.beginRead()) {
            assertEquals(states.getFirst(), TornWriteTest.contents(r), "a log of zeros is empty");
        }
    }

    /**
     * A folder with a log but no data file (deleted or moved away) is refused and left as it
     * was. Before, the open wrote a new empty data file into it and then refused the log as
     * another database's; salvage then "succeeded" with an empty database (probe helper-44).
     */
    @Test
    void aLogWithoutItsDataFileIsRefusedAndNothingIsWritten() throws Exception {
        Path image = crashImage(new Random(7));
        Path copy = dir.resolve("no-data");
        copy(image, copy, true);
        Files.delete(copy.resolve(Store.DATA_FILE));
        byte[] log = Files.readAllBytes(copy.resolve(Store.WAL_FILE));
        dev.cairn.CorruptionException e = assertThrows(dev.cairn.CorruptionException.class, () -> Store.open(copy));
        assertTrue(e.getMessage().contains("holds a log (wal.cairn, " + log.length + " bytes) but no data file (data.cairn)"),
            e.getMessage());
        assertFalse(Files.exists(copy.resolve(Store.DATA_FILE)), "no data file was written");
        assertArrayEquals(log, Files.readAllBytes(copy.resolve(Store.WAL_FILE)), "the log is as it was");
        assertThrows(dev.cairn.CorruptionException.class, () -> Store.salvage(copy, StoreOptions.defaults()));
        assertFalse(Files.exists(copy.resolve(Store.DATA_FILE)), "salvage wrote no data file either");
    }

    @Test
    void aCommitBeyondTheLogLimitGoesToTheDataFileAndLaterCommitsToTheLogAgain() throws Exception {
        byte[] big = new byte[16 << 20];
        new Random(4).nextBytes(big);
        Path source = dir.resolve("big");
        Path image = dir.resolve("big-image");
        try (Store store = Store.open(source)) {
            try (WriteTxn w = store.beginWrite()) {
                w.createTree("t");
                w.put("t", b("small"), b("s"));
                w.commit();
            }
            assertTrue(store.wal.frameBytes() > 0, "a small commit is logged");
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("big"), big);
                w.commit();
            }
            assertEquals(0, store.wal.frameBytes(), "the large commit is not logged, and it took the checkpoint");
            assertTrue(Files.size(source.resolve(Store.WAL_FILE)) < 4 << 20, "the log did not grow");
            try (WriteTxn w = store.beginWrite()) {
                w.put("t", b("after"), b("a"));
                w.commit();
            }
            assertTrue(store.wal.frameBytes() > 0, "the next small commit is logged");
            // The data file alone: the direct commit is its checkpoint.
            Files.createDirectories(image);
            Files.copy(source.resolve(Store.DATA_FILE), image.resolve(Store.DATA_FILE));
        }
        try (Store store = Store.open(image); ReadTxn r = store.beginRead()) {
            assertArrayEquals(big, r.get("t", b("big")).toArray(PageLayout.U8));
            assertEquals("s", StoreTest.s(r.get("t", b("small"))));
            assertNull(r.get("t", b("after")), "only in the log, which the image lacks");
            assertTrue(store.verify().ok(), store.verify().problems().toString());
        }
        try (Store store = Store.open(source); ReadTxn r = store.beginRead()) {
            assertArrayEquals(big, r.get("t", b("big")).toArray(PageLayout.U8));
            assertEquals("a", StoreTest.s(r.get("t", b("after"))));
        }
    }

    @Test
    void commitsThatSkippedTheForceSurviveAProcessCrash() throws Exception {
        Path source = dir.resolve("nd");
        Path image = dir.resolve("nd-image");
        TreeMap<String, String> model = new TreeMap<>();
        try (Store store = Store.open(source, StoreOptions.defaults().withDurable(false))) {
            for (int c = 0; c < 20; c++) {
                try (WriteTxn w = store.beginWrite()) {
                    w.createTree("t");
                    w.put("t", b("k" + c), b("v" + c));
                    model.put("k" + c, "v" + c);
                    w.commit();
                }
            }
            // The process dies here: the OS still holds every write, so a copy is what it leaves.
            Files.createDirectories(image);
            Files.copy(source.resolve(Store.DATA_FILE), image.resolve(Store.DATA_FILE));
            Files.copy(source.resolve(Store.WAL_FILE), image.resolve(Store.WAL_FILE));
        }
        try (Store store = Store.open(image); ReadTxn r = store.beginRead()) {
            assertEquals(model, TornWriteTest.contents(r));
        }
    }

    private static void copy(Path image, Path target, boolean withLog) throws Exception {
        Files.createDirectories(target);
        Files.copy(image.resolve(Store.DATA_FILE), target.resolve(Store.DATA_FILE));
        if (withLog) Files.copy(image.resolve(Store.WAL_FILE), target.resolve(Store.WAL_FILE));
    }
}
