package dev.cairn.db;

import dev.cairn.CorruptionException;
import dev.cairn.RecordMeta;
import dev.cairn.RecordState;
import dev.cairn.internal.Check;
import dev.cairn.internal.Limits;
import dev.cairn.schema.RecordCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * The metadata stored before the record bytes in a data-tree value (spec/database-layout.md
 * §3). Layout, big-endian:
 * <pre>
 * 0  u8  format (1)          1  u8  state kind (0 NonVersioned, 1 Draft, 2 Released)
 * 2  u16 modifiedBy bytes L  4  i32 state number
 * 8  i64 created (epoch ms)  16 i64 modified (epoch ms)
 * 24 i64 metaIteration       32 i64 dataIteration
 * 40 i64 modifiedOn msb      48 i64 modifiedOn lsb
 * 56 L bytes modifiedBy (UTF-8), then the record bytes (record-format.md) to the end
 * </pre>
 */
public record RecordHeader(byte stateKind, int stateNumber, long createdMillis, long modifiedMillis,
                           long metaIteration, long dataIteration, UUID modifiedOn, String modifiedBy) {
    static final byte FORMAT = 1;
    static final byte NON_VERSIONED = 0;
    static final byte DRAFT = 1;
    static final byte RELEASED = 2;
    static final int FIXED_BYTES = 56;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    public RecordState state() {
        return switch (stateKind) {
            case NON_VERSIONED -> new RecordState.NonVersioned();
            case DRAFT -> new RecordState.Draft(stateNumber);
            case RELEASED -> new RecordState.Released(stateNumber);
            default -> throw new AssertionError("state kind " + stateKind);
        };
    }

    public boolean released() {
        return stateKind == RELEASED;
    }

    RecordHeader withState(byte kind, int number) {
        return new RecordHeader(kind, number, createdMillis, modifiedMillis, metaIteration, dataIteration,
            modifiedOn, modifiedBy);
    }

    /**
     * The header after a change at {@code now} by {@code user} on {@code node}; {@code data}
     * bumps both iterations.
     *
     * @throws IllegalStateException naming {@code key} when {@code metaIteration} is at
     *     {@link Limits#ITERATION_MAX} or above (a header no node writes: one a server before
     *     its check took from a client, database-layout.md §5), nothing changed
     */
    RecordHeader touched(long now, UUID node, String user, boolean data, Object key) {
        if (atIterationLimit()) {
            throw new IllegalStateException("change of " + key + ": its metaIteration " + metaIteration + " is at or above "
                + "ITERATION_MAX " + Limits.ITERATION_MAX + " (no node makes that many changes; the server took it from a "
                + "client before it checked iterations), so it cannot change any more: nothing was changed (remove it, or "
                + "make a new revision of a released one)");
        }
        return new RecordHeader(stateKind, stateNumber, createdMillis, now, Math.addExact(metaIteration, 1),
            data ? Math.addExact(dataIteration, 1) : dataIteration, node, user);
    }

    /** True when no change can follow: {@code metaIteration} at or above {@link Limits#ITERATION_MAX} (§5). */
    boolean atIterationLimit() {
        return metaIteration >= Limits.ITERATION_MAX;
    }

    /** Bytes of {@link #encode} for a record of {@code recordBytes}. */
    public long encodedBytes(int recordBytes) {
        return (long) FIXED_BYTES + modifiedBy.getBytes(StandardCharsets.UTF_8).length + recordBytes;
    }

    /** Header followed by {@code record}. */
    public byte[] encode(byte[] record) {
        // Paired with decode's check (STYLE.md §5): a header that would not read back is our bug.
        Check.that(dataIteration >= 0, "dataIteration %d (expected: >= 0)", dataIteration);
        Check.that(metaIteration >= dataIteration, "metaIteration %d (expected: >= dataIteration %d)", metaIteration,
            dataIteration);
        byte[] by = modifiedBy.getBytes(StandardCharsets.UTF_8);
        // Its length is a u16: longer, it wrapped and the record no longer read (probe 103).
        if (by.length > 0xFFFF) {
            throw new IllegalArgumentException("user name of " + by.length + " bytes of UTF-8 (expected: at most 65,535)");
        }
        byte[] out = new byte[FIXED_BYTES + by.length + record.length];
        MemorySegment s = MemorySegment.ofArray(out);
        s.set(ValueLayout.JAVA_BYTE, 0, FORMAT);
        s.set(ValueLayout.JAVA_BYTE, 1, stateKind);
        s.set(U16, 2, (short) by.length);
        s.set(I32, 4, stateNumber);
        s.set(I64, 8, createdMillis);
        s.set(I64, 16, modifiedMillis);
        s.set(I64, 24, metaIteration);
        s.set(I64, 32, dataIteration);
        s.set(I64, 40, modifiedOn.getMostSignificantBits());
        s.set(I64, 48, modifiedOn.getLeastSignificantBits());
        System.arraycopy(by, 0, out, FIXED_BYTES, by.length);
        System.arraycopy(record, 0, out, FIXED_BYTES + by.length, record.length);
        return out;
    }

    /** The {@link RecordMeta} of a stored record value ({@code where} names it in errors). */
    static RecordMeta meta(MemorySegment value, Object where) {
        RecordHeader h = decode(value, where);
        return new RecordMeta(h.state(), h.modifiedBy(), h.modifiedOn(), Instant.ofEpochMilli(h.createdMillis()),
            Instant.ofEpochMilli(h.modifiedMillis()), h.metaIteration(), h.dataIteration(), RecordCodec.versionOf(body(value)));
    }

    /** Reads the header of a stored value; {@code where} names the key for errors. */
    public static RecordHeader decode(MemorySegment value, Object where) {
        if (value.byteSize() < FIXED_BYTES) throw corrupt(where, "value of " + value.byteSize() + " bytes");
        byte format = value.get(ValueLayout.JAVA_BYTE, 0);
        byte kind = value.get(ValueLayout.JAVA_BYTE, 1);
        if (format != FORMAT) throw corrupt(where, "header format " + format + " (expected: " + FORMAT + ")");
        if (kind < NON_VERSIONED || kind > RELEASED) throw corrupt(where, "state kind " + kind);
        int byLength = Short.toUnsignedInt(value.get(U16, 2));
        if (FIXED_BYTES + byLength > value.byteSize()) throw corrupt(where, "modifiedBy length " + byLength);
        long meta = value.get(I64, 24);
        long data = value.get(I64, 32);
        if (data < 0 || meta < data) throw corrupt(where, "iterations meta " + meta + " data " + data);
        String by = new String(value.asSlice(FIXED_BYTES, byLength).toArray(ValueLayout.JAVA_BYTE),
            StandardCharsets.UTF_8);
        return new RecordHeader(kind, value.get(I32, 4), value.get(I64, 8), value.get(I64, 16), meta, data,
            new UUID(value.get(I64, 40), value.get(I64, 48)), by);
    }

    /** The record bytes of a stored value, as a slice (no copy). */
    public static MemorySegment body(MemorySegment value) {
        int byLength = Short.toUnsignedInt(value.get(U16, 2));
        return value.asSlice(FIXED_BYTES + byLength);
    }

    private static CorruptionException corrupt(Object where, String what) {
        return new CorruptionException("record header of " + where + ": " + what);
    }
}
