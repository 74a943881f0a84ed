package dev.cairn.db;

import dev.cairn.BorrowState;
import dev.cairn.FieldHandle;
import dev.cairn.Key;
import dev.cairn.Migration;
import dev.cairn.RecordMeta;
import dev.cairn.RecordNotFoundException;
import dev.cairn.RecordView;
import dev.cairn.SchemaMismatchException;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import dev.cairn.WrongTreeException;
import dev.cairn.index.Indexer;
import dev.cairn.schema.JsonForm;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SchemaVersions;
import dev.cairn.store.ReadTxn;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The typed view of one tree for one record class. Reads decode straight from the store
 * snapshot's mapped pages; writes go through {@link Database}'s single write batch.
 *
 * <p>Invariant: {@code codec} was made from the tree's current schema versions; it is remade
 * when another class adds a version to the same tree.
 */
public final class TreeImpl<V extends Record> implements Tree<V> {
    private final Database db;
    private final TreeState t;
    private final Class<V> type;
    private volatile Codec<V> codec;

    private record Codec<V extends Record>(SchemaVersions versions, RecordCodec<V> codec) { }

    private TreeImpl(Database db, TreeState t, Class<V> type) {
        this.db = db;
        this.t = t;
        this.type = type;
        this.codec = new Codec<>(t.versions, RecordCodec.of(type, t.name, t.versions));
        t.readers.add(codec.codec().schema());
    }

    /** The tree name a record class maps to: {@code @TreeSpec(name)} or its simple name. */
    public static String treeName(Class<?> type) {
        return Schema.treeNameOf(type);
    }

    /**
     * Opens or creates the tree of {@code type}. A schema change the evolution rules refuse
     * runs {@code migration} over every record in the same transaction that stores the new
     * schema version (or fails with {@code SchemaMismatchException} when it is null).
     */
    public static <V extends Record> TreeImpl<V> open(Database db, Class<V> type, Migration<V> migration) {
        Objects.requireNonNull(type, "type");
        if (!type.isRecord()) throw new IllegalArgumentException(type.getName() + " is not a record class");
        String name = treeName(type);
        TreeSpec spec = type.getAnnotation(TreeSpec.class);
        boolean versioned = spec != null && spec.versioned();
        Schema candidate;
        try {
            candidate = Schema.derive(type);
        } catch (IllegalArgumentException e) {
            // A record class Cairn cannot store (an unsupported component type, a map key that is
            // no scalar, a @DefaultValue that does not parse): a CairnException, as API.md's errors are.
            throw new SchemaMismatchException("tree " + name + ": record class " + type.getName() + " cannot be stored: "
                + e.getMessage(), e);
        }
        Database.MigrationStep step = migration == null ? null
            : (tree, versions, migrates, target) -> migrateRecords(db, tree, type, migration, versions, migrates, target);
        TreeState.ArrivalMigration arrival = migration == null ? null : new TreeState.ArrivalMigration() {
            private volatile Codec<V> codec;

            @Override
            public byte[] migrate(Key<?> key, MemorySegment oldBody, SchemaVersions versions) {
                Codec<V> c = codec;
                if (c == null || c.versions() != versions) codec = c = new Codec<>(versions, RecordCodec.of(type, name, versions));
                @SuppressWarnings("unchecked")
                Key<V> typed = (Key<V>) key;
                return encodeMigrated(migration, typed, JsonForm.toJson(oldBody, versions), c.codec());
            }
        };
        TreeState t = db.openTree(name, versioned, candidate, step, arrival);
        SyncReplica.awaitFirstIds(db, t);
        return new TreeImpl<>(db, t, type);
    }

