package dev.cairn.schema;

import java.util.Objects;

/**
 * The type of one record component, a collection element, a map key or value, as stored in a
 * {@link Schema}. Records, enums and sealed interfaces are not inlined: they are {@link Ref}s to
 * the schema's table of {@link TypeDef}s, which is what makes recursive types finite.
 *
 * <p>Invariants: a {@link Scalar} is {@code boxed} only for the eight primitive kinds; a
 * {@link Ref} points inside its schema's definition table (record-format.md §2).
 */
public sealed interface FieldType {

    /** Scalar kinds; the ordinal + 1 is the schema binary tag (record-format.md §2.2). */
    enum Kind {
        BOOLEAN(1), BYTE(1), SHORT(2), CHAR(2), INT(4), LONG(8), FLOAT(4), DOUBLE(8),
        STRING(-1), BYTES(-1), UUID(16), INSTANT(12), LOCAL_DATE(8), BIG_DECIMAL(-1), KEY(-1);

        /** Encoded size in bytes, or -1 when variable. */
        final int width;

        Kind(int width) {
            this.width = width;
        }

        /** One of the eight primitive kinds. */
        public boolean primitive() {
            return ordinal() <= DOUBLE.ordinal();
        }

        boolean integral() {
            return this == BYTE || this == SHORT || this == INT || this == LONG;
        }
    }

    /** A value of one scalar kind; {@code boxed} marks {@code Integer} etc. (nullable). */
    record Scalar(Kind kind, boolean boxed) implements FieldType {
        public Scalar {
            Objects.requireNonNull(kind, "kind");
            if (boxed && !kind.primitive()) {
                throw new IllegalArgumentException("boxed " + kind
                    + " (expected: a primitive kind)");
            }
        }

        /** Stored in the fixed part of a record (a primitive that cannot be null). */
        public boolean fixed() {
            return kind.primitive() && !boxed;
        }
    }

    record ListOf(FieldType element) implements FieldType {
        public ListOf {
            Objects.requireNonNull(element, "element");
        }
    }

    record SetOf(FieldType element) implements FieldType {
        public SetOf {
            Objects.requireNonNull(element, "element");
        }
    }

    record MapOf(FieldType key, FieldType value) implements FieldType {
        public MapOf {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
        }
    }

    record OptionalOf(FieldType element) implements FieldType {
        public OptionalOf {
            Objects.requireNonNull(element, "element");
        }
    }

    /** A record, enum or sealed interface: index into {@link Schema#definitions()}. */
    record Ref(int definition) implements FieldType {
        public Ref {
            if (definition < 0) throw new IllegalArgumentException("definition " + definition
                + " (expected: >= 0)");
        }
    }

    /** True for types stored in the fixed part of a record body. */
    static boolean isFixed(FieldType type) {
        return type instanceof Scalar s && s.fixed();
    }
}
