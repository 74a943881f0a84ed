package dev.cairn.index;

import dev.cairn.Key;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * A unique name per record, compared through a {@link NameNormalizer}. A local change that would
 * give a name to a second record id is refused by {@link #check} before anything is stored, with a
 * {@link DuplicateNameException} naming the name and the key that holds it. The revisions of one
 * id (a versioned tree) share their name.
 *
 * <p>Changes from the sync server cannot be refused: the server stored them already. Two nodes
 * that were apart may each have made a record under one name; when the second arrives, both
 * records keep the name and {@link #duplicates()} lists it until one is renamed. A change that
 * keeps a record's name, or a new revision of an id that holds the name, is never refused, so
 * such records stay editable and revisable. A Released revision keeps the name it was released
 * with (it never changes), so its id holds that name even after a later revision is renamed.
 *
 * <p>Answers come from the last commit the index was given. A read of the tree after a lookup
 * is another snapshot: on a linked node a change from the server may land in between (the record
 * removed or renamed), so read it with {@code find} and check its name.
 *
 * <p>A local change whose name {@code nameOf} cannot give (it throws) is refused with that
 * exception. A stored record it cannot name (one from another node, or stored before the function
 * changed) is left out of the index, with a logged warning, rather than failing a commit of
 * changes from the sync server or a rebuild.
 *
 * <p>Invariants: {@code byName} and {@code byKey} are inverse; a name's keys have one id unless
 * the name is in {@link #duplicates()}.
 * Thread-safe: queries take the read lock; {@link #commit} and {@link #rebuild} swap in their
 * changes under the write lock, so a reader sees a transaction entirely or not at all. The
 * pending overlay is touched only by the tree's single writer.
 */
public final class UniqueNameIndex<V extends Record> implements Indexer<V> {
    private static final Comparator<Key<?>> KEY_ORDER =
        Comparator.<Key<?>>comparingInt(Key::id).thenComparingInt(Key::revision);

    private final String indexName;
    private final Function<? super V, String> nameOf;
    private final NameNormalizer normalizer;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private Map<String, List<Key<V>>> byName = new HashMap<>();
    private Map<Key<V>, String> byKey = new HashMap<>();
    private final Map<String, List<Key<V>>> pendingByName = new HashMap<>();
    private final Map<Key<V>, String> pendingByKey = new HashMap<>();

    /**
     * @param indexName  a name for messages, e.g. {@code "Part.name"}
     * @param nameOf     the name of a record; null or empty after normalisation = not indexed
     * @param normalizer how names compare
     */
    public UniqueNameIndex(String indexName, Function<? super V, String> nameOf, NameNormalizer normalizer) {
        this.indexName = Objects.requireNonNull(indexName, "indexName");
        this.nameOf = Objects.requireNonNull(nameOf, "nameOf");
        this.normalizer = Objects.requireNonNull(normalizer, "normalizer");
    }

    /** With {@link NameNormalizer#standard()}. */
    public UniqueNameIndex(String indexName, Function<? super V, String> nameOf) {
        this(indexName, nameOf, NameNormalizer.standard());
    }

    /**
     * The record holding {@code name} (compared normalised); its newest revision if several; the
     * highest id's if several ids hold it (see {@link #duplicates()}).
     */
    public Optional<Key<V>> lookup(String name) {
        String n = normal(name);
        if (n == null) return Optional.empty();
        lock.readLock().lock();
        try {
            List<Key<V>> keys = byName.get(n);
            return keys == null ? Optional.empty() : Optional.of(keys.getLast());
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Every normalised name with its keys (ascending), sorted by name: a copy. */
    public TreeMap<String, List<Key<V>>> entries() {
        lock.readLock().lock();
        try {
            TreeMap<String, List<Key<V>>> copy = new TreeMap<>();
            byName.forEach((n, keys) -> copy.put(n, List.copyOf(keys)));
            return copy;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The names held by more than one record id, with their keys (ascending): records made under
     * one name on two nodes while apart. Renaming all but one resolves each. A copy, sorted by name.
     */
    public TreeMap<String, List<Key<V>>> duplicates() {
        lock.readLock().lock();
        try {
            TreeMap<String, List<Key<V>>> copy = new TreeMap<>();
            byName.forEach((n, keys) -> {
                if (keys.getFirst().id() != keys.getLast().id()) copy.put(n, List.copyOf(keys));
            });
            return copy;
        } finally {
            lock.readLock().unlock();
        }
    }

    public int size() {
        lock.readLock().lock();
        try {
            return byName.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void check(Change<V> change) {
        Key<V> key = change.key();
        String newName = change.newValue() == null ? null : normal(nameOf.apply(change.newValue()));
        String oldName = nameOfKey(key);
        if (Objects.equals(oldName, newName)) return;
        if (newName != null) {
            List<Key<V>> owners = ownersOf(newName);
            // A revision of an id that holds the name already keeps it, as an edit does: such
            // records stay editable and revisable while the name is in duplicates().
            if (owners.stream().noneMatch(o -> o.id() == key.id()) && !owners.isEmpty()) {
                String refused = change.oldValue() == null && key.revision() == 0 ? "a new record of " + key.tree() : key.toString();
                Key<V> owner = owners.getFirst();
                throw new DuplicateNameException(indexName, nameOf.apply(change.newValue()), refused, owner,
                    pendingByKey.containsKey(owner));
            }
        }
        note(key, oldName, newName);
    }

    /** Notes in the pending overlay that {@code key} changes its name from {@code oldName} to {@code newName}. */
    private void note(Key<V> key, String oldName, String newName) {
        if (oldName != null) {
            List<Key<V>> keys = new ArrayList<>(ownersOf(oldName));
            keys.remove(key);
            pendingByName.put(oldName, keys);
        }
        if (newName != null) {
            List<Key<V>> keys = new ArrayList<>(ownersOf(newName));
            keys.add(key);
            keys.sort(KEY_ORDER);
            pendingByName.put(newName, keys);
        }
        pendingByKey.put(key, newName);
    }

    /**
     * Applies what {@link #check} noted. Changes that were not checked (from the sync server) are
     * applied without refusing any: a name may then be held by two ids.
     */
    @Override
    public void commit(List<Change<V>> changes) {
        // Changes check() did not see (from the sync server; locally a new revision or a change
        // of the state alone, which copy a stored value) are noted here, never refused.
        java.util.Set<Key<V>> checked = java.util.Set.copyOf(pendingByKey.keySet());
        NameFailures failures = new NameFailures(indexName);
        for (Change<V> c : changes) {
            if (checked.contains(c.key())) continue;
            String newName = c.newValue() == null ? null : storedName(c.key(), c.newValue(), failures);
            String oldName = nameOfKey(c.key());
            if (!Objects.equals(oldName, newName)) note(c.key(), oldName, newName);
        }
        failures.report("a commit of changes it did not check");
        lock.writeLock().lock();
        try {
            pendingByName.forEach((n, keys) -> {
                if (keys.isEmpty()) byName.remove(n);
                else byName.put(n, List.copyOf(keys));
            });
            pendingByKey.forEach((k, n) -> {
                if (n == null) byKey.remove(k);
                else byKey.put(k, n);
            });
        } finally {
            lock.writeLock().unlock();
        }
        abort();
    }

    @Override
    public void abort() {
        pendingByName.clear();
        pendingByKey.clear();
    }

    @Override
    public void rebuild(SequencedMap<Key<V>, V> records) {
        abort();
        Map<String, List<Key<V>>> names = new HashMap<>();
        Map<Key<V>, String> keys = new HashMap<>();
        NameFailures failures = new NameFailures(indexName);
        records.forEach((key, value) -> {
            String n = storedName(key, value, failures);
            if (n == null) return;
            // Several ids may hold a name here: sync stored them (see duplicates()).
            names.computeIfAbsent(n, x -> new ArrayList<>(1)).add(key);
            keys.put(key, n);
        });
        failures.report("a rebuild");
        names.replaceAll((n, list) -> {
            list.sort(KEY_ORDER);
            return List.copyOf(list);
        });
        lock.writeLock().lock();
        try {
            byName = names;
            byKey = keys;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Its kind and name, as log lines and messages name it: {@code UniqueNameIndex "Part.name"}.
     * Takes no lock: a message made while a commit holds the write lock does not wait for it.
     */
    @Override
    public String toString() {
        return "UniqueNameIndex \"" + indexName + "\"";
    }

    /** The normal name of a stored record, null when it has none or {@code nameOf} fails on it. */
    private String storedName(Key<V> key, V value, NameFailures failures) {
        try {
            return normal(nameOf.apply(value));
        } catch (RuntimeException e) {
            failures.add(key, e);
            return null;
        }
    }

    private String normal(String name) {
        String n = normalizer.normalize(name);
        return n == null || n.isEmpty() ? null : n;
    }

    private List<Key<V>> ownersOf(String name) {
        if (pendingByName.containsKey(name)) return pendingByName.get(name);
        lock.readLock().lock();
        try {
            return byName.getOrDefault(name, List.of());
        } finally {
            lock.readLock().unlock();
        }
    }

    private String nameOfKey(Key<V> key) {
        if (pendingByKey.containsKey(key)) return pendingByKey.get(key);
        lock.readLock().lock();
        try {
            return byKey.get(key);
        } finally {
            lock.readLock().unlock();
        }
    }
}