    /**
     * The migration step of {@link #open}: every record whose version {@code migrates} selects
     * goes through {@code migration} into version {@code target}; returns the lowest version left.
     */
    private static <V extends Record> int migrateRecords(Database db, TreeState tree, Class<V> type, Migration<V> migration,
                                                         SchemaVersions versions, java.util.function.IntPredicate migrates,
                                                         int target) {
        RecordCodec<V> codec = RecordCodec.of(type, tree.name, versions);
        List<Key<V>> keys = new ArrayList<>();
        int[] lowest = {target};
        db.txn().forEach(tree.dataTree, (k, v) -> {
            Layout.checkRecordKey(k, tree.name);
            int version = RecordCodec.versionOf(RecordHeader.body(v));
            if (migrates.test(version)) {
                keys.add(new Key<>(tree.name, Layout.idOf(k), Layout.revisionOf(k)));
            } else {
                lowest[0] = Math.min(lowest[0], version);
            }
            return true;
        });
        migration.progress(0, keys.size());
        long done = 0;
        for (Key<V> key : keys) {
            MemorySegment stored = db.txn().get(tree.dataTree, recordKey(key));
            String oldJson = JsonForm.toJson(RecordHeader.body(stored), versions);
            byte[] migrated;
            try {
                migrated = encodeMigrated(migration, key, oldJson, codec);
            } catch (RuntimeException e) {
                // The application's code failed: named as on arrival (SyncReplica), not bare (probe 108).
                throw new SchemaMismatchException("tree " + tree.name + ": the migration failed on record " + key
                    + ", stored in schema version " + RecordCodec.versionOf(RecordHeader.body(stored)) + ": " + e
                    + " (nothing was changed; fix the migration)", e);
            }
            db.migrated(tree, key, migrated);
            migration.progress(++done, keys.size());
        }
        return lowest[0];
    }

    private static <V extends Record> byte[] encodeMigrated(Migration<V> migration, Key<V> key, String oldJson,
                                                            RecordCodec<V> codec) {
        return codec.encode(Objects.requireNonNull(migration.migrate(key, oldJson), "migration result for " + key));
    }

    private RecordCodec<V> codec() {
        Codec<V> c = codec;
        SchemaVersions now = t.versions;
        if (c.versions() != now) {
            c = new Codec<>(now, RecordCodec.of(type, t.name, now));
            codec = c;
        }
        return c.codec();
    }

    private Key<V> own(Key<V> key) {
        Objects.requireNonNull(key, "key");
        if (!key.tree().equals(t.name)) {
            throw new WrongTreeException("key " + key + " belongs to tree " + key.tree() + ", not to tree " + t.name);
        }
        return key;
    }

    private RecordNotFoundException notFound(Key<V> key) {
        return new RecordNotFoundException("record " + key + " not found in tree " + t.name);
    }

    private static byte[] recordKey(Key<?> key) {
        return Layout.recordKey(key.id(), key.revision());
    }

    @Override
    public String name() {
        return t.name;
    }

    @Override
    public boolean versioned() {
        return t.versioned;
    }

    public Class<V> type() {
        return type;
    }

    @Override
    public Key<V> insert(V value) {
        Objects.requireNonNull(value, "value");
        byte[] body = codec().encode(value);
        return SyncReplica.insertWithIds(db, t, 1, () -> db.<V>insert(t, body));
    }

    @Override
    public List<Key<V>> insertAll(List<? extends V> values) {
        Objects.requireNonNull(values, "values");
        RecordCodec<V> c = codec();
        List<byte[]> bodies = new ArrayList<>(values.size());
        for (V v : values) bodies.add(c.encode(Objects.requireNonNull(v, "value")));
        return SyncReplica.insertWithIds(db, t, bodies.size(), () -> {
            List<Key<V>> keys = new ArrayList<>(bodies.size());
            for (byte[] body : bodies) keys.add(db.insert(t, body));
            return keys;
        });
    }

    @Override
    public V get(Key<V> key) {
        own(key);
        return db.readOrWrite(r -> {
            MemorySegment v = r.get(t.dataTree, recordKey(key));
            if (v == null) throw notFound(key);
            return codec().decode(RecordHeader.body(v));
        });
    }

    @Override
    public Optional<V> find(Key<V> key) {
        own(key);
        return db.readOrWrite(r -> {
            MemorySegment v = r.get(t.dataTree, recordKey(key));
            return v == null ? Optional.empty() : Optional.of(codec().decode(RecordHeader.body(v)));
        });
    }

    @Override
    public boolean contains(Key<V> key) {
        own(key);
        return db.readOrWrite(r -> r.get(t.dataTree, recordKey(key)) != null);
    }

    @Override
    public void update(Key<V> key, V value) {
        own(key);
        Objects.requireNonNull(value, "value");
        RecordCodec<V> c = codec();
        db.write(() -> {
            db.update(t, key, old -> MemorySegment.ofArray(c.encodeUpdate(value, old)));
            return null;
        }, true);
    }

    @Override
    public void remove(Key<V> key) {
        own(key);
        db.write(() -> {
            db.remove(t, key);
            return null;
        }, true);
    }

    @Override
    public RecordMeta meta(Key<V> key) {
        own(key);
        return db.readOrWrite(r -> {
            MemorySegment v = r.get(t.dataTree, recordKey(key));
            if (v == null) throw notFound(key);
            return RecordHeader.meta(v, key);
        });
    }

