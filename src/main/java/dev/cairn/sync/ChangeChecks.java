package dev.cairn.sync;

import dev.cairn.CorruptionException;
import dev.cairn.internal.Limits;
import dev.cairn.schema.GenericRecord;
import dev.cairn.schema.Schema;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * What the server checks of a Change's value on its own (sync-protocol.md §5.1), apart from the
 * rules that need the server's state (check-outs, ranges, revisions: {@link ServerCore}): a
 * record header every node can decode, a state kind that fits the tree, iterations a node can
 * make, record bytes that decode with the named schema, and how a Change compares with the
 * stored record. Pure functions of bytes.
 */
final class ChangeChecks {
    /** Bytes of the record header of a value as stored, before modifiedBy (database-layout.md §3). */
    static final int RECORD_HEADER_BYTES = 56;

    private ChangeChecks() { }

    /**
     * Why the value of a CREATED or CHANGED cannot be stored, or null (§5.1): too large, a
     * header that does not decode or whose state kind does not fit the tree, iterations no node
     * makes, or record bytes that do not decode with {@code schema}. Every receiving node decodes
     * these; one that could not would stop its sync.
     */
    static String valueProblem(byte[] value, Schema schema, Boolean versioned, StoredHead current) {
        if (value.length > Limits.RECORD_BYTES_MAX) {
            // Stored, it could not be sent back in a Refused or to a new client.
            return "a value of " + value.length + " bytes (expected: <= RECORD_BYTES_MAX " + Limits.RECORD_BYTES_MAX + ")";
        }
        String wrong = headerProblem(value);
        if (wrong == null) wrong = stateProblem(value, versioned);
        if (wrong == null) wrong = iterationProblem(value, current);
        if (wrong == null) wrong = bodyProblem(value, schema);
        return wrong;
    }

    /**
     * Why {@code value} does not start with a record header (database-layout.md §3), or null.
     * Every client decodes the header of what it receives; one that does not decode would stop
     * their sync.
     */
    static String headerProblem(byte[] value) {
        if (value.length < RECORD_HEADER_BYTES) {
            return "a value of " + value.length + " bytes (expected: >= " + RECORD_HEADER_BYTES + ", the record header)";
        }
        ByteBuffer b = ByteBuffer.wrap(value);
        if (b.get(0) != 1) return "record header format " + b.get(0) + " (expected: 1)";
        if (b.get(1) < 0 || b.get(1) > 2) return "record state kind " + b.get(1) + " (expected: 0..2)";
        int byLength = Short.toUnsignedInt(b.getShort(2));
        if (RECORD_HEADER_BYTES + byLength > value.length) return "modifiedBy of " + byLength + " bytes in a value of " + value.length;
        long meta = b.getLong(24);
        long data = b.getLong(32);
        if (data < 0 || meta < data) return "iterations meta " + meta + " data " + data + " (expected: 0 <= data <= meta)";
        return null;
    }

    /**
     * Why a valid header's state kind does not fit its tree, or null: NonVersioned (0) in a tree
     * that is not versioned, Draft (1) or Released (2) in a versioned one (database-layout.md §3).
     * A record of the wrong kind could never be changed the way its tree changes records.
     */
    static String stateProblem(byte[] value, Boolean versioned) {
        if (versioned == null) return null;
        int kind = value[1];
        if (versioned ? kind == 0 : kind != 0) {
            return "record state kind " + kind + " in a tree that is " + (versioned ? "" : "not ") + "versioned (expected: "
                + (versioned ? "1 Draft or 2 Released" : "0 NonVersioned") + ")";
        }
        return null;
    }

    /**
     * Why the record bytes after a valid header do not decode with {@code schema}, or null: the
     * clients that receive the record decode them (indexes on arrival, the application on read).
     */
    static String bodyProblem(byte[] value, Schema schema) {
        int body = Bytes.recordBytesStart(value);
        try {
            GenericRecord.check(MemorySegment.ofArray(value).asSlice(body), schema);
            return null;
        } catch (CorruptionException e) {
            return "the record bytes do not decode with schema " + Long.toHexString(schema.fingerprint()) + ": " + e.getMessage();
        }
    }

