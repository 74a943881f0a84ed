package dev.cairn.db;

import dev.cairn.GenericTree;
import dev.cairn.Key;
import dev.cairn.RecordState;
import dev.cairn.TransferRefusedException;
import dev.cairn.internal.Limits;
import dev.cairn.schema.JsonForm;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Imports rows into one tree in one transaction, keeping their exported keys when it can: in a
 * database that never linked (it chooses its own ids) when every row has a key and each id is
 * still in the tree's pool (never handed out here). Then every record is stored under its key,
 * revisions included, and every id up to the highest leaves the pool in the same transaction,
 * so that {@code Key} references to them in other trees still hold; no id above
 * {@link Limits#IMPORT_KEPT_ID_MAX} is kept, so an import never leaves a tree without ids to
 * insert with. Otherwise the rows get new ids from the pool (or, with {@code keepIds}, the
 * import is refused). Keys no tree like the target holds (a revision in a tree without
 * versions, a draft below a later revision) are refused whatever the ids.
 */
final class TreeImport {
    private TreeImport() { }

    static GenericTree.Imported run(Database db, TreeState t, String what, List<ImportRow> given, boolean keepIds,
                                    Runnable first) {
        if (keepIds && db.serverId != null) throw refusedKeeping(what, linked());
        refuseOtherTrees(what, t, given);
        List<ImportRow> rows = revisionsAsTheApiMakesThem(what, t, given);
        List<byte[]> bodies = bodies(t, rows);
        SyncReplica.awaitIds(db, t, rows.size());
        return db.write(() -> {
            first.run();
            String why = whyIdsCannotBeKept(db, t, rows);
            if (why == null) return keep(db, t, rows, bodies);
            if (keepIds) throw refusedKeeping(what, why);
            refuseRevisionsOfOneId(what, rows);
            List<Key<?>> keys = new ArrayList<>(rows.size());
            int renumbered = 0;
            for (int i = 0; i < rows.size(); i++) {
                Key<?> key = db.insert(t, bodies.get(i));
                applyState(db, t, key, rows.get(i));
                keys.add(key);
                ImportRow row = rows.get(i);
                if (row.keyed() && (row.id() != key.id() || row.revision() != key.revision())) renumbered++;
            }
            return new GenericTree.Imported(List.copyOf(keys), renumbered);
        }, true);
    }

    private static GenericTree.Imported keep(Database db, TreeState t, List<ImportRow> rows, List<byte[]> bodies) {
        // Every id up to the highest imported one leaves the pool, holes included: they are ids
        // the exporting database handed out to records since removed, and a Key to one of them
        // left in another tree must not come to name a new record.
        int highest = rows.stream().mapToInt(ImportRow::id).max().orElse(-1);
        if (highest >= 0) db.pool(t).takeBelow((int) Math.min((long) highest + 1, Integer.MAX_VALUE));
        List<Key<?>> keys = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Key<?> key = db.insertAt(t, rows.get(i).id(), rows.get(i).revision(), bodies.get(i));
            applyState(db, t, key, rows.get(i));
            keys.add(key);
        }
        return new GenericTree.Imported(List.copyOf(keys), 0);
    }

    /**
     * Gives a record the state its row was exported with (JSON lines of a versioned tree): its
     * number, and Released, so a released record's data stays frozen. A row without one keeps a
     * new record's Draft(0).
     */
    private static void applyState(Database db, TreeState t, Key<?> key, ImportRow row) {
        if (row.state() != null && !t.versioned) {
            throw new IllegalArgumentException(row.where() + " has state " + ImportRow.stateText(row.state()) + ", but tree "
                + t.name + " is not versioned, so its records have none (import into a versioned tree, or remove the"
                + " \"state\" members; nothing imported)");
        }
        switch (row.state()) {
            case null -> { }
            case RecordState.Draft d -> {
                if (d.number() != 0) db.setStateNumber(t, key, d.number());
            }
            case RecordState.Released r -> {
                if (r.number() != 0) db.setStateNumber(t, key, r.number());
                db.release(t, key);
            }
            case RecordState.NonVersioned n -> { }
        }
    }

    /**
     * A row whose key names another tree is an export of that tree: imported here, its records
     * would keep or take ids in the wrong tree, and Key references to them would not follow.
     */
    private static void refuseOtherTrees(String what, TreeState t, List<ImportRow> rows) {
        for (ImportRow row : rows) {
            if (row.tree() != null && !row.tree().equals(t.name)) {
                throw new TransferRefusedException(what + ": " + row.where() + " has the key " + row.tree() + "/" + row.id()
                    + "." + row.revision() + ", of tree " + row.tree() + ", not " + t.name + " (an export of another tree?"
                    + " To import its values as new records of " + t.name + ", give them as bare record objects, one a"
                    + " line; nothing imported)");
            }
        }
    }

    /**
     * Refuses keys no tree like {@code t} can hold, naming the row: a revision other than 0 in a
     * tree without versions, and, in a versioned tree, a Draft below a later revision of its id
     * in the rows ({@code newRevision} makes a revision of a released one only, so every revision
     * but the latest is released). Returns the rows with that state filled in where a row carries
     * none (SQL rows, JSON lines without {@code "state"}): Released(0) below a later revision of
     * its id, else none (a new record's Draft(0)).
     */
    private static List<ImportRow> revisionsAsTheApiMakesThem(String what, TreeState t, List<ImportRow> rows) {
        Map<Integer, ImportRow> latest = new java.util.HashMap<>();
        for (ImportRow row : rows) {
            if (!row.keyed()) continue;
            if (!t.versioned && row.revision() != 0) {
                throw new TransferRefusedException(what + ": " + row.where() + " has the key " + t.name + "/" + row.id()
                    + "." + row.revision() + ", but tree " + t.name + " is not versioned, so its records have revision 0"
                    + " only (an export of a versioned tree? nothing imported)");
            }
            latest.merge(row.id(), row, (a, b) -> a.revision() >= b.revision() ? a : b);
        }
        if (!t.versioned) return rows;
        List<ImportRow> stated = new ArrayList<>(rows.size());
        for (ImportRow row : rows) {
            ImportRow newer = row.keyed() ? latest.get(row.id()) : null;
            if (newer == null || newer.revision() == row.revision()) {
                stated.add(row);
            } else if (row.state() instanceof RecordState.Draft) {
                throw new TransferRefusedException(what + ": " + row.where() + " holds " + t.name + "/" + row.id() + "."
                    + row.revision() + " as " + ImportRow.stateText(row.state()) + ", but " + newer.where() + " holds a"
                    + " later revision of it, " + t.name + "/" + row.id() + "." + newer.revision() + ": only the latest"
                    + " revision of a record can be a draft (a new revision is made of a released one), so no tree"
                    + " holds these two (nothing imported)");
            } else {
                stated.add(row.state() != null ? row : new ImportRow(row.tree(), row.id(), row.revision(), row.json(),
                    row.where(), new RecordState.Released(0)));
            }
        }
        return stated;
    }

    /** Null when every row can keep its key, else why not. */
    private static String whyIdsCannotBeKept(Database db, TreeState t, List<ImportRow> rows) {
        if (db.serverId != null) return linked();
        KeyPool pool = db.pool(t);
        Set<Long> keys = new HashSet<>();
        for (ImportRow row : rows) {
            if (!row.keyed()) return row.where() + " has no key (a bare record object)";
            if (!keys.add(((long) row.id() << 32) | row.revision())) {
                return "key " + t.name + "/" + row.id() + "." + row.revision() + " comes twice";
            }
            if (row.id() > Limits.IMPORT_KEPT_ID_MAX) {
                return "id " + row.id() + " is above " + Limits.IMPORT_KEPT_ID_MAX + ", the highest id an import keeps:"
                    + " keeping it would take every id up to it, leaving tree " + t.name + " next to none to insert"
                    + " with (import without --keep-ids, and the records get new ids)";
            }
            if (!pool.contains(row.id())) {
                return "id " + row.id() + " was handed out in tree " + t.name + " already (a record holds it, or held it"
                    + " and was removed), so it is not free";
            }
        }
        return null;
    }

    private static String linked() {
        return "the database is linked to a server, which hands out its ids (ids are kept only in a database that"
            + " never linked)";
    }

    private static TransferRefusedException refusedKeeping(String what, String why) {
        return new TransferRefusedException(what + ": the records cannot keep their ids: " + why
            + "; keeping ids was asked for, so none got new ones (nothing imported)");
    }

    private static void refuseRevisionsOfOneId(String what, List<ImportRow> rows) {
        Map<Integer, List<Integer>> revisions = new TreeMap<>();
        for (ImportRow row : rows) {
            if (row.keyed()) revisions.computeIfAbsent(row.id(), id -> new ArrayList<>()).add(row.revision());
        }
        for (var e : revisions.entrySet()) {
            if (e.getValue().size() > 1) {
                throw new TransferRefusedException(what + ": the rows hold " + e.getValue().size() + " revisions "
                    + e.getValue() + " of record id " + e.getKey() + ", and the ids cannot be kept here, so every row"
                    + " would become a new record with an id of its own: separate records with the same data and name."
                    + " Keep one revision of each id, or import into a database that never linked (nothing imported)");
            }
        }
    }

    /** The rows encoded with the latest schema version; errors name the row. */
    private static List<byte[]> bodies(TreeState t, List<ImportRow> rows) {
        List<byte[]> bodies = new ArrayList<>(rows.size());
        for (ImportRow row : rows) {
            try {
                bodies.add(JsonForm.fromJson(row.json(), t.versions));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(row.where() + ": " + e.getMessage(), e);
            }
        }
        return bodies;
    }
}
