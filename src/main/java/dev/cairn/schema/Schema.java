package dev.cairn.schema;

import dev.cairn.schema.FieldType.Ref;
import dev.cairn.schema.TypeDef.RecordDef;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;

/**
 * The structure of a record type, as data: a table of named {@link TypeDef}s whose entry 0 is
 * the root record. Everything needed to decode, print or parse a record is in here; no Java
 * class is needed (record-format.md §2).
 *
 * <ul>
 *   <li>Immutable. Equal schemas have equal {@link #toBytes()} and {@link #fingerprint()};
 *       {@link #equals} compares the canonical bytes.
 *   <li>{@code fromBytes(s.toBytes())} equals {@code s}; {@code fromBytes} accepts only canonical
 *       bytes, so every schema has exactly one binary form.
 * </ul>
 *
 * {@snippet :
 * Schema schema = Schema.derive(Part.class);
 * byte[] stored = schema.toBytes();
 * Schema again = Schema.fromBytes(stored);   // equals schema, no class needed
 * }
 */
public final class Schema {
    private final List<TypeDef> definitions;
    private final byte[] bytes;
    private final long fingerprint;
    private final Layout[] layouts;

    Schema(List<TypeDef> definitions) {
        this.definitions = List.copyOf(definitions);
        SchemaFormat.validate(this.definitions);
        this.bytes = SchemaFormat.encode(this.definitions);
        this.fingerprint = fingerprintOf(bytes);
        this.layouts = new Layout[this.definitions.size()];
        for (int i = 0; i < layouts.length; i++) {
            if (this.definitions.get(i) instanceof RecordDef r) layouts[i] = new Layout(r);
        }
        SchemaFormat.validateDefaults(this);
    }

    /** The tree name a record class maps to: {@code @TreeSpec(name)} or its simple name. */
    public static String treeNameOf(Class<?> type) {
        dev.cairn.TreeSpec spec = type.getAnnotation(dev.cairn.TreeSpec.class);
        return spec != null && !spec.name().isEmpty() ? spec.name() : type.getSimpleName();
    }

    /**
     * Derives the schema of a record class by reflection; the result is cached per class.
     *
     * @throws IllegalArgumentException naming the class and the component path when a component
     *     has an unsupported type, or a {@code @DefaultValue} does not parse for its type
     */
    public static Schema derive(Class<? extends Record> type) {
        return SchemaDeriver.derived(type).schema();
    }

    /**
     * Decodes a schema from its canonical binary form.
     *
     * @throws dev.cairn.CorruptionException when the bytes are not a canonical schema
     */
    public static Schema fromBytes(byte[] bytes) {
        return SchemaFormat.decode(bytes);
    }

    /** The canonical binary form (a copy). */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** The canonical JSON form, for people and tools (record-format.md §2.3). */
    public String toJson() {
        return SchemaFormat.toJson(this);
    }

    /** First 8 bytes of the SHA-256 of {@link #toBytes()}, big-endian. */
    public long fingerprint() {
        return fingerprint;
    }

    /** The definition table; entry 0 is the root record. */
    public List<TypeDef> definitions() {
        return definitions;
    }

    /** The root record's definition. */
    public RecordDef root() {
        return (RecordDef) definitions.get(0);
    }

    /** The root record's name. */
    public String name() {
        return root().name();
    }

    TypeDef definition(FieldType.Ref ref) {
        return definitions.get(ref.definition());
    }

    RecordDef record(int definition) {
        return (RecordDef) definitions.get(definition);
    }

    /**
     * Whether a value of {@code type} may hold a {@code byte[]}, at any depth: Java compares
     * arrays by identity, so two such values with equal bytes stay two values (a set keeps both).
     */
    boolean holdsBytes(FieldType type) {
        return holdsBytes(type, new java.util.HashSet<>());
    }

    private boolean holdsBytes(FieldType type, java.util.Set<Integer> seen) {
        return switch (type) {
            case FieldType.Scalar s -> s.kind() == FieldType.Kind.BYTES;
            case FieldType.ListOf l -> holdsBytes(l.element(), seen);
            case FieldType.SetOf st -> holdsBytes(st.element(), seen);
            case FieldType.MapOf m -> holdsBytes(m.key(), seen) || holdsBytes(m.value(), seen);
            case FieldType.OptionalOf o -> holdsBytes(o.element(), seen);
            case FieldType.Ref r -> seen.add(r.definition()) && switch (definition(r)) {
                case RecordDef rd -> rd.components().stream().anyMatch(c -> holdsBytes(c.type(), seen));
                case TypeDef.UnionDef u -> u.variants().stream().anyMatch(v -> holdsBytes(new FieldType.Ref(v), seen));
                case TypeDef.EnumDef e -> false;
            };
        };
    }

    Layout layout(int definition) {
        return layouts[definition];
    }

    static final Ref ROOT = new Ref(0);

    @Override
    public boolean equals(Object o) {
        return o instanceof Schema s && s.fingerprint == fingerprint && Arrays.equals(s.bytes,
            bytes);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(fingerprint);
    }

    @Override
    public String toString() {
        return "Schema[" + name() + ", fingerprint " + Long.toHexString(fingerprint) + "]";
    }

    private static long fingerprintOf(byte[] bytes) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            long f = 0;
            for (int i = 0; i < 8; i++) f = (f << 8) | (d[i] & 0xFF);
            return f;
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("SHA-256 is required of every JDK", e);
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
