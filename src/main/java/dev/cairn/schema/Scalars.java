package dev.cairn.schema;

import dev.cairn.Key;
import dev.cairn.schema.FieldType.Kind;
import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.UUID;

/** Item encodings of the scalar kinds (record-format.md §4.1), shared by every codec. */
final class Scalars {
    private Scalars() { }

    /** Reads one scalar item occupying exactly {@code [s, e)}, boxed. */
    static Object read(Kind kind, MemorySegment seg, long s, long e, String path) {
        if (kind.width > 0) Bin.checkWidth(s, e, kind.width, path);
        return switch (kind) {
            case BOOLEAN -> bool(seg.get(Bin.BYTE, s), path);
            case BYTE -> seg.get(Bin.BYTE, s);
            case SHORT -> seg.get(Bin.SHORT, s);
            case CHAR -> seg.get(Bin.CHAR, s);
            case INT -> seg.get(Bin.INT, s);
            case LONG -> seg.get(Bin.LONG, s);
            case FLOAT -> seg.get(Bin.FLOAT, s);
            case DOUBLE -> seg.get(Bin.DOUBLE, s);
            case STRING -> Bin.string(seg, s, e);
            case BYTES -> Bin.bytes(seg, s, e);
            case UUID -> new UUID(seg.get(Bin.LONG, s), seg.get(Bin.LONG, s + 8));
            case INSTANT -> instant(seg, s, path);
            case LOCAL_DATE -> date(seg.get(Bin.LONG, s), path);
            case BIG_DECIMAL -> decimal(seg, s, e, path);
            case KEY -> key(seg, s, e, path);
        };
    }

    static boolean bool(byte b, String path) {
        if (b == 0) return false;
        if (b == 1) return true;
        throw Bin.corrupt(path + ": boolean byte " + b + " (expected: 0 or 1)");
    }

    private static Instant instant(MemorySegment seg, long s, String path) {
        long seconds = seg.get(Bin.LONG, s);
        int nanos = seg.get(Bin.INT, s + 8);
        if (nanos < 0 || nanos > 999_999_999) throw Bin.corrupt(path + ": instant nanos " + nanos
            + " (expected: 0..999999999)");
        try {
            return Instant.ofEpochSecond(seconds, nanos);
        } catch (DateTimeException e) {
            throw Bin.corrupt(path + ": instant seconds " + seconds + " out of range");
        }
    }

    private static LocalDate date(long epochDay, String path) {
        try {
            return LocalDate.ofEpochDay(epochDay);
        } catch (DateTimeException e) {
            throw Bin.corrupt(path + ": epoch day " + epochDay + " out of range");
        }
    }

    private static BigDecimal decimal(MemorySegment seg, long s, long e, String path) {
        if (e - s < 5) throw Bin.corrupt(path + ": decimal of " + (e - s)
            + " bytes (expected: >= 5)");
        int scale = seg.get(Bin.INT, s);
        return new BigDecimal(new BigInteger(Bin.bytes(seg, s + 4, e)), scale);
    }

    private static Key<?> key(MemorySegment seg, long s, long e, String path) {
        if (e - s < 9) throw Bin.corrupt(path + ": key of " + (e - s) + " bytes (expected: >= 9)");
        try {
            return new Key<>(Bin.string(seg, s + 8, e), seg.get(Bin.INT, s), seg.get(Bin.INT, s
                + 4));
        } catch (IllegalArgumentException ex) {
            throw Bin.corrupt(path + ": " + ex.getMessage());
        }
    }

    /** Writes one scalar item; {@code value} must be of the kind's Java type (boxed). */
    static void write(Kind kind, Object value, Sink sink, String path) {
        try {
            switch (kind) {
                case BOOLEAN -> sink.putByte((Boolean) value ? 1 : 0);
                case BYTE -> sink.putByte((Byte) value);
                case SHORT -> sink.putShort((Short) value);
                case CHAR -> sink.putShort((Character) value);
                case INT -> sink.putInt((Integer) value);
                case LONG -> sink.putLong((Long) value);
                case FLOAT -> sink.putInt(Float.floatToRawIntBits((Float) value));
                case DOUBLE -> sink.putLong(Double.doubleToRawLongBits((Double) value));
                case STRING -> sink.putUtf8((String) value, path);
                case BYTES -> sink.putBytes((byte[]) value);
                case UUID -> {
                    UUID u = (UUID) value;
                    sink.putLong(u.getMostSignificantBits());
                    sink.putLong(u.getLeastSignificantBits());
                }
                case INSTANT -> {
                    Instant i = (Instant) value;
                    sink.putLong(i.getEpochSecond());
                    sink.putInt(i.getNano());
                }
                case LOCAL_DATE -> sink.putLong(((LocalDate) value).toEpochDay());
                case BIG_DECIMAL -> {
                    BigDecimal d = (BigDecimal) value;
                    sink.putInt(d.scale());
                    sink.putBytes(d.unscaledValue().toByteArray());
                }
                case KEY -> {
                    Key<?> k = (Key<?>) value;
                    sink.putInt(k.id());
                    sink.putInt(k.revision());
                    sink.putUtf8(k.tree(), path);
                }
            }
        } catch (ClassCastException e) {
            throw new IllegalArgumentException(path + ": " + value.getClass().getName()
                + " (expected: a " + kind + " value)", e);
        }
    }

    /** The Java class of a kind's boxed values, for type checks of generic values. */
    static Class<?> boxClass(Kind kind) {
        return switch (kind) {
            case BOOLEAN -> Boolean.class;
            case BYTE -> Byte.class;
            case SHORT -> Short.class;
            case CHAR -> Character.class;
            case INT -> Integer.class;
            case LONG -> Long.class;
            case FLOAT -> Float.class;
            case DOUBLE -> Double.class;
            case STRING -> String.class;
            case BYTES -> byte[].class;
            case UUID -> UUID.class;
            case INSTANT -> Instant.class;
            case LOCAL_DATE -> LocalDate.class;
            case BIG_DECIMAL -> BigDecimal.class;
            case KEY -> Key.class;
        };
    }

    /** The neutral value of a kind: 0, false, "", empty byte[]; null for the others and boxes. */
    static Object neutral(FieldType.Scalar s) {
        if (s.boxed()) return null;
        return switch (s.kind()) {
            case BOOLEAN -> false;
            case BYTE -> (byte) 0;
            case SHORT -> (short) 0;
            case CHAR -> (char) 0;
            case INT -> 0;
            case LONG -> 0L;
            case FLOAT -> 0f;
            case DOUBLE -> 0d;
            case STRING -> "";
            case BYTES -> new byte[0];
            case BIG_DECIMAL -> BigDecimal.ZERO;
            case UUID, INSTANT, LOCAL_DATE, KEY -> null;
        };
    }
}
