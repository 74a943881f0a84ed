package dev.cairn.index;

import dev.cairn.Key;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedMap;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * Several names per record (aliases, supplier numbers, tags), searched with ranked exact and
 * loose hits. Names need not be unique. {@link #search} normalises the query and every name with
 * the index's {@link NameNormalizer} and ranks: {@code EXACT} (score 1) before {@code PREFIX}
 * (0.5–0.9, closer in length is better) before {@code SUBSTRING} (0.1–0.5); ties by key.
 *
 * <p>A local change whose names {@code namesOf} cannot give (it throws) is refused with that
 * exception; a stored record it cannot name (one from another node) has no names in the index,
 * with a logged warning, rather than failing a commit or a rebuild.
 *
 * <p>Invariant: {@code byKey} holds each record's current names; {@code byName} maps each
 * normalised name to the keys holding it, and is its inverse. Thread-safe: queries take the
 * read lock, {@link #commit} and {@link #rebuild} the write lock.
 */
public final class MultiNameIndex<V extends Record> implements Indexer<V> {
    private static final Comparator<Hit<?>> RANK = Comparator.<Hit<?>>comparingDouble(Hit::score).reversed()
        .thenComparingInt(h -> h.key().id()).thenComparingInt(h -> h.key().revision());

    private final String indexName;
    private final Function<? super V, ? extends Collection<String>> namesOf;
    private final NameNormalizer normalizer;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final TreeMap<String, Map<Key<V>, String>> byName = new TreeMap<>();
    private final Map<Key<V>, List<String>> byKey = new HashMap<>();

    /**
     * @param indexName  a name for messages, e.g. {@code "Part.search"}
     * @param namesOf    the names of a record
     * @param normalizer how names compare
     */
    public MultiNameIndex(String indexName, Function<? super V, ? extends Collection<String>> namesOf,
                          NameNormalizer normalizer) {
        this.indexName = Objects.requireNonNull(indexName, "indexName");
        this.namesOf = Objects.requireNonNull(namesOf, "namesOf");
        this.normalizer = Objects.requireNonNull(normalizer, "normalizer");
    }

    /** With {@link NameNormalizer#standard()}. */
    public MultiNameIndex(String indexName, Function<? super V, ? extends Collection<String>> namesOf) {
        this(indexName, namesOf, NameNormalizer.standard());
    }

    /** Without a name: messages call it "MultiNameIndex (unnamed)", next to its tree. */
    public MultiNameIndex(Function<? super V, ? extends Collection<String>> namesOf, NameNormalizer normalizer) {
        this.indexName = null;
        this.namesOf = Objects.requireNonNull(namesOf, "namesOf");
        this.normalizer = Objects.requireNonNull(normalizer, "normalizer");
    }

    /** Without a name, with {@link NameNormalizer#standard()}. */
    public MultiNameIndex(Function<? super V, ? extends Collection<String>> namesOf) {
        this(namesOf, NameNormalizer.standard());
    }

    /** Its kind and name, as log lines and messages name it: {@code MultiNameIndex "Part.search"}. */
    @Override
    public String toString() {
        return indexName == null ? "MultiNameIndex (unnamed)" : "MultiNameIndex \"" + indexName + "\"";
    }

    /** Every hit for {@code query}, best first. */
    public List<Hit<V>> search(String query) {
        return search(query, Integer.MAX_VALUE);
    }

    /** The best {@code limit} hits for {@code query}, best first; one hit per key (its best name). */
    public List<Hit<V>> search(String query, int limit) {
        if (limit < 0) throw new IllegalArgumentException("limit " + limit + " (expected: >= 0)");
        String q = normalizer.normalize(Objects.requireNonNull(query, "query"));
        if (q.isEmpty()) return List.of();
        Map<Key<V>, Hit<V>> best = new HashMap<>();
        lock.readLock().lock();
        try {
            byName.forEach((n, holders) -> {
                Hit.Match match = n.equals(q) ? Hit.Match.EXACT
                    : n.startsWith(q) ? Hit.Match.PREFIX : n.contains(q) ? Hit.Match.SUBSTRING : null;
                if (match == null) return;
                double closeness = (double) q.length() / n.length();
                double score = switch (match) {
                    case EXACT -> 1.0;
                    case PREFIX -> 0.5 + 0.4 * closeness;
                    case SUBSTRING -> 0.1 + 0.4 * closeness;
                };
                holders.forEach((key, original) -> {
                    Hit<V> old = best.get(key);
                    if (old == null || old.score() < score) best.put(key, new Hit<>(key, original, match, score));
                });
            });
        } finally {
            lock.readLock().unlock();
        }
        List<Hit<V>> hits = new ArrayList<>(best.values());
        hits.sort(RANK);
        return hits.size() > limit ? List.copyOf(hits.subList(0, limit)) : List.copyOf(hits);
    }

    /**
     * The names of a record as given, in the order the record gave them, without those that
     * normalise to the empty string (blank ones, say), which are not indexed.
     */
    public List<String> namesOf(Key<V> key) {
        lock.readLock().lock();
        try {
            return byKey.getOrDefault(key, List.of());
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Every normalised name with the keys holding it (ascending), sorted: a copy. */
    public TreeMap<String, List<Key<V>>> entries() {
        lock.readLock().lock();
        try {
            TreeMap<String, List<Key<V>>> copy = new TreeMap<>();
            byName.forEach((n, holders) -> {
                List<Key<V>> keys = new ArrayList<>(holders.keySet());
                keys.sort(Comparator.<Key<V>>comparingInt(Key::id).thenComparingInt(Key::revision));
                copy.put(n, List.copyOf(keys));
            });
            return copy;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public void check(Change<V> change) {
        // A local change whose names the function cannot give is refused, before it is stored.
        if (change.newValue() != null) namesOf.apply(change.newValue());
    }

    @Override
    public void commit(List<Change<V>> changes) {
        // Names first, outside the lock: a reader sees the whole commit or none of it.
        NameFailures failures = new NameFailures(toString());
        List<List<String>> names = new ArrayList<>(changes.size());
        for (Change<V> c : changes) names.add(c.newValue() == null ? List.of() : storedNames(c.key(), c.newValue(), failures));
        failures.report("a commit");
        lock.writeLock().lock();
        try {
            for (int i = 0; i < changes.size(); i++) {
                removeLocked(changes.get(i).key());
                addLocked(changes.get(i).key(), names.get(i));
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public void rebuild(SequencedMap<Key<V>, V> records) {
        NameFailures failures = new NameFailures(toString());
        Map<Key<V>, List<String>> names = new LinkedHashMap<>();
        records.forEach((key, value) -> names.put(key, storedNames(key, value, failures)));
        failures.report("a rebuild");
        lock.writeLock().lock();
        try {
            byName.clear();
            byKey.clear();
            names.forEach(this::addLocked);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The names of a stored record as given; none when {@code namesOf} gives null or fails on it. */
    private List<String> storedNames(Key<V> key, V value, NameFailures failures) {
        try {
            Collection<String> names = namesOf.apply(value);
            return names == null ? List.of() : new ArrayList<>(names);
        } catch (RuntimeException e) {
            failures.add(key, e);
            return List.of();
        }
    }

    private void addLocked(Key<V> key, List<String> names) {
        if (names.isEmpty()) return;
        List<String> kept = new ArrayList<>(names.size());
        for (String name : names) {
            String n = normalizer.normalize(name);
            if (n == null || n.isEmpty()) continue;
            Map<Key<V>, String> holders = byName.computeIfAbsent(n, x -> new LinkedHashMap<>());
            holders.putIfAbsent(key, name);
            kept.add(name);
        }
        if (!kept.isEmpty()) byKey.put(key, List.copyOf(kept));
    }

    private void removeLocked(Key<V> key) {
        List<String> names = byKey.remove(key);
        if (names == null) return;
        for (String name : names) {
            String n = normalizer.normalize(name);
            Map<Key<V>, String> holders = byName.get(n);
            if (holders == null) continue;
            holders.remove(key);
            if (holders.isEmpty()) byName.remove(n);
        }
    }
}
