package dev.cairn.sync;

import dev.cairn.CorruptionException;
import dev.cairn.Key;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** Byte forms of the server's store keys and values (sync-protocol.md §7), big-endian. */
final class Bytes {
    private Bytes() { }

    static byte[] copy(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    static String utf8(MemorySegment s) {
        return new String(copy(s), StandardCharsets.UTF_8);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] uuid(UUID u) {
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    /** The UUID in bytes {@code [at, at + 16)} of {@code s}. */
    static UUID uuidAt(MemorySegment s, long at) {
        if (s.byteSize() < at + 16) throw new CorruptionException("server: " + s.byteSize() + " bytes where a UUID at " + at + " was expected");
        ByteBuffer b = ByteBuffer.wrap(copy(s.asSlice(at, 16)));
        return new UUID(b.getLong(), b.getLong());
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    /** {@code tree, 0x00, id:i32, revision:i32}. */
    static byte[] recordKey(Key<?> key) {
        byte[] name = utf8(key.tree());
        return ByteBuffer.allocate(name.length + 9).put(name).put((byte) 0).putInt(key.id()).putInt(key.revision())
            .array();
    }

    static Key<?> recordKeyOf(byte[] k) {
        if (k.length < 10 || k[k.length - 9] != 0) {
            throw new CorruptionException("server record key of " + k.length + " bytes (expected: name, 0, id, revision)");
        }
        ByteBuffer b = ByteBuffer.wrap(k, k.length - 8, 8);
        return new Key<>(new String(k, 0, k.length - 9, StandardCharsets.UTF_8), b.getInt(), b.getInt());
    }

    /** {@code tree, 0x00, fingerprint:i64}. */
    static byte[] schemaKey(String tree, long fingerprint) {
        byte[] name = utf8(tree);
        return ByteBuffer.allocate(name.length + 9).put(name).put((byte) 0).putLong(fingerprint).array();
    }

    /** {@code tree, 0x00, from:i32}. */
    static byte[] rangeKey(String tree, int from) {
        byte[] name = utf8(tree);
        return ByteBuffer.allocate(name.length + 5).put(name).put((byte) 0).putInt(from).array();
    }

    /** {@code seq:i64, fingerprint:i64, value} (value empty = removed). */
    static byte[] recordValue(long seq, long fingerprint, byte[] value) {
        return ByteBuffer.allocate(STORED_PREFIX_BYTES + value.length).putLong(seq).putLong(fingerprint).put(value).array();
    }

    /** A stored record's value starts with its sequence and schema fingerprint, i64 each (sync-protocol.md §7). */
    static final int STORED_PREFIX_BYTES = 16;

    /** Whether a record value (database-layout.md §3) is Released: state kind 2 at offset 1. */
    static boolean released(byte[] value) {
        return value.length > 1 && value[1] == 2;
    }

    /** The dataIteration of a record value: i64 at offset 32. */
    static long dataIteration(byte[] value) {
        return ByteBuffer.wrap(value, 32, 8).getLong();
    }

    /** The createdMillis of a record value: i64 at offset 8. */
    static long createdMillis(byte[] value) {
        return ByteBuffer.wrap(value, 8, 8).getLong();
    }

    /** The modifiedOn of a record value: the node of its last change, the UUID at offset 40 (database-layout.md §3). */
    static UUID modifiedOn(byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        return new UUID(b.getLong(40), b.getLong(48));
    }

    /** Offset of a record value's metaIteration (database-layout.md §3). */
    static final int META_ITERATION_AT = 24;

    /** The metaIteration of a record value: i64 at offset 24. */
    static long metaIteration(byte[] value) {
        return ByteBuffer.wrap(value, META_ITERATION_AT, 8).getLong();
    }

    /** Where the record bytes of a value start: after its header and modifiedBy (database-layout.md §3). */
    static int recordBytesStart(byte[] value) {
        return ChangeChecks.RECORD_HEADER_BYTES + Short.toUnsignedInt(ByteBuffer.wrap(value, 2, 2).getShort());
    }
}
