package dev.cairn.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.cairn.store.StoreTest.b;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The worked example of storage-format.md §9: a tiny database whose file must equal, byte for
 * byte, the hex dump kept in src/test/resources/golden/. The dump this run produced is also
 * written to build/golden-actual/ for comparison. Old golden files stay: a released format must
 * still open (and stay its version when written); the pre-release version 1 must be refused with
 * a message naming its version.
 */
class GoldenFileTest {
    static final String GOLDEN = "golden/tiny-v3.hex";
    static final String GOLDEN_V2 = "golden/tiny-v2.hex";
    static final String GOLDEN_V1 = "golden/tiny-v1.hex";
    /** The database id the example shows; a new file's is random (storage-format.md §3.1). */
    static final long EXAMPLE_ID = 0x1122_3344_5566_7788L;
    @TempDir Path dir;

    /** The example: two trees, three keys, one commit. */
    static void writeExample(Store store) {
        try (WriteTxn w = store.beginWrite()) {
            w.createTree("parts");
            w.createTree("empty");
            w.put("parts", b("r10k"), b("stock=7"));
            w.put("parts", b("c1u0"), b("stock=120"));
            w.put("parts", b("led1"), new byte[0]);
            w.commit();
        }
    }

    @Test
    void tinyDatabaseMatchesTheGoldenHexDump() throws IOException {
        try (Store store = Store.open(dir)) {
            writeExample(store);
        }
        byte[] file = Files.readAllBytes(dir.resolve(Store.DATA_FILE));
        // The id is random: check it and its checksum as §3.1 says, then put in the example's.
        java.nio.ByteBuffer head = java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertNotEquals(0, head.getLong(32), "a new file has a database id");
        assertEquals(crc32c(file, 40), head.getInt(40), "the id's checksum covers bytes [0, 40)");
        head.putLong(32, EXAMPLE_ID);
        head.putInt(40, crc32c(file, 40));
        long pageCount;
        try (Store store = Store.open(dir)) {
            pageCount = store.currentSnapshot().meta.pageCount();
            assertTrue(store.verify().ok());
        }
        String actual = hexDump(file, (int) pageCount, 4096);
        Path out = Path.of("build", "golden-actual", "tiny-v3.hex");
        Files.createDirectories(out.getParent());
        Files.writeString(out, actual);
        String expected;
        try (InputStream in = GoldenFileTest.class.getClassLoader().getResourceAsStream(GOLDEN)) {
            assertNotNull(in, GOLDEN + " is missing; the dump of this run is in " + out);
            expected = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(expected, actual, "the file differs from " + GOLDEN + "; this run's dump is in " + out);
    }

    @Test
    void goldenFilesOpenAndReadBack() throws IOException {
        for (String golden : new String[] {GOLDEN, GOLDEN_V2}) {
            Files.write(dir.resolve(Store.DATA_FILE), parseHexDump(resource(golden), 4096));
            try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
                assertEquals(java.util.List.of("empty", "parts"), r.treeNames(), golden);
                assertEquals("stock=120", StoreTest.s(r.get("parts", b("c1u0"))), golden);
                assertEquals(3, r.count("parts"), golden);
                assertTrue(store.verify().ok(), golden);
            }
            Files.delete(dir.resolve(Store.WAL_FILE));
        }
    }

    /**
     * A version-2 file (branch cells without child cell starts, storage-format.md §4.1) is
     * written as version 2: enough keys for branch pages, whose cells then record no cell start,
     * and its header keeps saying 2, so a Cairn that reads only version 2 still opens it. A
     * compacting copy of it is version 3.
     */
    @Test
    void aVersionTwoFileIsWrittenAsVersionTwo() throws IOException {
        byte[] v2 = parseHexDump(resource(GOLDEN_V2), 4096);
        Path db = dir.resolve("db"); // its copy goes beside it: a copy never goes into the folder it copies
        Files.createDirectories(db);
        Files.write(db.resolve(Store.DATA_FILE), v2);
        int keys = 5_000;
        try (Store store = Store.open(db)) {
            try (WriteTxn w = store.beginWrite()) {
                for (int i = 0; i < keys; i++) w.put("parts", b(String.format("k%06d", i)), new byte[40]);
                w.commit();
            }
        }
        byte[] file = Files.readAllBytes(db.resolve(Store.DATA_FILE));
        assertArrayEquals(java.util.Arrays.copyOfRange(v2, 12, 16), java.util.Arrays.copyOfRange(file, 12, 16),
            "read and write versions stay 2");
        try (Store store = Store.open(db); ReadTxn r = store.beginRead()) {
            assertFalse(store.childCellStarts());
            assertEquals(keys + 3, r.count("parts"));
            assertEquals(40, r.get("parts", b("k004999")).byteSize());
            assertTrue(store.verify().ok(), store.verify().problems().toString());
            int branches = 0;
            for (long id = PageLayout.FIRST_DATA_PAGE; id < store.currentSnapshot().meta.pageCount(); id++) {
                java.lang.foreign.MemorySegment page = store.pageFile.page(r.snapshot.chunks, id);
                if (page.get(PageLayout.U8, PageLayout.KIND_OFFSET) != PageLayout.KIND_BRANCH) continue;
                branches++;
                for (int i = 0; i < PageLayout.count(page); i++) assertEquals(0, NodePage.childCellStart(page, i), "page " + id);
            }
            assertTrue(branches > 0, "the tree has branch pages");
            // A compacting copy is a new file: version 3, with cell starts recorded.
            store.compactTo(dir.resolve("copy"));
        }
        byte[] copy = Files.readAllBytes(dir.resolve("copy").resolve(Store.DATA_FILE));
        assertArrayEquals(new byte[] {3, 0, 3, 0}, java.util.Arrays.copyOfRange(copy, 12, 16));
        try (Store store = Store.open(dir.resolve("copy")); ReadTxn r = store.beginRead()) {
            assertTrue(store.childCellStarts());
            assertEquals(keys + 3, r.count("parts"));
            assertTrue(store.verify().ok(), store.verify().problems().toString());
        }
    }

