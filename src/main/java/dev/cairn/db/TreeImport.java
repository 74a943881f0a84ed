package dev.cairn.db;

import dev.cairn.GenericTree;
import dev.cairn.Key;
import dev.cairn.RecordState;
import dev.cairn.TransferRefusedException;
import dev.cairn.internal.Limits;
import dev.cairn.schema.JsonForm;
import java.util.ArrayList;
import java.util.List;

/**
 * Imports rows into one tree in one transaction, reading them twice from a file ({@link
 * ImportSource}): first to check and encode every row, keeping its key and state only, then
 * inside the transaction to store them, so that neither the file's text nor its records are all
 * held in memory (a source read once keeps the encoded records of the first reading). Keeps the
 * rows' exported keys when it can: in a database that never linked (it chooses its own ids)
 * when every row has a key and each id is still in the tree's pool (never handed out here).
 * Then every record is stored under its key, revisions included, and every id up to the highest
 * leaves the pool in the same transaction, so that {@code Key} references to them in other
 * trees still hold; no id above
 * {@link Limits#IMPORT_KEPT_ID_MAX} is kept, so an import never leaves a tree without ids to
 * insert with. Otherwise the rows get new ids from the pool (or, with {@code keepIds}, the
 * import is refused). Keys no tree like the target holds (a revision in a tree without
 * versions, a draft below a later revision) are refused whatever the ids.
 */
final class TreeImport {
    private TreeImport() { }

    /**
     * What the first reading keeps of a row: its key ({@link ImportRow#NO_KEY} for none) and the
     * state it carries (null: none), not its text or record, which the second reading reads again
     * (or {@code bodies} keeps, for a source read once).
     */
    private record Planned(int id, int revision, RecordState state) {
        boolean keyed() {
            return id != ImportRow.NO_KEY;
        }

        boolean sameAs(ImportRow row) {
            return row.id() == id && row.revision() == revision && java.util.Objects.equals(row.state(), state);
        }
    }

    /**
     * What an import stored: how many records, the keys in row order when asked for (null
     * otherwise: the command line needs the count only, and a list of every key grows with the
     * file), and how many rows that named a key were stored under another.
     */
    record Result(long records, List<Key<?>> keys, int renumbered) {
        GenericTree.Imported imported() {
            return new GenericTree.Imported(keys, renumbered);
        }
    }

    static Result run(Database db, TreeState t, String what, ImportSource source, boolean keepIds, boolean listKeys,
                      Runnable first) {
        return run(db, t, what, source, keepIds, listKeys, () -> { }, first);
    }

    /**
     * As {@link #run(Database, TreeState, String, ImportSource, boolean, boolean, Runnable)}, running
     * {@code atFirstRow} when the first reading meets the source's first row (not at all for a
     * source without rows), before the rest is read: a refusal there stores nothing and spares
     * reading the rest.
     */
    static Result run(Database db, TreeState t, String what, ImportSource source, boolean keepIds, boolean listKeys,
                      Runnable atFirstRow, Runnable first) {
        if (keepIds && db.serverId != null) throw refusedKeeping(what, linked());
        // First reading: every row checked and encoded (errors name it), only its key kept.
        boolean again = source.readTwice();
        List<Planned> rows = new ArrayList<>();
        List<byte[]> bodies = again ? null : new ArrayList<>();
        try (ImportSource.Rows read = source.open()) {
            for (ImportRow row; (row = read.next()) != null; ) {
                if (rows.isEmpty()) atFirstRow.run();
                refuseOtherTree(what, t, row);
                refuseRevisionWithoutVersions(what, t, row);
                byte[] body = body(t, row);
                rows.add(new Planned(row.id(), row.revision(), row.state()));
                if (bodies != null) bodies.add(body);
            }
        }
        refuseKeysTwice(what, t, rows, source);
        java.util.BitSet releasedBelow = revisionsAsTheApiMakesThem(what, t, rows, source);
        return SyncReplica.insertWithIds(db, t, rows.size(), () -> {
            first.run();
            String why = whyIdsCannotBeKept(db, t, rows, source);
            if (why == null) {
                // Every id up to the highest imported one leaves the pool, holes included: they are ids
                // the exporting database handed out to records since removed, and a Key to one of them
                // left in another tree must not come to name a new record.
                int highest = rows.stream().mapToInt(Planned::id).max().orElse(-1);
                if (highest >= 0) db.pool(t).takeBelow((int) Math.min((long) highest + 1, Integer.MAX_VALUE));
            } else {
                if (keepIds) throw refusedKeeping(what, why);
                refuseRevisionsOfOneId(what, rows, why, db.serverId != null);
            }
            List<Key<?>> keys = listKeys ? new ArrayList<>(rows.size()) : null;
            int renumbered = 0;
            // Second reading (or the records kept from the first): stored, in row order.
            try (ImportSource.Rows read = again ? source.open() : null) {
                for (int i = 0; i < rows.size(); i++) {
                    Planned row = rows.get(i);
                    byte[] body;
                    if (read == null) {
                        body = bodies.set(i, null); // stored now: the transaction's page holds it
                    } else {
                        ImportRow reread = read.next();
                        if (reread == null || !row.sameAs(reread)) throw changed(what, source, i, row);
                        body = body(t, reread);
                    }
                    Key<?> key = why == null ? db.insertAt(t, row.id(), row.revision(), body) : db.insert(t, body);
                    RecordState state = row.state() == null && releasedBelow.get(i) ? new RecordState.Released(0)
                        : row.state();
                    applyState(db, t, key, state, source.where(i, row.id(), row.revision()));
                    if (keys != null) keys.add(key);
                    if (row.keyed() && (row.id() != key.id() || row.revision() != key.revision())) renumbered++;
                }
                if (read != null && read.next() != null) throw changed(what, source, rows.size(), null);
            }
            return new Result(rows.size(), keys, renumbered);
        });
    }