    /**
     * Why a valid header's iterations are ones no node makes, or null (§5.1; database-layout.md
     * §5): above {@link Limits#ITERATION_MAX}, or more than {@link Limits#ITERATION_STEP_MAX}
     * above the stored record's (0 for a record never stored). A node adds 1 per change and
     * sends a record's changes since its last sync as one, so it is above the stored iterations
     * by at most its changes since (a few more when the holder's change replaced state changes
     * of others); it may be below them too (the holder's change of a version whose state others
     * changed since), which is not checked. Without this a client could send a state change
     * with metaIteration Long.MAX_VALUE, and the next change of the record overflowed on every node.
     */
    static String iterationProblem(byte[] value, StoredHead current) {
        long meta = Bytes.metaIteration(value);
        long data = Bytes.dataIteration(value);
        if (meta > Limits.ITERATION_MAX) {
            return "metaIteration " + meta + " (expected: <= ITERATION_MAX " + Limits.ITERATION_MAX + ")";
        }
        boolean never = current.serverSeq() == 0;
        if (!never && current.removed()) return null; // a tombstone: refused as REMOVED
        long storedMeta = never ? 0 : Bytes.metaIteration(current.head());
        long storedData = never ? 0 : Bytes.dataIteration(current.head());
        // 0 <= meta, data <= ITERATION_MAX here, and the stored ones are >= 0: no difference overflows.
        if (meta - storedMeta > Limits.ITERATION_STEP_MAX || data - storedData > Limits.ITERATION_STEP_MAX) {
            return "iterations meta " + meta + " data " + data + " (expected: at most ITERATION_STEP_MAX "
                + Limits.ITERATION_STEP_MAX + " above the stored meta " + storedMeta + " data " + storedData
                + ", as a node's changes take them)";
        }
        return null;
    }

    /**
     * True for a change of the record's state alone (release, state number), which needs no
     * check-out (database-layout.md §5), made on the stored version by {@code client}: the
     * stored dataIteration under a later metaIteration and, when the change names its base
     * (version 9), made on the stored version: its base is the stored metaIteration, or below it
     * when {@code client} made the stored version (its own change, accepted while this one was
     * pending: a node sends a record's changes in order, each after the last one's answer, so
     * its pending change holds that one). Without a base (a node of before version 9) the
     * server cannot tell how many changes the node's metaIteration counts since the version
     * it had, and only orders state changes by it: a stale one counting more changes wins
     * (sync-protocol.md §5.1). Its data is not taken: the server keeps the stored record bytes
     * (onChange).
     */
    static boolean stateChangeOnly(Message.Change c, StoredHead current, UUID client) {
        if (c.kind() != Message.Kind.CHANGED) return false;
        byte[] v = c.value();
        byte[] s = current.head();
        if (Bytes.dataIteration(v) != Bytes.dataIteration(s) || Bytes.metaIteration(v) <= Bytes.metaIteration(s)) return false;
        return madeOnStored(c, current, client);
    }

    /**
     * True when a CHANGED from {@code client} was made on the stored version, as far as its base
     * tells (version 9): the base is the stored metaIteration, or below it when {@code client}
     * made the stored version (its own change, accepted while this one waited: a node sends a
     * record's changes in order, each after the last one's answer, so its pending change holds
     * that one). True for a change without a base (a node of before version 9), which the
     * server cannot tell. A change made on a version another node's change replaced since is
     * refused CHANGED_SINCE, from the holder of the check-out too (sync-protocol.md §5.1).
     */
    static boolean madeOnStored(Message.Change c, StoredHead current, UUID client) {
        long storedMeta = Bytes.metaIteration(current.head());
        long base = c.baseMeta();
        return base == Message.Change.NO_BASE || base == storedMeta || base < storedMeta && lastWriter(current, client);
    }

    /**
     * True when {@code p.clientId} made the last change of a stored record (modifiedOn, at
     * offset 40 of the record header): a CREATED it sends again, with newer data made before
     * its first CREATED was acknowledged, then replaces its own version.
     */
    static boolean lastWriter(StoredHead current, UUID client) {
        return current.head().length >= RECORD_HEADER_BYTES && Bytes.modifiedOn(current.head()).equals(client);
    }

    /** True when the server's state of the record is already what {@code c} would make it. */
    static boolean alreadyStored(Message.Change c, StoredHead current) {
        if (current.serverSeq() == 0) return false;
        if (c.kind() == Message.Kind.REMOVED) return current.removed();
        return current.holdsSentData();
    }
}