    /** A file made before database ids (bytes [32, 44) of page 0 zero) opens, and its log names no database. */
    @Test
    void aFileMadeBeforeDatabaseIdsOpens() throws IOException {
        byte[] file = parseHexDump(resource(GOLDEN_V2), 4096);
        java.util.Arrays.fill(file, 32, 44, (byte) 0);
        Files.write(dir.resolve(Store.DATA_FILE), file);
        try (Store store = Store.open(dir)) {
            try (WriteTxn w = store.beginWrite()) {
                w.put("parts", b("new"), b("x"));
                w.commit();
            }
        }
        try (Store store = Store.open(dir); ReadTxn r = store.beginRead()) {
            assertEquals("x", StoreTest.s(r.get("parts", b("new"))));
            assertEquals(4, r.count("parts"));
            assertTrue(store.verify().ok());
        }
        byte[] log = Files.readAllBytes(dir.resolve(Store.WAL_FILE));
        assertEquals(0, java.nio.ByteBuffer.wrap(log).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(WalFile.DATABASE_ID_OFFSET));
    }

    /** A damaged database id is reported as damage to page 0, not as a log of another database. */
    @Test
    void aDamagedDatabaseIdIsRefusedAsDamage() throws IOException {
        byte[] file = parseHexDump(resource(GOLDEN), 4096);
        file[35] ^= 0x20;
        Files.write(dir.resolve(Store.DATA_FILE), file);
        dev.cairn.CorruptionException e = assertThrows(dev.cairn.CorruptionException.class, () -> Store.open(dir).close());
        assertTrue(e.getMessage().contains("page 0 (file header): database id checksum"), e.getMessage());
    }

    private static int crc32c(byte[] b, int n) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, 0, n);
        return (int) crc.getValue();
    }

    @Test
    void preReleaseVersionOneIsRefusedByName() throws IOException {
        byte[] v1 = parseHexDump(resource(GOLDEN_V1), 4096);
        Files.write(dir.resolve(Store.DATA_FILE), v1);
        dev.cairn.CairnException e = assertThrows(dev.cairn.CairnException.class, () -> Store.open(dir).close());
        assertTrue(e.getMessage().contains("format read version 1") && e.getMessage().contains("reads 2 to 3"), e.getMessage());
        assertArrayEquals(v1, Files.readAllBytes(dir.resolve(Store.DATA_FILE)), "refusing must not change the file");
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = GoldenFileTest.class.getClassLoader().getResourceAsStream(name)) {
            assertNotNull(in, name + " is missing from the test resources");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** hexdump -C style per page; runs of all-zero lines print as one "*". */
    static String hexDump(byte[] file, int pages, int pageBytes) {
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < pages; p++) {
            sb.append("page ").append(p).append('\n');
            boolean starred = false;
            for (int line = 0; line < pageBytes; line += 16) {
                int at = p * pageBytes + line;
                boolean zero = true;
                for (int i = 0; i < 16; i++) zero &= file[at + i] == 0;
                if (zero) {
                    if (!starred) sb.append("*\n");
                    starred = true;
                    continue;
                }
                starred = false;
                sb.append(String.format("%04x ", line));
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < 16; i++) {
                    int v = file[at + i] & 0xFF;
                    sb.append(String.format(" %02x", v));
                    if (i == 7) sb.append(' ');
                    text.append(v >= 0x20 && v < 0x7f ? (char) v : '.');
                }
                sb.append("  |").append(text).append("|\n");
            }
        }
        return sb.toString();
    }

    static byte[] parseHexDump(String dump, int pageBytes) {
        int pages = 0;
        for (String line : dump.split("\n")) if (line.startsWith("page ")) pages++;
        byte[] file = new byte[pages * pageBytes];
        int page = -1;
        for (String line : dump.split("\n")) {
            if (line.startsWith("page ")) {
                page = Integer.parseInt(line.substring(5));
            } else if (!line.equals("*")) {
                int offset = Integer.parseInt(line.substring(0, 4), 16);
                String[] hex = line.substring(5, line.indexOf("  |")).trim().split("\\s+");
                for (int i = 0; i < hex.length; i++) file[page * pageBytes + offset + i] = (byte) Integer.parseInt(hex[i], 16);
            }
        }
        return file;
    }
}