    @Override
    public List<Key<V>> keys() {
        return db.readOrWrite(r -> Database.keys(r, t));
    }

    @Override
    public long size() {
        return db.readOrWrite(r -> r.count(t.dataTree));
    }

    @Override
    public Key<V> key(int id, int revision) {
        return new Key<>(t.name, id, revision);
    }

    @Override
    public FieldHandle field(String componentName) {
        Objects.requireNonNull(componentName, "componentName");
        db.checkOpen();
        try {
            return new FieldHandleImpl(t.name, componentName, codec().field(componentName), this);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("tree " + t.name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public <R> R read(Key<V> key, Function<RecordView, R> reader) {
        own(key);
        Objects.requireNonNull(reader, "reader");
        return db.readCallingBack(t, r -> {
            MemorySegment v = r.get(t.dataTree, recordKey(key));
            if (v == null) throw notFound(key);
            RecordViewImpl view = new RecordViewImpl(t.name, this, codec()).at(RecordHeader.body(v));
            try {
                return reader.apply(view);
            } finally {
                view.invalidate();
            }
        });
    }

    @Override
    public void scan(BiConsumer<Key<V>, RecordView> visitor) {
        Objects.requireNonNull(visitor, "visitor");
        db.readCallingBack(t, r -> {
            RecordViewImpl view = new RecordViewImpl(t.name, this, codec());
            try {
                r.forEach(t.dataTree, (k, v) -> {
                    visitor.accept(new Key<>(t.name, Layout.idOf(k), Layout.revisionOf(k)), view.at(RecordHeader.body(v)));
                    return true;
                });
            } finally {
                view.invalidate();
            }
            return null;
        });
    }

    @Override
    public void forEach(BiConsumer<Key<V>, V> visitor) {
        Objects.requireNonNull(visitor, "visitor");
        db.readCallingBack(t, r -> {
            forEachStored(r, visitor);
            return null;
        });
    }

    private void forEachStored(ReadTxn r, BiConsumer<Key<V>, V> visitor) {
        RecordCodec<V> c = codec();
        r.forEach(t.dataTree, (k, v) -> {
            Layout.checkRecordKey(k, t.name);
            visitor.accept(new Key<>(t.name, Layout.idOf(k), Layout.revisionOf(k)), c.decode(RecordHeader.body(v)));
            return true;
        });
    }

    @Override
    public void release(Key<V> key) {
        own(key);
        db.write(() -> {
            db.release(t, key);
            return null;
        }, true);
    }

    @Override
    public Key<V> newRevision(Key<V> released) {
        own(released);
        return db.write(() -> db.newRevision(t, released), true);
    }

    @Override
    public void setStateNumber(Key<V> key, int n) {
        own(key);
        db.write(() -> {
            db.setStateNumber(t, key, n);
            return null;
        }, true);
    }

    @Override
    public CompletableFuture<Void> checkOut(Key<V> key) {
        own(key);
        return db.requestCheckOut(t, key);
    }

    @Override
    public void checkIn(Key<V> key) {
        own(key);
        db.requestCheckIn(t, key);
    }

    @Override
    public BorrowState borrowState(Key<V> key) {
        own(key);
        return db.readOrWrite(r -> db.borrowState(r, t, key));
    }

    @Override
    public <I extends Indexer<V>> I register(I indexer) {
        Objects.requireNonNull(indexer, "indexer");
        TreeState.IndexBinding<V> binding = new TreeState.IndexBinding<>(t.name, indexer, this::codec);
        db.register(t, binding, r -> {
            // A record this class cannot read is left out, with a warning, as a commit does.
            SequencedMap<Key<V>, V> all = new LinkedHashMap<>();
            UnreadableRecords unreadable = new UnreadableRecords(t.name, indexer);
            RecordCodec<V> c = codec();
            r.forEach(t.dataTree, (k, v) -> {
                Layout.checkRecordKey(k, t.name);
                Key<V> key = new Key<>(t.name, Layout.idOf(k), Layout.revisionOf(k));
                try {
                    all.put(key, c.decode(RecordHeader.body(v)));
                } catch (SchemaMismatchException e) {
                    unreadable.add(key, e);
                }
                return true;
            });
            unreadable.report("a rebuild");
            return all;
        });
        return indexer;
    }

    @Override
    public String toString() {
        return "Tree[" + t.name + ", " + type.getName() + "]";
    }
}