    /** The source read differently the second time: it changed while it was imported. */
    private static IllegalStateException changed(String what, ImportSource source, int index, Planned row) {
        return new IllegalStateException(what + ": " + source.name() + " changed while it was imported (read again to"
            + " store it, " + (row == null ? "it holds more rows than before" : source.where(index, row.id(), row.revision())
                + " is not what it was") + "); nothing imported: import it again once nothing writes to it");
    }

    /**
     * Gives a record the state its row was exported with (JSON lines of a versioned tree): its
     * number, and Released, so a released record's data stays frozen. A row without one keeps a
     * new record's Draft(0).
     */
    private static void applyState(Database db, TreeState t, Key<?> key, RecordState state, String where) {
        if (state != null && !t.versioned) {
            throw new IllegalArgumentException(where + " has state " + ImportRow.stateText(state) + ", but tree "
                + t.name + " is not versioned, so its records have none (import into a versioned tree, or remove the"
                + " \"state\" members; nothing imported)");
        }
        switch (state) {
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
    private static void refuseOtherTree(String what, TreeState t, ImportRow row) {
        if (row.tree() != null && !row.tree().equals(t.name)) {
            throw new TransferRefusedException(what + ": " + row.where() + " has the key " + row.tree() + "/" + row.id()
                + "." + row.revision() + ", of tree " + row.tree() + ", not " + t.name + " (an export of another tree?"
                + " To import its values as new records of " + t.name + ", give them as bare record objects, one a"
                + " line; nothing imported)");
        }
    }

    /** A revision other than 0 in a tree without versions: no such tree holds it. */
    private static void refuseRevisionWithoutVersions(String what, TreeState t, ImportRow row) {
        if (row.keyed() && !t.versioned && row.revision() != 0) {
            throw new TransferRefusedException(what + ": " + row.where() + " has the key " + t.name + "/" + row.id()
                + "." + row.revision() + ", but tree " + t.name + " is not versioned, so its records have revision 0"
                + " only (an export of a versioned tree? nothing imported)");
        }
    }

    /** A row's key as one number, ordered as (id, revision) are (a JDBC table may hold negative ones). */
    private static long packed(Planned row) {
        return packed(row.id(), row.revision());
    }

    private static long packed(int id, int revision) {
        return ((long) id << 32) | ((revision ^ Integer.MIN_VALUE) & 0xffffffffL);
    }

    private static int revisionOf(long packed) {
        return (int) packed ^ Integer.MIN_VALUE;
    }

    /** The keys of the keyed rows, sorted: 8 bytes a row, where a map of boxed keys took tens. */
    private static long[] sortedKeys(List<Planned> rows) {
        long[] keys = rows.stream().filter(Planned::keyed).mapToLong(TreeImport::packed).toArray();
        java.util.Arrays.sort(keys);
        return keys;
    }

    /**
     * Refuses, in a versioned tree, a Draft below a later revision of its id in the rows ({@code
     * newRevision} makes a revision of a released one only, so every revision but the latest is
     * released), naming both rows. Returns the rows (by index) that carry no state (SQL rows,
     * JSON lines without {@code "state"}) and are below a later revision of their id: they are
     * imported as Released(0); the others without one as a new record (Draft(0)).
     */
    private static java.util.BitSet revisionsAsTheApiMakesThem(String what, TreeState t, List<Planned> rows,
                                                               ImportSource source) {
        java.util.BitSet released = new java.util.BitSet();
        if (!t.versioned) return released;
        long[] keys = sortedKeys(rows); // the last of each id's run holds its latest revision
        for (int i = 0; i < rows.size(); i++) {
            Planned row = rows.get(i);
            if (!row.keyed()) continue;
            int latest = latestRevision(keys, row.id());
            if (latest == row.revision()) continue;
            if (row.state() instanceof RecordState.Draft) {
                int newer = 0;
                while (rows.get(newer).id() != row.id() || rows.get(newer).revision() != latest) newer++;
                throw new TransferRefusedException(what + ": " + source.where(i, row.id(), row.revision()) + " holds "
                    + t.name + "/" + row.id() + "." + row.revision() + " as " + ImportRow.stateText(row.state()) + ", but "
                    + source.where(newer, row.id(), latest) + " holds a later revision of it, " + t.name + "/" + row.id()
                    + "." + latest + ": only the latest revision of a record can be a draft (a new revision is made of a"
                    + " released one), so no tree holds these two (nothing imported)");
            }
            if (row.state() == null) released.set(i);
        }
        return released;
    }

    /** The highest revision of {@code id} among the sorted {@code keys}, which hold it. */
    private static int latestRevision(long[] keys, int id) {
        int at = java.util.Arrays.binarySearch(keys, packed(id, Integer.MAX_VALUE));
        return revisionOf(keys[at >= 0 ? at : -at - 2]);
    }

    /** Null when every row can keep its key, else why not (for the first row, in order, that cannot). */
    private static String whyIdsCannotBeKept(Database db, TreeState t, List<Planned> rows, ImportSource source) {
        if (db.serverId != null) return linked();
        KeyPool pool = db.pool(t);
        for (int i = 0; i < rows.size(); i++) {
            Planned row = rows.get(i);
            if (!row.keyed()) return source.where(i, row.id(), row.revision()) + " has no key (a bare record object)";
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

    /**
     * Refuses one key in two rows, naming both (the first such key in row order): no tree holds
     * two records under one key, whether the ids are kept or not (not kept, the two would become
     * separate records with the same data and name).
     */
    private static void refuseKeysTwice(String what, TreeState t, List<Planned> rows, ImportSource source) {
        long[] keys = sortedKeys(rows);
        long[] twice = java.util.stream.IntStream.range(1, keys.length).filter(i -> keys[i] == keys[i - 1])
            .mapToLong(i -> keys[i]).distinct().toArray();
        if (twice.length == 0) return;
        java.util.Map<Long, Integer> first = new java.util.HashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            Planned row = rows.get(i);
            if (!row.keyed() || java.util.Arrays.binarySearch(twice, packed(row)) < 0) continue;
            Integer earlier = first.putIfAbsent(packed(row), i);
            if (earlier != null) {
                throw new TransferRefusedException(what + ": " + source.where(earlier, row.id(), row.revision()) + " and "
                    + source.where(i, row.id(), row.revision()) + " both hold the key " + t.name + "/" + row.id() + "."
                    + row.revision() + ", but a tree holds one record under a key: keep one of them (nothing imported)");
            }
        }
    }

    /**
     * Refuses, naming the lowest such id and its revisions in row order, rows holding two
     * revisions of one id where the ids are not kept ({@code why} says why not).
     */
    private static void refuseRevisionsOfOneId(String what, List<Planned> rows, String why, boolean linked) {
        long[] keys = sortedKeys(rows);
        for (int i = 1; i < keys.length; i++) {
            int id = (int) (keys[i] >>> 32);
            if (id != (int) (keys[i - 1] >>> 32)) continue;
            List<Integer> revisions = rows.stream().filter(r -> r.keyed() && r.id() == id).map(Planned::revision).toList();
            throw new TransferRefusedException(what + ": the rows hold " + revisions.size() + " revisions "
                + revisions + " of record id " + id + ", and the ids cannot be kept here (" + why + "), so every row"
                + " would become a new record with an id of its own: separate records with the same data and name."
                + " Keep one revision of each id" + (linked ? ", or import into a database that never linked" : "")
                + " (nothing imported)");
        }
    }

    /** The row encoded with the latest schema version; an error names the row. */
    private static byte[] body(TreeState t, ImportRow row) {
        try {
            return JsonForm.fromJson(row.json(), t.versions, row.origin());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(row.where() + ": " + e.getMessage(), e);
        }
    }
}
