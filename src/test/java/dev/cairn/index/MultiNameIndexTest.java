package dev.cairn.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.cairn.Key;
import java.util.LinkedHashMap;
import java.util.List;
import org.junit.jupiter.api.Test;

class MultiNameIndexTest {
    record Item(List<String> names) { }

    static Key<Item> key(int id) {
        return new Key<>("Item", id, 0);
    }

    final MultiNameIndex<Item> index = new MultiNameIndex<>(Item::names);

    void add(int id, String... names) {
        index.commit(List.of(new Indexer.Change<>(key(id), null, new Item(List.of(names)))));
    }

    @Test
    void searchRanksExactBeforePrefixBeforeSubstring() {
        add(1, "capacitor 10uF", "C10");
        add(2, "C10-X");
        add(3, "XC10");
        add(4, "c-10");
        add(5, "unrelated");
        List<Hit<Item>> hits = index.search("c10");
        assertEquals(List.of(key(1), key(4), key(2), key(3)), hits.stream().map(Hit::key).toList());
        assertEquals(Hit.Match.EXACT, hits.get(0).match());
        assertEquals("C10", hits.get(0).name());
        assertEquals(Hit.Match.PREFIX, hits.get(2).match());
        assertEquals(Hit.Match.SUBSTRING, hits.get(3).match());
        assertEquals(2, index.search("c10", 2).size());
        assertEquals(List.of(), index.search("   "));
        assertThrows(IllegalArgumentException.class, () -> index.search("x", -1));
    }

    @Test
    void closerPrefixRanksHigher() {
        add(1, "resistor-network-big");
        add(2, "resistors");
        assertEquals(List.of(key(2), key(1)), index.search("resistor").stream().map(Hit::key).toList());
    }

    @Test
    void updateReplacesNamesAndRemoveDropsThem() {
        add(1, "alpha", "beta");
        index.commit(List.of(new Indexer.Change<>(key(1), new Item(List.of("alpha", "beta")),
            new Item(List.of("gamma")))));
        assertEquals(List.of(), index.search("alpha"));
        assertEquals(List.of("gamma"), index.namesOf(key(1)));
        index.commit(List.of(new Indexer.Change<>(key(1), new Item(List.of("gamma")), null)));
        assertEquals(List.of(), index.search("gamma"));
        assertEquals(0, index.entries().size());
    }

    @Test
    void rebuildEqualsIncrementalState() {
        add(1, "a", "b");
        add(2, "b");
        LinkedHashMap<Key<Item>, Item> all = new LinkedHashMap<>();
        all.put(key(1), new Item(List.of("a", "b")));
        all.put(key(2), new Item(List.of("b")));
        MultiNameIndex<Item> rebuilt = new MultiNameIndex<>(Item::names);
        rebuilt.rebuild(all);
        assertEquals(index.entries(), rebuilt.entries());
    }

    /**
     * A names function that fails on a record: a local change is refused (check throws); a stored
     * record (a commit from the server, a rebuild) has no names, and the rest of the commit or
     * rebuild is applied.
     */
    @Test
    void aRecordTheNamesFunctionFailsOnIsRefusedLocallyAndLeftOutWhenStored() {
        MultiNameIndex<Item> picky = new MultiNameIndex<>(item -> item.names().stream().map(n -> n.substring(0, 2)).toList());
        Item bad = new Item(List.of("x"));
        assertThrows(StringIndexOutOfBoundsException.class, () -> picky.check(new Indexer.Change<>(key(1), null, bad)));
        picky.commit(List.of(new Indexer.Change<>(key(1), null, new Item(List.of("ab1"))),
            new Indexer.Change<>(key(2), null, bad), new Indexer.Change<>(key(3), null, new Item(List.of("cd3")))));
        assertEquals(List.of("ab", "cd"), List.copyOf(picky.entries().keySet()));
        assertEquals(List.of(), picky.namesOf(key(2)));
        picky.commit(List.of(new Indexer.Change<>(key(1), new Item(List.of("ab1")), bad)));
        assertEquals(List.of(), picky.namesOf(key(1)), "a change to a name it cannot read drops the old names");
        LinkedHashMap<Key<Item>, Item> all = new LinkedHashMap<>();
        all.put(key(1), bad);
        all.put(key(4), new Item(List.of("ef4")));
        picky.rebuild(all);
        assertEquals(List.of("ef"), List.copyOf(picky.entries().keySet()));
    }
}
