package dev.cairn.schema;

import dev.cairn.SchemaMismatchException;
import dev.cairn.internal.Check;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Encodes one record class to the record format and decodes data of any stored schema version
 * into it (record-format.md §3-§6). One per (class, tree).
 *
 * <ul>
 *   <li>Thread-safe. The evolution plan of each writer version is built on first use, under a
 *       lock, and then read without one; no reflection runs per record.
 *   <li>{@link #encode} is deterministic and tags the value with {@link #ownVersion()}.
 *   <li>{@link #decode} reads data of every version in the {@link SchemaVersions} it was given,
 *       including versions added after the codec was made.
 *   <li>The generated writer and readers are kept per class for the life of the process (see
 *       {@link Compiled}), so a database opened again, or a second tree of the same class, does
 *       not generate them again.
 * </ul>
 *
 * {@snippet :
 * SchemaVersions versions = new SchemaVersions();
 * versions.add(Schema.derive(Part.class));
 * RecordCodec<Part> codec = RecordCodec.of(Part.class, "Part", versions);
 * byte[] bytes = codec.encode(part);
 * Part again = codec.decode(MemorySegment.ofArray(bytes));
 * FieldPath stock = codec.field("stock");
 * int n = codec.getInt(MemorySegment.ofArray(bytes), stock);
 * }
 */
public final class RecordCodec<V extends Record> {
    private final Class<V> type;
    private final String tree;
    private final SchemaVersions versions;
    private final SchemaDeriver.Derived derived;
    private final int ownVersion;
    private final Writers.RecordWriter writer;
    private volatile RecordReader[] plans = new RecordReader[0];

    private RecordCodec(Class<V> type, String tree, SchemaVersions versions) {
        this.type = type;
        this.tree = tree;
        this.versions = versions;
        this.derived = SchemaDeriver.derived(type);
        this.ownVersion = versions.versionOf(derived.schema());
        if (ownVersion < 0) {
            throw new IllegalArgumentException("tree " + tree + ": the schema of " + type.getName()
                + " is not among its versions (expected: Evolution.check, then versions.add(schema))");
        }
        this.writer = COMPILED.get(type).writer(derived);
    }

    /**
     * The generated code of one record class: its writer (it depends on the class alone) and its
     * readers, one per (writer schema, message context); the context names tree and versions, so
     * a reader is shared only where its error messages would read the same.
     */
    private static final class Compiled {
        private volatile Writers.RecordWriter writer;
        private final ConcurrentHashMap<ReaderKey, RecordReader> readers = new ConcurrentHashMap<>();

        Writers.RecordWriter writer(SchemaDeriver.Derived derived) {
            Writers.RecordWriter w = writer;
            if (w == null) {
                synchronized (this) {
                    w = writer;
                    if (w == null) writer = w = new Writers(derived.schema(), derived.classes()).record(0, derived.schema().name());
                }
            }
            return w;
        }
    }

    private record ReaderKey(Schema writer, String context) { }

    private static final ClassValue<Compiled> COMPILED = new ClassValue<>() {
        @Override
        protected Compiled computeValue(Class<?> type) {
            return new Compiled();
        }
    };

    /**
     * The codec of {@code type} in {@code tree}, whose schema must already be one of
     * {@code versions}.
     *
     * @throws IllegalArgumentException when the type is not a supported record, or its schema is
     *     not in {@code versions}
     */
    public static <V extends Record> RecordCodec<V> of(Class<V> type, String tree,
        SchemaVersions versions) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(tree, "tree");
        Objects.requireNonNull(versions, "versions");
        return new RecordCodec<>(type, tree, versions);
    }

    /** The version number of this class's schema in the tree. */
    public int ownVersion() {
        return ownVersion;
    }

    public Schema schema() {
        return derived.schema();
    }

    public Class<V> type() {
        return type;
    }

    public String tree() {
        return tree;
    }

    public SchemaVersions versions() {
        return versions;
    }

    /**
     * Encodes {@code value} with this class's schema, tagged with {@link #ownVersion()}.
     *
     * @throws IllegalArgumentException when the value nests deeper than 100 levels or encodes to
     *     more than {@code Limits.VALUE_BYTES_MAX} bytes
     */
    public byte[] encode(V value) {
        Objects.requireNonNull(value, "value");
        Sink sink = Sink.acquire();
        try {
            sink.putByte(Bin.FORMAT_TAG);
            sink.putShort(ownVersion);
            try {
                writer.write(value, sink, 0);
            } catch (Writers.TooDeep e) {
                throw new IllegalArgumentException("tree " + tree + ": "
                    + e.from(derived.schema().name()).getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tree " + tree + ": " + e.getMessage(), e);
            }
            byte[] bytes = sink.toBytes();
            if (Check.expensiveOn()) {
                // Guarded so that the capturing lambda is not allocated on the fast path.
                Check.expensive(() -> Arrays.equals(bytes, reencoded(bytes)),
                    "encode disagrees with the generic codec");
            }
            return bytes;
        } finally {
            sink.release();
        }
    }

    /**
     * The generic codec's encoding of what the generic decoder reads from {@code bytes} (a
     * cross-check).
     */
    private byte[] reencoded(byte[] bytes) {
        GenericRecord g = GenericRecord.decode(MemorySegment.ofArray(bytes), versions);
        return GenericCodec.encodeValue(derived.schema(), ownVersion, g);
    }

    /**
     * {@link #encode} through the interpreted record writer, the reference for the compiled one
     * (tests).
     */
    byte[] encodeInterpreted(V value) {
        Sink sink = Sink.acquire();
        try {
            sink.putByte(Bin.FORMAT_TAG);
            sink.putShort(ownVersion);
            writer.writeSlowly(value, sink, 0);
            return sink.toBytes();
        } finally {
            sink.release();
        }
    }

    /**
     * Encodes {@code value} as an update of {@code previous}, losing nothing of either
     * (record-format.md §6.4). Version numbers are per database (a schema from the server is
     * numbered when it arrives), so which version is the newer one is read from the data:
     * <ul>
     *   <li>when this class's version holds everything {@code previous} has, it is
     *       {@link #encode};
     *   <li>else, when {@code previous}'s version holds everything this class wrote, the result
     *       is written with that version as a merge, keeping every component, constant and
     *       variant this class does not know, and every value it left unchanged, exactly as
     *       stored, inside collections, optionals and unions too (list elements by position,
     *       set elements by value, map entries by key);
     *   <li>else, or where the merge would have to guess (a change of a variant read through
     *       its fallback, an element holding unknown data moved, or edited in a list whose
     *       length changed, ...), either version would lose something:
     *       {@link SchemaMismatchException}, naming the component path and why where the merge
     *       refused, else the components each side has that the other lacks.
     * </ul>
     * Pass {@code previous = null} for an insert.
     */
    public byte[] encodeUpdate(V value, MemorySegment previous) {
        byte[] plain = encode(value);
        if (previous == null) return plain;
        int storedVersion = Bin.version(previous);
        if (storedVersion == ownVersion) return plain;
        Schema stored = versions.get(storedVersion);
        Schema own = derived.schema();
        // Version numbers are this database's own (a node numbers a schema as it arrives), so
        // each is named as such, next to the class, never as "older" or "newer".
        String context = "tree " + tree + ", update by " + type.getName() + " (this database's schema version "
            + ownVersion + ") of data in this database's schema version " + storedVersion + ": ";
        GenericRecord update = GenericRecord.decode(MemorySegment.ofArray(plain), versions);
        GenericRecord kept = GenericRecord.decode(previous, versions);
        Convert forward = new Convert(own, stored, context);
        Convert back = new Convert(stored, own, context);
        if (Convert.same(kept, seen(forward, seen(back, kept)))) return plain;
        GenericRecord merged;
        try {
            merged = (GenericRecord) forward.merge(Schema.ROOT, Schema.ROOT, update, kept, back, own.name(), 0);
        } catch (SchemaMismatchException doesNotFit) {
            merged = null;
        } catch (Convert.Refused r) {
            throw new SchemaMismatchException(context + r.getMessage() + "; the update would lose data of schema version "
                + storedVersion + " (expected: update it with a class that knows schema version " + storedVersion
                + "'s data)");
        }
        if (merged != null && Convert.same(update, seen(back, merged))) {
            return GenericCodec.encodeValue(stored, storedVersion, merged);
        }
        String packageName = type.getPackageName();
        String simpleName = type.getName().substring(packageName.isEmpty() ? 0 : packageName.length() + 1);
        String lost = UpdateLoss.describe(stored, kept, own, update, simpleName);
        if (lost == null) {
            lost = "the stored data has components, constants or variants this class does not know, and this class's"
                + " value does not fit schema version " + storedVersion;
        }
        throw new SchemaMismatchException(context + "each side lacks something of the other's data: " + lost
            + "; written in either version the update would lose data (expected: update it with a class that has both,"
            + " such as one that keeps a removed component beside the one that replaced it: record-format.md §6.4)");
    }

    /** {@code value} through {@code convert}, or null when it does not convert. */
    private static GenericRecord seen(Convert convert, GenericRecord value) {
        if (value == null) return null;
        try {
            return (GenericRecord) convert.value(Schema.ROOT, Schema.ROOT, value, "", 0);
        } catch (SchemaMismatchException e) {
            return null;
        }
    }

    /**
     * Decodes a value written by any version of the tree.
     *
     * @throws dev.cairn.CorruptionException when the bytes are damaged
     * @throws SchemaMismatchException when the data holds what this class cannot represent (an
     *     unknown enum constant or permitted record without a fallback, a number that does not
     *     fit), or its version is not evolvable to this class
     */
    @SuppressWarnings("unchecked")
    public V decode(MemorySegment bytes) {
        int version = Bin.version(bytes);
        try {
            return (V) plan(version).read(bytes, Bin.HEADER_BYTES, bytes.byteSize(), 0);
        } catch (SchemaMismatchException e) {
            throw located(bytes, version, e);
        }
    }

    /**
     * {@code e} naming where the value is. The typed readers are shared per record type, so
     * their messages name the path where the type was first met ({@code Rec.item.q} for a value
     * in {@code Rec.items[0].q}); the class-free conversion, which follows the value, finds the
     * same refusal with its path ({@code Rec.items[0].q}, {@code Rec.byName{big}.q},
     * {@code Rec.shapes[1]<Rect>.w}). Only on this failure path, so reads pay nothing for it.
     */
    private SchemaMismatchException located(MemorySegment bytes, int version, SchemaMismatchException e) {
        if (!versions.contains(version)) return e;
        try {
            GenericRecord stored = GenericRecord.decode(bytes, versions);
            new Convert(versions.get(version), derived.schema(), context(version))
                .value(Schema.ROOT, Schema.ROOT, stored, derived.schema().name(), 0);
        } catch (SchemaMismatchException exact) {
            return exact.getMessage().equals(e.getMessage()) ? e : new SchemaMismatchException(exact.getMessage(), e);
        } catch (RuntimeException other) {
            e.addSuppressed(other);
        }
        return e;
    }

    /** The writer's schema version of an encoded value. */
    public static int versionOf(MemorySegment bytes) {
        return Bin.version(bytes);
    }

    /**
     * Resolves a component path ("stock", "dims.width") against this class, for the zero-copy
     * getters.
     *
     * @throws IllegalArgumentException when a name is not a component, or a non-final step is not
     *     a nested record
     */
    public FieldPath field(String path) {
        return new FieldPath(this, path);
    }

    public int getInt(MemorySegment bytes, FieldPath f) {
        return f.getInt(bytes);
    }

    public long getLong(MemorySegment bytes, FieldPath f) {
        return f.getLong(bytes);
    }

    public double getDouble(MemorySegment bytes, FieldPath f) {
        return f.getDouble(bytes);
    }

    public boolean getBoolean(MemorySegment bytes, FieldPath f) {
        return f.getBoolean(bytes);
    }

    public String getString(MemorySegment bytes, FieldPath f) {
        return f.getString(bytes);
    }

    /** True when the string component equals {@code s}, compared on the UTF-8 bytes. */
    public boolean stringEquals(MemorySegment bytes, FieldPath f, String s) {
        return f.stringEquals(bytes, s);
    }

    SchemaDeriver.Derived derived() {
        return derived;
    }

    /** The reader of data written with {@code version}; built on first use. */
    RecordReader plan(int version) {
        RecordReader[] p = plans;
        if (version < p.length) {
            RecordReader r = p[version];
            if (r != null) return r;
        }
        return buildPlan(version);
    }

    private synchronized RecordReader buildPlan(int version) {
        RecordReader[] p = plans;
        if (version < p.length && p[version] != null) return p[version];
        if (!versions.contains(version)) {
            throw Bin.corrupt("tree " + tree + ": schema version " + version + " (expected: 1.."
                + versions.latestVersion() + ")");
        }
        RecordReader reader = COMPILED.get(type).readers.computeIfAbsent(
            new ReaderKey(versions.get(version), context(version)), k -> builder(version).root());
        RecordReader[] next = Arrays.copyOf(p, Math.max(p.length, version + 1));
        next[version] = reader;
        plans = next;
        return reader;
    }

    ReaderBuilder builder(int version) {
        return new ReaderBuilder(versions.get(version), derived.schema(), derived.classes(),
            context(version));
    }

    String context(int version) {
        return "tree " + tree + ", data of schema version " + version + " read by " + type.getName()
            + " (version "
            + ownVersion + "): ";
    }

    @Override
    public String toString() {
        return "RecordCodec[" + type.getName() + ", tree " + tree + ", version " + ownVersion + "]";
    }
}
