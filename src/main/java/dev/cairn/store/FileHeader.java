package dev.cairn.store;

import dev.cairn.CorruptionException;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import static dev.cairn.store.PageLayout.*;

/**
 * Page 0, the file header (storage-format.md §3.1): magic, byte-order mark, format versions,
 * page size, and the database id its log names. Written once when the file is created and never
 * again (a backup copies it, id included: the copy is the same database).
 */
final class FileHeader {
    static final byte[] MAGIC = "CAIRN-DB".getBytes(StandardCharsets.US_ASCII);
    /** Written little-endian, so the file bytes read 04 03 02 01. */
    static final int BYTE_ORDER_MARK = 0x01020304;
    /**
     * 3: branch cells carry their child's cell start in the top 16 bits of the child id
     * (storage-format.md §4.1), which a version-2 reader would take for part of the id. 2: slots
     * carry key heads (§4.1), the child id is the whole u64; still read and written (without the
     * cell starts). Version 1 was a pre-release format.
     */
    static final int READ_VERSION = 3;
    static final int OLDEST_READ_VERSION = 2;
    /** The first read version whose branch cells carry child cell starts. */
    static final int CHILD_CELL_STARTS_VERSION = 3;
    static final int WRITE_VERSION = 3;
    static final int CHECKED_BYTES = 24;
    /** The database id (u64) and a CRC32C of bytes [0, 40) after it; all zero in files made before ids. */
    static final int ID_OFFSET = 32;
    static final int ID_CHECKSUM_OFFSET = 40;
    /** Bytes of page 0 that {@link #read} looks at. */
    static final int READ_BYTES = 44;

    private FileHeader() { }

    /** Writes a new file's header; {@code databaseId} must not be 0 (0 means "made before ids"). */
    static void write(MemorySegment page, int pageBytes, long databaseId) {
        dev.cairn.internal.Check.that(databaseId != 0, "database id 0 is reserved for files made before ids");
        page.fill((byte) 0);
        MemorySegment.copy(MemorySegment.ofArray(MAGIC), 0, page, 0, MAGIC.length);
        page.set(U32, 8, BYTE_ORDER_MARK);
        putU16(page, 12, READ_VERSION);
        putU16(page, 14, WRITE_VERSION);
        page.set(U32, 16, pageBytes);
        page.set(U32, 20, PageFile.CHUNK_PAGES);
        page.set(U32, 24, crc(page.asSlice(0, CHECKED_BYTES).toArray(U8), CHECKED_BYTES));
        page.set(U64, ID_OFFSET, databaseId);
        page.set(U32, ID_CHECKSUM_OFFSET, crc(page.asSlice(0, ID_CHECKSUM_OFFSET).toArray(U8), ID_CHECKSUM_OFFSET));
    }

    /** A new database id: random, never 0. */
    static long newDatabaseId() {
        long id;
        do {
            id = java.util.concurrent.ThreadLocalRandom.current().nextLong();
        } while (id == 0);
        return id;
    }

    /** CRC32C of the header's first n bytes. */
    private static int crc(byte[] head, int n) {
        CRC32C c = new CRC32C();
        c.update(head, 0, n);
        return (int) c.getValue();
    }

    /**
     * What a header says about the file, after every check passed; databaseId 0 for a file made
     * before ids.
     */
    record Info(int pageBytes, boolean writable, long databaseId, int readVersion) { }

    /** Bytes as quoted text when they are printable ASCII, else as hex: a message never carries control bytes. */
    static String shown(byte[] bytes) {
        boolean printable = true;
        for (byte b : bytes) printable &= b >= 0x20 && b < 0x7f;
        if (printable) return "\"" + new String(bytes, StandardCharsets.US_ASCII) + "\"";
        StringBuilder hex = new StringBuilder();
        for (byte b : bytes) hex.append(hex.isEmpty() ? "" : " ").append(String.format("%02x", b & 0xff));
        return hex.toString();
    }

    /**
     * Checks the first bytes of the file (a plain array: this runs once per open, before the JIT
     * has compiled anything of it); throws CorruptionException naming what failed.
     */
    static Info read(Path file, byte[] head) {
        if (head.length < READ_BYTES) throw corrupt(file, "file is " + head.length + " bytes (expected: >= 3 pages)");
        byte[] magic = java.util.Arrays.copyOf(head, MAGIC.length);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw corrupt(file, "magic is " + shown(magic) + " (expected: \"CAIRN-DB\"): not a Cairn data file, or its first page is damaged");
        }
        int mark = le32(head, 8);
        if (mark != BYTE_ORDER_MARK) {
            throw corrupt(file, "byte-order mark " + hex(mark) + " (expected: " + hex(BYTE_ORDER_MARK) + ")");
        }
        int stored = le32(head, 24);
        int actual = crc(head, CHECKED_BYTES);
        if (stored != actual) throw corrupt(file, "checksum " + hex(stored) + " (expected: " + hex(actual) + ")");
        int readVersion = le16(head, 12);
        int writeVersion = le16(head, 14);
        if (readVersion > READ_VERSION) {
            throw new dev.cairn.CairnException(file + ": format read version " + readVersion
                + " is newer than this Cairn reads (" + READ_VERSION + ")");
        }
        if (readVersion < OLDEST_READ_VERSION) {
            throw new dev.cairn.CairnException(file + ": format read version " + readVersion
                + " is a pre-release format this Cairn no longer reads (it reads " + OLDEST_READ_VERSION + " to "
                + READ_VERSION + "); open it with the build that wrote it and export, then import here");
        }
        int pageBytes = le32(head, 16);
        if (pageBytes < 4096 || pageBytes > 32768 || Integer.bitCount(pageBytes) != 1) {
            throw corrupt(file, "page size " + pageBytes + " (expected: power of two in [4096, 32768])");
        }
        int chunkPages = le32(head, 20);
        if (chunkPages != PageFile.CHUNK_PAGES) {
            throw corrupt(file, "chunk pages " + chunkPages + " (expected: " + PageFile.CHUNK_PAGES + ")");
        }
        long databaseId = le64(head, ID_OFFSET);
        int idStored = le32(head, ID_CHECKSUM_OFFSET);
        // Both zero: a file made before ids. Else the checksum must hold (a damaged id would
        // otherwise disown the database's own log).
        if (databaseId != 0 || idStored != 0) {
            int idActual = crc(head, ID_CHECKSUM_OFFSET);
            if (idStored != idActual) {
                throw corrupt(file, "database id checksum " + hex(idStored) + " (expected: " + hex(idActual) + ")");
            }
        }
        return new Info(pageBytes, writeVersion <= WRITE_VERSION, databaseId, readVersion);
    }

    private static CorruptionException corrupt(Path file, String what) {
        return new CorruptionException(file + ": page 0 (file header): " + what);
    }
}
