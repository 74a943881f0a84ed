package dev.cairn.schema;

import dev.cairn.internal.Check;
import dev.cairn.schema.TypeDef.RecordDef;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A record read without its Java class: the view of stored data through the schema version
 * that wrote it. This is what a migration receives for the old version, what the inspector and
 * {@link JsonForm} work on, and how unknown components are carried over.
 *
 * <p>Component values: {@code Boolean, Byte, Short, Character, Integer, Long, Float, Double,
 * String, byte[], UUID, Instant, LocalDate, BigDecimal, Key}, {@link GenericEnum}, a nested
 * {@code GenericRecord} (also for a permitted record of a sealed interface, whose
 * {@link #typeName()} is the variant), {@link List}, {@link Set}, {@link Map}, {@link Optional},
 * or null. Instances are immutable (byte arrays excepted: do not modify them).
 *
 * {@snippet :
 * GenericRecord old = GenericRecord.decode(bytes, versions);
 * String name = (String) old.get("name");
 * long stock = ((Number) old.get("stock")).longValue();
 * }
 */
public final class GenericRecord {
    private final RecordDef definition;
    private final Object[] values;

    GenericRecord(RecordDef definition, Object[] values) {
        Check.that(values.length == definition.components().size(), "%d values for %d components",
            values.length, definition.components().size());
        this.definition = definition;
        this.values = values;
    }

    /**
     * Decodes stored bytes with the schema version that wrote them.
     *
     * @throws dev.cairn.CorruptionException when the bytes are damaged or name a version that
     *     {@code versions} lacks
     */
    public static GenericRecord decode(MemorySegment bytes, SchemaVersions versions) {
        Schema schema = Bin.writerSchema(bytes, versions);
        return GenericCodec.decodeRecord(schema, 0, bytes, Bin.HEADER_BYTES, bytes.byteSize(), 0,
            schema.name(), true);
    }

    /**
     * Decodes stored bytes and converts them to {@code target} by the evolution rules, as a class
     * of that version reads them (record-format.md §6): renamed components by their former
     * names, numbers widened, components {@code target} lacks left out, missing ones as their
     * defaults. For a form in one version of records of several (export).
     *
     * @throws dev.cairn.SchemaMismatchException when a value has no counterpart in {@code target}
     *     (an enum constant or union alternative it lacks, without a fallback)
     */
    public static GenericRecord decodeAs(MemorySegment bytes, SchemaVersions versions, Schema target) {
        Schema source = Bin.writerSchema(bytes, versions);
        GenericRecord value = decode(bytes, versions);
        if (source.equals(target)) return value;
        return (GenericRecord) new Convert(source, target, "").value(Schema.ROOT, Schema.ROOT, value, target.name(), 0);
    }

    /**
     * Decodes stored bytes as written with {@code schema}, whatever version number they carry
     * (a sync server checks what a client sends against the schema it named).
     *
     * @throws dev.cairn.CorruptionException when the bytes do not decode with {@code schema}
     */
    public static GenericRecord decode(MemorySegment bytes, Schema schema) {
        Bin.version(bytes);
        return GenericCodec.decodeRecord(schema, 0, bytes, Bin.HEADER_BYTES, bytes.byteSize(), 0,
            schema.name(), true);
    }

    /**
     * Checks that stored bytes decode with {@code schema} as {@link #decode(MemorySegment,
     * Schema)} does, without copying out their Strings and byte arrays: a sync server checks each
     * record a client sends, and one near 16 MiB was copied once more only to be dropped.
     *
     * @throws dev.cairn.CorruptionException when the bytes do not decode with {@code schema}
     */
    public static void check(MemorySegment bytes, Schema schema) {
        Bin.version(bytes);
        GenericCodec.decodeRecord(schema, 0, bytes, Bin.HEADER_BYTES, bytes.byteSize(), 0, schema.name(), false);
    }

    /** The record's definition name (for a sealed interface: the permitted record's name). */
    public String typeName() {
        return definition.name();
    }

    /** Component names in schema order. */
    public List<String> componentNames() {
        return definition.components().stream().map(Component::name).toList();
    }

    /** True when the record has a component of that name. */
    public boolean has(String componentName) {
        return definition.indexOf(componentName) >= 0;
    }

    /**
     * The value of one component (see the class comment for the types).
     *
     * @throws IllegalArgumentException when there is no component of that name
     */
    public Object get(String componentName) {
        int i = definition.indexOf(componentName);
        if (i < 0) {
            throw new IllegalArgumentException("no component '" + componentName + "' in "
                + definition.name()
                + " (expected: one of " + componentNames() + ")");
        }
        return values[i];
    }

    RecordDef definition() {
        return definition;
    }

    Object value(int index) {
        return values[index];
    }

    Object[] values() {
        return values;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenericRecord g && g.definition.name().equals(definition.name())
            && Arrays.deepEquals(g.values, values);
    }

    @Override
    public int hashCode() {
        return definition.name().hashCode() * 31 + Arrays.deepHashCode(values);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(definition.name()).append('[');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) b.append(", ");
            Object v = values[i];
            b.append(definition.components().get(i).name()).append('=')
                .append(v instanceof byte[] bytes ? Arrays.toString(bytes) : v);
        }
        return b.append(']').toString();
    }
}
