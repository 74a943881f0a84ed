package dev.cairn.db;

import dev.cairn.ChangeKind;
import dev.cairn.CorruptionException;
import dev.cairn.internal.Limits;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Names of the store trees and the byte forms of their keys and small values
 * (spec/database-layout.md §2). Every integer is big-endian, so keys sort as numbers.
 */
public final class Layout {
    private Layout() { }

    /** Node-wide values: {@code "nodeId"} (16 bytes), {@code "outboxNext"} (8 bytes). */
    public static final String NODE = "cairn.node";
    /** Tree name → {@code format:u8, flags:u8} (bit 0 = versioned). */
    public static final String CATALOG = "cairn.catalog";
    /** {@code treeName, 0x00, version:i32} → {@code Schema.toBytes()}. */
    public static final String SCHEMAS = "cairn.schemas";
    /** Tree name → {@link KeyPool#toBytes()}. */
    public static final String POOLS = "cairn.pools";
    /** {@code treeName, 0x00, id:i32, revision:i32} → {@code holder:uuid(16), sinceMillis:i64}. */
    public static final String CHECKOUTS = "cairn.checkouts";
    /** {@code sequence:i64} → an {@link OutboxEntry}. */
    public static final String OUTBOX = "cairn.outbox";
    /** Prefix of the data tree of each user tree: {@code "data:" + name}. */
    public static final String DATA_PREFIX = "data:";

    static final byte[] NODE_ID = "nodeId".getBytes(StandardCharsets.US_ASCII);
    static final byte[] OUTBOX_NEXT = "outboxNext".getBytes(StandardCharsets.US_ASCII);
    static final byte CATALOG_FORMAT = 1;
    static final int NAME_BYTES_MAX = Limits.TREE_NAME_BYTES_MAX - DATA_PREFIX.length();

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** Validates a user tree name: not blank, no NUL, at most {@link #NAME_BYTES_MAX} bytes of UTF-8. */
    static String checkTreeName(String name) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("tree name is blank (expected: a name)");
        if (name.indexOf('\0') >= 0) throw new IllegalArgumentException("tree name '" + name + "' contains NUL");
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > NAME_BYTES_MAX) {
            throw new IllegalArgumentException("tree name '" + name + "' has " + bytes + " bytes (expected: <= "
                + NAME_BYTES_MAX + ")");
        }
        return name;
    }

    static String dataTree(String name) {
        return DATA_PREFIX + name;
    }

    /** The data-tree key of {@code (id, revision)}. */
    static byte[] recordKey(int id, int revision) {
        return ByteBuffer.allocate(8).putInt(id).putInt(revision).array();
    }

    static int idOf(MemorySegment recordKey) {
        return recordKey.get(I32, 0);
    }

    static int revisionOf(MemorySegment recordKey) {
        return recordKey.get(I32, 4);
    }

    static void checkRecordKey(MemorySegment key, String tree) {
        if (key.byteSize() != 8 || idOf(key) < 0 || revisionOf(key) < 0) {
            throw new CorruptionException("data tree of " + tree + ": record key of " + key.byteSize()
                + " bytes or negative id/revision (expected: 8 bytes, id >= 0, revision >= 0)");
        }
    }

    static byte[] schemaKey(String tree, int version) {
        byte[] name = tree.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(name.length + 5).put(name).put((byte) 0).putInt(version).array();
    }

    /** The first schema key of {@code tree}: a seek target. */
    static byte[] schemaPrefix(String tree) {
        byte[] name = tree.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(name.length + 1).put(name).put((byte) 0).array();
    }

    static byte[] checkoutKey(String tree, int id, int revision) {
        byte[] name = tree.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(name.length + 9).put(name).put((byte) 0).putInt(id).putInt(revision).array();
    }

    static byte[] checkoutValue(UUID holder, long sinceMillis) {
        return ByteBuffer.allocate(24).putLong(holder.getMostSignificantBits())
            .putLong(holder.getLeastSignificantBits()).putLong(sinceMillis).array();
    }

    static UUID checkoutHolder(MemorySegment value) {
        ByteBuffer b = value.asByteBuffer().order(ByteOrder.BIG_ENDIAN);
        return new UUID(b.getLong(0), b.getLong(8));
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static byte[] uuidBytes(UUID u) {
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    static byte[] copy(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * One change to send to the server later (sync): {@code kind:u8 (0 created, 1 changed,
     * 2 removed), nameLength:u16, name, id:i32, revision:i32, metaIteration:i64, dataIteration:i64}.
     */
    public record OutboxEntry(ChangeKind kind, String tree, int id, int revision, long metaIteration,
                              long dataIteration) {
        byte[] toBytes() {
            byte[] name = utf8(tree);
            return ByteBuffer.allocate(1 + 2 + name.length + 24).put((byte) kind.ordinal())
                .putShort((short) name.length).put(name).putInt(id).putInt(revision)
                .putLong(metaIteration).putLong(dataIteration).array();
        }

        public static OutboxEntry fromBytes(byte[] bytes) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            try {
                int kind = b.get();
                byte[] name = new byte[Short.toUnsignedInt(b.getShort())];
                b.get(name);
                OutboxEntry e = new OutboxEntry(ChangeKind.values()[kind], new String(name, StandardCharsets.UTF_8),
                    b.getInt(), b.getInt(), b.getLong(), b.getLong());
                if (b.hasRemaining()) throw new CorruptionException("outbox entry: " + b.remaining() + " bytes left over");
                return e;
            } catch (RuntimeException e) {
                if (e instanceof CorruptionException c) throw c;
                throw new CorruptionException("outbox entry of " + bytes.length + " bytes: " + e, e);
            }
        }
    }
}
