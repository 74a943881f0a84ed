package dev.cairn.store;

import dev.cairn.CorruptionException;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;

import static dev.cairn.store.PageLayout.*;

/**
 * Page 0, the file header (storage-format.md §3.1): magic, byte-order mark, format versions,
 * page size. Written once when the file is created and never again.
 */
final class FileHeader {
    static final byte[] MAGIC = "CAIRN-DB".getBytes(StandardCharsets.US_ASCII);
    /** Written little-endian, so the file bytes read 04 03 02 01. */
    static final int BYTE_ORDER_MARK = 0x01020304;
    /** 2: slots carry key heads (storage-format.md §4.1). Version 1 was a pre-release format. */
    static final int READ_VERSION = 2;
    static final int WRITE_VERSION = 2;
    static final int CHECKED_BYTES = 24;

    private FileHeader() { }

    static void write(MemorySegment page, int pageBytes) {
        page.fill((byte) 0);
        MemorySegment.copy(MemorySegment.ofArray(MAGIC), 0, page, 0, MAGIC.length);
        page.set(U32, 8, BYTE_ORDER_MARK);
        putU16(page, 12, READ_VERSION);
        putU16(page, 14, WRITE_VERSION);
        page.set(U32, 16, pageBytes);
        page.set(U32, 20, PageFile.CHUNK_PAGES);
        page.set(U32, 24, crc(page.asSlice(0, CHECKED_BYTES).toArray(U8)));
    }

    /** CRC32C of the first CHECKED_BYTES of the header. */
    private static int crc(byte[] head) {
        CRC32C c = new CRC32C();
        c.update(head, 0, CHECKED_BYTES);
        return (int) c.getValue();
    }

    /** What a header says about the file, after every check passed. */
    record Info(int pageBytes, boolean writable) { }

    /**
     * Checks the first bytes of the file (a plain array: this runs once per open, before the JIT
     * has compiled anything of it); throws CorruptionException naming what failed.
     */
    static Info read(Path file, byte[] head) {
        if (head.length < 32) throw corrupt(file, "file is " + head.length + " bytes (expected: >= 3 pages)");
        byte[] magic = java.util.Arrays.copyOf(head, MAGIC.length);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw corrupt(file, "magic is " + new String(magic, StandardCharsets.ISO_8859_1) + " (expected: CAIRN-DB)");
        }
        int mark = le32(head, 8);
        if (mark != BYTE_ORDER_MARK) {
            throw corrupt(file, "byte-order mark " + hex(mark) + " (expected: " + hex(BYTE_ORDER_MARK) + ")");
        }
        int stored = le32(head, 24);
        int actual = crc(head);
        if (stored != actual) throw corrupt(file, "checksum " + hex(stored) + " (expected: " + hex(actual) + ")");
        int readVersion = le16(head, 12);
        int writeVersion = le16(head, 14);
        if (readVersion > READ_VERSION) {
            throw new dev.cairn.CairnException(file + ": format read version " + readVersion
                + " is newer than this Cairn reads (" + READ_VERSION + ")");
        }
        if (readVersion < READ_VERSION) {
            throw new dev.cairn.CairnException(file + ": format read version " + readVersion
                + " is a pre-release format this Cairn no longer reads (it reads " + READ_VERSION
                + "); open it with the build that wrote it and export, then import here");
        }
        int pageBytes = le32(head, 16);
        if (pageBytes < 4096 || pageBytes > 32768 || Integer.bitCount(pageBytes) != 1) {
            throw corrupt(file, "page size " + pageBytes + " (expected: power of two in [4096, 32768])");
        }
        int chunkPages = le32(head, 20);
        if (chunkPages != PageFile.CHUNK_PAGES) {
            throw corrupt(file, "chunk pages " + chunkPages + " (expected: " + PageFile.CHUNK_PAGES + ")");
        }
        return new Info(pageBytes, writeVersion <= WRITE_VERSION);
    }

    private static CorruptionException corrupt(Path file, String what) {
        return new CorruptionException(file + ": page 0 (file header): " + what);
    }
}
