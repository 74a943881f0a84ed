package dev.cairn;

/**
 * Reads components of one stored record straight from the mapped page, without decoding the
 * rest (SPEC §2, zero-copy access). A view is valid only inside the
 * {@link Tree#read(Key, java.util.function.Function)} call that supplied it; using it later
 * throws {@link IllegalStateException}. A component the record's schema version lacks reads as
 * its neutral value.
 *
 * @throws IllegalArgumentException (every method) if the handle belongs to another tree or the
 *         component does not have a type the getter reads as a decode would (record-format.md
 *         §5: {@code getDouble} reads no {@code long}, which a double cannot hold exactly, and
 *         no number getter reads a {@code char})
 */
public interface RecordView {
    int getInt(FieldHandle f);

    long getLong(FieldHandle f);

    double getDouble(FieldHandle f);

    boolean getBoolean(FieldHandle f);

    String getString(FieldHandle f);

    /** True if the string component equals {@code s}; compares the bytes without building a String. */
    boolean stringEquals(FieldHandle f, String s);
}
