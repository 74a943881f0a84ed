package dev.cairn.db;

import dev.cairn.ChangeKind;
import dev.cairn.CorruptionException;
import dev.cairn.internal.Check;
import dev.cairn.internal.Limits;
import dev.cairn.internal.TreeNames;
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
    /**
     * Tree name → {@code format:u8, flags:u8 (bit 0 = versioned), dataFromVersion:i32} (every
     * record was written with a schema version >= dataFromVersion; a migration raises it).
     */
    public static final String CATALOG = "cairn.catalog";
    /** {@code treeName, 0x00, version:i32} → {@code Schema.toBytes()}. */
    public static final String SCHEMAS = "cairn.schemas";
    /** Tree name → {@link KeyPool#toBytes()}. */
    public static final String POOLS = "cairn.pools";
    /** {@code treeName, 0x00, id:i32, revision:i32} → {@code holder:uuid(16), sinceMillis:i64}. */
    public static final String CHECKOUTS = "cairn.checkouts";
    /** {@code treeName, 0x00, id:i32, revision:i32} → the record's pending {@link OutboxEntry}. */
    public static final String OUTBOX = "cairn.outbox";
    /** {@code sequence:i64} → the {@link #OUTBOX} key of the entry with that sequence (see {@link Outbox}). */
    public static final String OUTBOX_ORDER = "cairn.outboxorder";
    /**
     * {@code groupStart:i64, sequence:i64} → nothing: each {@link #OUTBOX} entry by the start of the
     * group it travels with, where sync may cut the outbox (see {@link OutboxGroups}).
     */
    public static final String OUTBOX_GROUP = "cairn.outboxgroup";
    /**
     * The {@link #OUTBOX} key of an entry → {@code groupStart:i64}, only for an entry whose group
     * starts before its sequence: kept apart from the entry's value, which stays as an older Cairn
     * reads it (see {@link Outbox}).
     */
    public static final String OUTBOX_START = "cairn.outboxstart";
    /**
     * The {@link #OUTBOX} key of a CHANGED entry → {@code sequence:i64, baseMeta:i64}: the
     * metaIteration of the server's version the entry's pending change was made on, which a
     * version 9 Change carries (database-layout.md §6, sync-protocol.md §5.1). A row whose
     * sequence is not its entry's is stale (an older Cairn replaced or dropped the entry) and
     * counts as none.
     */
    public static final String OUTBOX_BASE = "cairn.outboxbase";
    /**
     * {@code treeName, 0x00, id:i32} → {@code revision:i32}: the highest revision above 0 of that
     * id removed here or by the server (a versioned tree's tombstone, database-layout.md §2, §5),
     * which newRevision never hands out again.
     */
    public static final String REMOVED_REVISIONS = "cairn.removedrevisions";
    /** Tree name → {@code version:i32}: the schema version of the record class that opened the tree here last (§2). */
    public static final String CLASSES = "cairn.classes";
    /** Prefix of the data tree of each user tree: {@code "data:" + name}. */
    public static final String DATA_PREFIX = "data:";

    static final byte[] NODE_ID = "nodeId".getBytes(StandardCharsets.US_ASCII);
    static final byte[] OUTBOX_NEXT = "outboxNext".getBytes(StandardCharsets.US_ASCII);
    static final byte CATALOG_FORMAT = 1;
    static final int CATALOG_BYTES = 6;
    static final int NAME_BYTES_MAX = TreeNames.NAME_BYTES_MAX;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    static {
        Check.that(DATA_PREFIX.length() + NAME_BYTES_MAX <= Limits.TREE_NAME_BYTES_MAX, "data tree names fit the store");
    }

    /** Validates a user tree name: not blank, no NUL, at most {@link #NAME_BYTES_MAX} bytes of UTF-8. */
    static String checkTreeName(String name) {
        String problem = TreeNames.problem(name);
        if (problem != null) throw new IllegalArgumentException(problem);
        return name;
    }

    static byte[] catalogEntry(boolean versioned, int dataFromVersion) {
        return ByteBuffer.allocate(CATALOG_BYTES).put(CATALOG_FORMAT).put((byte) (versioned ? 1 : 0))
            .putInt(dataFromVersion).array();
    }

    /** Whether a {@code cairn.catalog} entry says its tree is versioned (flags bit 0). */
    static boolean catalogVersioned(MemorySegment entry) {
        return entry.byteSize() > 1 && (entry.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 1) & 1) != 0;
    }

    /** The dataFromVersion of a catalog entry (at offset 2; the caller checked its size). */
    static int catalogDataFrom(MemorySegment entry) {
        return entry.get(I32, 2);
    }

    static String dataTree(String name) {
        return DATA_PREFIX + name;
    }

    /** The data-tree key of {@code (id, revision)}. */
    static byte[] recordKey(int id, int revision) {
        byte[] key = new byte[8];
        putInt(key, 0, id);
        putInt(key, 4, revision);
        return key;
    }

    /** Big-endian, with plain array stores: these keys are built on every read and insert. */
    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
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

    /** Whether {@code key} is a {@link #SCHEMAS} key of the tree whose {@link #schemaPrefix} is {@code prefix}. */
    static boolean isSchemaKey(byte[] key, byte[] prefix) {
        return key.length == prefix.length + 4 && java.util.Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    static byte[] checkoutKey(String tree, int id, int revision) {
        byte[] name = tree.getBytes(StandardCharsets.UTF_8);
        byte[] key = java.util.Arrays.copyOf(name, name.length + 9);
        putInt(key, name.length + 1, id);
        putInt(key, name.length + 5, revision);
        return key;
    }

    /** The {@link #REMOVED_REVISIONS} key of an id. */
    static byte[] removedRevisionsKey(String tree, int id) {
        byte[] name = tree.getBytes(StandardCharsets.UTF_8);
        byte[] key = java.util.Arrays.copyOf(name, name.length + 5);
        putInt(key, name.length + 1, id);
        return key;
    }

    static byte[] checkoutValue(UUID holder, long sinceMillis) {
        return checkoutValue(holder, sinceMillis, "");
    }

    /** A check-out row: holder, since when, and the holder's node name as the server named it (database-layout.md §2). */
    static byte[] checkoutValue(UUID holder, long sinceMillis, String holderName) {
        byte[] name = holderName.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(24 + name.length).putLong(holder.getMostSignificantBits())
            .putLong(holder.getLeastSignificantBits()).putLong(sinceMillis).put(name).array();
    }

    static long checkoutSince(MemorySegment value) {
        return value.asByteBuffer().order(ByteOrder.BIG_ENDIAN).getLong(16);
    }

    /** The holder's node name of a check-out row; "" when none is stored (this node, or a row of an older Cairn). */
    static String checkoutHolderName(MemorySegment value) {
        return value.byteSize() <= 24 ? "" : new String(copy(value.asSlice(24)), StandardCharsets.UTF_8);
    }

    static UUID checkoutHolder(MemorySegment value) {
        ByteBuffer b = value.asByteBuffer().order(ByteOrder.BIG_ENDIAN);
        return new UUID(b.getLong(0), b.getLong(8));
    }

    /**
     * Key in {@code cairn.node} of a tree's issued high, kept once the tree's key pool used up
     * its highest range (database-layout.md §4): "issuedHigh", 0x00, the tree name.
     */
    static byte[] issuedHighKey(String tree) {
        byte[] name = utf8(tree);
        byte[] key = java.util.Arrays.copyOf(ISSUED_HIGH, ISSUED_HIGH.length + 1 + name.length);
        System.arraycopy(name, 0, key, ISSUED_HIGH.length + 1, name.length);
        return key;
    }

    private static final byte[] ISSUED_HIGH = "issuedHigh".getBytes(StandardCharsets.US_ASCII);

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] intBytes(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    /** The big-endian int a 4-byte value holds. */
    static int intOf(MemorySegment s) {
        return s.get(I32, 0);
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    static byte[] uuidBytes(UUID u) {
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    static UUID uuidOf(MemorySegment s) {
        ByteBuffer b = s.asByteBuffer().order(ByteOrder.BIG_ENDIAN);
        return new UUID(b.getLong(0), b.getLong(8));
    }

    static byte[] copy(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * The pending change of one record, to send to the server later (sync). Key: {@code name,
     * 0x00, id:i32, revision:i32}; value: {@code sequence:i64, kind:u8 (0 created, 1 changed,
     * 2 removed), metaIteration:i64, dataIteration:i64}. One entry per record: a later change
     * replaces it (a change of a record the server has not seen stays {@code CREATED}; its
     * removal is {@code REMOVED}), so the outbox is bounded by the number of records.
     * {@code sequence} orders entries by their last change; {@code groupStart} (at most {@code
     * sequence}) is where the transactions the entry carries begin (database-layout.md §6): not
     * in the value, which stays as every Cairn reads it, but in {@link #OUTBOX_START} when below
     * {@code sequence}. A value of 33 bytes, with {@code groupStart} appended, was written by a
     * Cairn of before that tree; it is read, and rewritten at open. A database that never linked
     * has none.
     */
    public record OutboxEntry(long sequence, ChangeKind kind, String tree, int id, int revision,
                              long metaIteration, long dataIteration, long groupStart) {
        /** Bytes of a value, as every Cairn writes and reads it. */
        static final int VALUE_BYTES = 25;
        /** Bytes of a value with groupStart appended, written by a Cairn of before {@link #OUTBOX_START}. */
        static final int GROUPED_VALUE_BYTES = 33;

        /** An entry that starts a group of its own ({@code groupStart = sequence}). */
        public OutboxEntry(long sequence, ChangeKind kind, String tree, int id, int revision, long metaIteration,
                           long dataIteration) {
            this(sequence, kind, tree, id, revision, metaIteration, dataIteration, sequence);
        }

        /** The same entry with another group start. */
        OutboxEntry withGroupStart(long start) {
            return new OutboxEntry(sequence, kind, tree, id, revision, metaIteration, dataIteration, start);
        }

        byte[] key() {
            return checkoutKey(tree, id, revision);
        }

        byte[] value() {
            return ByteBuffer.allocate(VALUE_BYTES).putLong(sequence).put((byte) kind.ordinal()).putLong(metaIteration)
                .putLong(dataIteration).array();
        }

        /** The kind of a stored entry value. */
        static ChangeKind kindOf(MemorySegment value) {
            return kindOf(value.get(ValueLayout.JAVA_BYTE, 8));
        }

        private static ChangeKind kindOf(byte b) {
            if (b < 0 || b >= ChangeKind.values().length) throw new CorruptionException("outbox entry kind " + b);
            return ChangeKind.values()[b];
        }

        /**
         * The entry a stored key and value hold, its group start the one a 33-byte value carries,
         * else its sequence: {@link Outbox#read} adds the one {@link #OUTBOX_START} holds.
         */
        public static OutboxEntry fromStored(byte[] key, byte[] value) {
            int zero = 0;
            while (zero < key.length && key[zero] != 0) zero++;
            if ((value.length != VALUE_BYTES && value.length != GROUPED_VALUE_BYTES) || key.length != zero + 9) {
                throw new CorruptionException("outbox entry: key of " + key.length + " bytes, value of " + value.length
                    + " bytes (expected: name, 0, 8 bytes; " + VALUE_BYTES + " bytes, or " + GROUPED_VALUE_BYTES
                    + " with a group start)");
            }
            ByteBuffer k = ByteBuffer.wrap(key, zero + 1, 8);
            ByteBuffer v = ByteBuffer.wrap(value);
            long sequence = v.getLong();
            ChangeKind kind = kindOf(v.get());
            long meta = v.getLong();
            long data = v.getLong();
            long groupStart = v.hasRemaining() ? v.getLong() : sequence;
            return new OutboxEntry(sequence, kind, new String(key, 0, zero, StandardCharsets.UTF_8),
                k.getInt(), k.getInt(), meta, data, groupStart);
        }
    }
}
