package dev.cairn.store;

import dev.cairn.CorruptionException;
import dev.cairn.internal.Limits;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static dev.cairn.store.PageLayout.U8;

/**
 * The operations of one write transaction as its log frame carries them (storage-format.md
 * §5.2): what the transaction did, not the pages it wrote, so a commit logs a few bytes per
 * change. Recovery applies them again, in order, to the checkpoint's snapshot.
 *
 * <p>Every op: {@code u8 kind}, {@code u16 length + UTF-8} tree name; a put then has {@code u16
 * length + bytes} key and {@code u32 length + bytes} value, a delete {@code u16 length + bytes}
 * key. Little-endian.
 */
final class LogOps {
    static final int CREATE_TREE = 1;
    static final int DROP_TREE = 2;
    static final int PUT = 3;
    static final int DELETE = 4;

    private byte[] bytes = new byte[256];
    private int size;
    private int count;
    /** The last tree name recorded and its UTF-8 bytes: a transaction mostly writes one tree. */
    private String lastTree;
    private byte[] lastTreeBytes;

    int size() {
        return size;
    }

    int count() {
        return count;
    }

    byte[] bytes() {
        return bytes;
    }

    void clear() {
        size = 0;
        count = 0;
    }

    void createTree(String tree) {
        head(CREATE_TREE, tree, 0);
    }

    void dropTree(String tree) {
        head(DROP_TREE, tree, 0);
    }

    void put(String tree, byte[] key, MemorySegment value) {
        int valueBytes = (int) value.byteSize();
        head(PUT, tree, 2 + key.length + 4 + valueBytes);
        key(key);
        put32(valueBytes);
        MemorySegment.copy(value, U8, 0, bytes, size, valueBytes);
        size += valueBytes;
    }

    void delete(String tree, MemorySegment key) {
        int keyBytes = (int) key.byteSize();
        head(DELETE, tree, 2 + keyBytes);
        put16(keyBytes);
        MemorySegment.copy(key, U8, 0, bytes, size, keyBytes);
        size += keyBytes;
    }

    private void key(byte[] key) {
        put16(key.length);
        System.arraycopy(key, 0, bytes, size, key.length);
        size += key.length;
    }

    /** Writes kind and tree name, with room for {@code more} bytes after them. */
    private void head(int kind, String tree, int more) {
        if (!tree.equals(lastTree)) {
            lastTree = tree;
            lastTreeBytes = tree.getBytes(StandardCharsets.UTF_8);
        }
        byte[] name = lastTreeBytes;
        ensure(1 + 2 + name.length + more);
        bytes[size++] = (byte) kind;
        put16(name.length);
        System.arraycopy(name, 0, bytes, size, name.length);
        size += name.length;
        count++;
    }

    private void ensure(int more) {
        long need = (long) size + more;
        if (need > bytes.length) {
            if (need > Integer.MAX_VALUE - 16) throw new IllegalStateException("transaction too large to log: " + need + " bytes");
            bytes = Arrays.copyOf(bytes, (int) Math.max(need, Math.min(Integer.MAX_VALUE - 16, 2L * bytes.length)));
        }
    }

    private void put16(int v) {
        bytes[size] = (byte) v;
        bytes[size + 1] = (byte) (v >>> 8);
        size += 2;
    }

    private void put32(int v) {
        for (int i = 0; i < 4; i++) bytes[size + i] = (byte) (v >>> (8 * i));
        size += 4;
    }

    // ---------------------------------------------------------------- applying (recovery)

    /**
     * Applies {@code count} ops from {@code ops} (position to limit) to the transaction, in
     * order. The frame's checksum held, so a malformed op is a writer's bug or damage that
     * happened to keep the checksum: refused, naming where.
     *
     * @throws CorruptionException an op is malformed or does not apply (no such tree)
     */
    static void apply(ByteBuffer ops, int count, WriteTxn tx, String where) {
        ByteBuffer b = ops.slice().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            int at = b.position();
            try {
                applyOne(b, tx);
            } catch (MalformedOp | IllegalArgumentException e) {
                throw new CorruptionException(where + ": op " + i + " at byte " + at + " of the frame: " + e.getMessage());
            }
        }
        if (b.hasRemaining()) {
            throw new CorruptionException(where + ": " + b.remaining() + " bytes after its " + count + " ops");
        }
    }

    /**
     * True when {@code ops} (position to limit) holds exactly {@code count} well-formed ops: what
     * shows that a frame header whose CRC cannot be checked (it chains to a damaged frame) heads
     * a frame, not bytes of a stored value that look like one.
     */
    static boolean parses(ByteBuffer ops, int count) {
        ByteBuffer b = ops.slice().order(ByteOrder.LITTLE_ENDIAN);
        try {
            for (int i = 0; i < count; i++) applyOne(b, null);
        } catch (MalformedOp e) {
            return false;
        }
        return count > 0 && !b.hasRemaining();
    }

    /** Reads one op and applies it to {@code tx}; only reads it when {@code tx} is null. */
    private static void applyOne(ByteBuffer b, WriteTxn tx) throws MalformedOp {
        int kind = u8(b);
        String tree = name(b);
        switch (kind) {
            case CREATE_TREE -> {
                if (tx != null) tx.createTree(tree);
            }
            case DROP_TREE -> {
                if (tx != null) tx.dropTree(tree);
            }
            case PUT -> {
                byte[] key = array(b, u16(b), Limits.KEY_BYTES_MAX, "key");
                long valueBytes = u32(b);
                byte[] value = array(b, valueBytes, Limits.VALUE_BYTES_MAX, "value");
                if (tx != null) tx.put(tree, key, value);
            }
            case DELETE -> {
                byte[] key = array(b, u16(b), Limits.KEY_BYTES_MAX, "key");
                if (tx != null && !tx.delete(tree, key)) throw new MalformedOp("delete of a key the tree does not hold");
            }
            default -> throw new MalformedOp("op kind " + kind + " (expected: 1-4)");
        }
    }

    private static String name(ByteBuffer b) throws MalformedOp {
        byte[] utf8 = array(b, u16(b), Limits.TREE_NAME_BYTES_MAX, "tree name");
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedOp("tree name is not UTF-8");
        }
    }

    private static byte[] array(ByteBuffer b, long length, int max, String what) throws MalformedOp {
        if (length > max) throw new MalformedOp(what + " of " + length + " bytes (expected: <= " + max + ")");
        if (length > b.remaining()) throw new MalformedOp(what + " of " + length + " bytes past the frame's end");
        byte[] a = new byte[(int) length];
        b.get(a);
        return a;
    }

    private static int u8(ByteBuffer b) throws MalformedOp {
        if (b.remaining() < 1) throw new MalformedOp("op past the frame's end");
        return b.get() & 0xFF;
    }

    private static int u16(ByteBuffer b) throws MalformedOp {
        if (b.remaining() < 2) throw new MalformedOp("length past the frame's end");
        return b.getShort() & 0xFFFF;
    }

    private static long u32(ByteBuffer b) throws MalformedOp {
        if (b.remaining() < 4) throw new MalformedOp("length past the frame's end");
        return b.getInt() & 0xFFFF_FFFFL;
    }

    /** A malformed op; becomes a CorruptionException naming the frame. */
    private static final class MalformedOp extends Exception {
        @java.io.Serial
        private static final long serialVersionUID = 1L;

        MalformedOp(String message) {
            super(message, null, false, false);
        }
    }
}
