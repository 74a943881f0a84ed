package dev.cairn.db;

import dev.cairn.GenericTree;
import dev.cairn.Key;
import dev.cairn.RecordNotFoundException;
import dev.cairn.schema.JsonForm;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Objects;

/**
 * A tree by name, records as JSON, from the stored schemas alone: no record class is loaded.
 * Writes follow the same rules as the typed tree (pool ids, check-out, released = frozen) and
 * feed the same indexes and events.
 */
public final class GenericTreeImpl implements GenericTree {
    private final Database db;
    private final TreeState t;

    private GenericTreeImpl(Database db, TreeState t) {
        this.db = db;
        this.t = t;
    }

    /** @throws IllegalArgumentException naming the tree if the database has no such tree */
    public static GenericTreeImpl open(Database db, String name) {
        Objects.requireNonNull(name, "treeName");
        db.checkOpen();
        TreeState t = db.existingTree(name);
        if (t == null) {
            throw new IllegalArgumentException("no tree named '" + name + "' in " + db.directory()
                + " (trees: " + db.treeNames() + ")");
        }
        return new GenericTreeImpl(db, t);
    }

    private Key<Object> key(int id, int revision) {
        return new Key<>(t.name, id, revision);
    }

    @Override
    public String name() {
        return t.name;
    }

    @Override
    public List<Key<?>> keys() {
        return List.copyOf(db.readOrWrite(r -> Database.<Object>keys(r, t)));
    }

    @Override
    public String getJson(int id, int revision) {
        Key<Object> key = key(id, revision);
        return db.readOrWrite(r -> {
            MemorySegment v = r.get(t.dataTree, Layout.recordKey(id, revision));
            if (v == null) throw new RecordNotFoundException("record " + key + " not found in tree " + t.name);
            return JsonForm.toJson(RecordHeader.body(v), t.versions);
        });
    }

    @Override
    public Key<?> insertJson(String json) {
        Objects.requireNonNull(json, "json");
        byte[] body = JsonForm.fromJson(json, t.versions);
        SyncReplica.awaitIds(db, t, 1);
        return db.write(() -> db.insert(t, body), true);
    }

    @Override
    public void updateJson(int id, int revision, String json) {
        Key<Object> key = key(id, revision);
        Objects.requireNonNull(json, "json");
        byte[] body = JsonForm.fromJson(json, t.versions);
        db.write(() -> {
            db.update(t, key, old -> MemorySegment.ofArray(body));
            return null;
        }, true);
    }

    @Override
    public String schemaJson() {
        db.checkOpen();
        return t.versions.latest().toJson();
    }

    @Override
    public void checkOut(int id, int revision) {
        Key<Object> key = key(id, revision);
        db.write(() -> {
            db.checkOut(t, key);
            return null;
        }, true);
    }

    @Override
    public void checkIn(int id, int revision) {
        Key<Object> key = key(id, revision);
        db.write(() -> {
            db.checkIn(t, key);
            return null;
        }, true);
    }

    @Override
    public String toString() {
        return "GenericTree[" + t.name + "]";
    }
}
