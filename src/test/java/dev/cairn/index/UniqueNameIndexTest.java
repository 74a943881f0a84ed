package dev.cairn.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UniqueNameIndexTest {
    record Item(String name) { }

    static Key<Item> key(int id, int revision) {
        return new Key<>("Item", id, revision);
    }

    final UniqueNameIndex<Item> index = new UniqueNameIndex<>("Item.name", Item::name);

    void put(Key<Item> key, Item old, Item now) {
        Indexer.Change<Item> c = new Indexer.Change<>(key, old, now);
        index.check(c);
        index.commit(List.of(c));
    }

    @Test
    void lookupNormalisesCaseIgnoredCharactersAndWhitespace() {
        put(key(1, 0), null, new Item("  Resistor-10K "));
        assertEquals(Optional.of(key(1, 0)), index.lookup("resistor 10k"));
        assertEquals(Optional.of(key(1, 0)), index.lookup("RESISTOR_10K"));
        assertEquals(Optional.empty(), index.lookup("resistor 10"));
    }

    @Test
    void duplicateIsRefusedNamingTheNameAndTheExistingKey() {
        put(key(1, 0), null, new Item("Bolt M6"));
        DuplicateNameException e = assertThrows(DuplicateNameException.class,
            () -> index.check(new Indexer.Change<>(key(2, 0), null, new Item("bolt-m6"))));
        // An insert: its would-be key goes to the next insert (a refusal takes no id), so the
        // message does not name it (probe 109).
        assertEquals("name 'bolt-m6' of a new record of Item is already used by Item/1.0 in unique index Item.name;"
            + " the change was not stored", e.getMessage());
        assertEquals(key(1, 0), e.existing());
        index.abort();
        assertEquals(1, index.size());
        put(key(2, 0), null, new Item("Nut"));
        e = assertThrows(DuplicateNameException.class,
            () -> index.check(new Indexer.Change<>(key(2, 0), new Item("Nut"), new Item("bolt-m6"))));
        assertTrue(e.getMessage().startsWith("name 'bolt-m6' of Item/2.0 is already used by Item/1.0"), e.getMessage());
        index.abort();
    }

    /** A long name is cut in the message, which counts its characters (code points), not chars. */
    @Test
    void aLongNameIsCutInTheMessageCountingCharacters() {
        String emoji = "\uD83D\uDE42".repeat(300);
        put(key(1, 0), null, new Item(emoji));
        DuplicateNameException e = assertThrows(DuplicateNameException.class,
            () -> index.check(new Indexer.Change<>(key(2, 0), null, new Item(emoji))));
        assertTrue(e.getMessage().startsWith("name '" + "\uD83D\uDE42".repeat(200) + "…' (300 characters) of"), e.getMessage());
        assertEquals(emoji, e.name());
        index.abort();
    }

    /**
     * The normal form follows the javadoc in every order of its steps (probe 109): whitespace
     * that an ignored character stood before is trimmed too; a case-insensitive normaliser
     * ignores an ignored letter in either case; a lone surrogate half in a name is not half of
     * an ignored character.
     */
    @Test
    void normalisingTrimsAfterRemovingIgnoresInEitherCaseAndKeepsLoneHalves() {
        NameNormalizer dashes = new NameNormalizer(true, "-", true);
        assertEquals("widget", dashes.normalize("widget -"));
        assertEquals("abc", dashes.normalize("- abc"));
        assertEquals("a b", dashes.normalize(" -a b- "), "inner whitespace stays");
        NameNormalizer x = new NameNormalizer(true, "x", false);
        assertEquals("a12", x.normalize("AX12"));
        assertEquals("a12", x.normalize("ax12"));
        assertEquals("a12", new NameNormalizer(true, "X", false).normalize("ax12"), "an upper-case ignored letter too");
        assertEquals("aX12", new NameNormalizer(false, "x", false).normalize("aX12"), "case-sensitive: only the case given");
        NameNormalizer smiley = new NameNormalizer(false, "\uD83D\uDE00", false);
        assertEquals("a\uD83Db", smiley.normalize("a\uD83Db"), "a lone high half stays");
        assertEquals("a\uDE00b", smiley.normalize("a\uDE00b"), "a lone low half stays");
        assertEquals("ab", smiley.normalize("a\uD83D\uDE00b"));
        assertEquals("r10k", NameNormalizer.standard().normalize(" R-10 k\t"));
        assertEquals(NameNormalizer.standard().normalize("Caf\u00e9"), NameNormalizer.standard().normalize("CAFE\u0301"),
            "composed and decomposed é are one name");
        assertEquals("cafe\u0301", new NameNormalizer(true, "", true, false).normalize("CAFE\u0301"), "unless canonical is off");
        assertEquals("CAFE\u0301", NameNormalizer.exact().normalize("CAFE\u0301"), "exact keeps what was written");
        UniqueNameIndex<Item> trimmed = new UniqueNameIndex<>("Item.name", Item::name, dashes);
        trimmed.check(new Indexer.Change<>(key(1, 0), null, new Item("Widget")));
        trimmed.commit(List.of());
        assertThrows(DuplicateNameException.class, () -> trimmed.check(new Indexer.Change<>(key(2, 0), null, new Item("widget -"))));
    }

    @Test
    void checkSeesEarlierChangesOfTheSameTransactionButReadersDoNot() {
        index.check(new Indexer.Change<>(key(1, 0), null, new Item("a")));
        assertEquals(Optional.empty(), index.lookup("a"));
        assertThrows(DuplicateNameException.class,
            () -> index.check(new Indexer.Change<>(key(2, 0), null, new Item("A"))));
        index.abort();
        index.check(new Indexer.Change<>(key(2, 0), null, new Item("A")));
        index.commit(List.of());
        assertEquals(Optional.of(key(2, 0)), index.lookup("a"));
    }

    @Test
    void renameFreesTheOldNameAndRemoveFreesItsName() {
        put(key(1, 0), null, new Item("x"));
        put(key(1, 0), new Item("x"), new Item("y"));
        assertEquals(Optional.empty(), index.lookup("x"));
        put(key(2, 0), null, new Item("x"));
        put(key(2, 0), new Item("x"), null);
        assertEquals(Optional.empty(), index.lookup("x"));
        assertEquals(Optional.of(key(1, 0)), index.lookup("y"));
    }

    @Test
    void revisionsOfOneIdShareTheirName() {
        put(key(1, 0), null, new Item("x"));
        put(key(1, 1), null, new Item("x"));
        assertEquals(Optional.of(key(1, 1)), index.lookup("x"));
        assertEquals(List.of(key(1, 0), key(1, 1)), index.entries().get("x"));
    }

    @Test
    void rebuildEqualsIncrementalStateAndListsDuplicates() {
        put(key(1, 0), null, new Item("a"));
        put(key(2, 0), null, new Item("b"));
        put(key(2, 0), new Item("b"), new Item("c"));
        LinkedHashMap<Key<Item>, Item> all = new LinkedHashMap<>();
        all.put(key(1, 0), new Item("a"));
        all.put(key(2, 0), new Item("c"));
        UniqueNameIndex<Item> rebuilt = new UniqueNameIndex<>("Item.name", Item::name);
        rebuilt.rebuild(all);
        assertEquals(index.entries(), rebuilt.entries());
        assertEquals(Map.of(), rebuilt.duplicates());
        all.put(key(3, 0), new Item("C"));
        rebuilt.rebuild(all);
        assertEquals(Map.of("c", List.of(key(2, 0), key(3, 0))), rebuilt.duplicates());
        assertEquals(Optional.of(key(3, 0)), rebuilt.lookup("c"));
    }

    /**
     * Changes from the sync server reach commit unchecked and cannot be refused: two nodes apart
     * made "Bolt" each. The name is then listed as a duplicate, each record can still be changed
     * under its name, a new holder is still refused, and a rename resolves it.
     */
    @Test
    void uncheckedChangesAreAppliedEvenWhenTheyShareANameUntilOneIsRenamed() {
        put(key(1, 0), null, new Item("Bolt"));
        index.commit(List.of(new Indexer.Change<>(key(2, 0), null, new Item("bolt"))));
        assertEquals(Map.of("bolt", List.of(key(1, 0), key(2, 0))), index.duplicates());
        assertEquals(Optional.of(key(2, 0)), index.lookup("BOLT"));
        put(key(1, 0), new Item("Bolt"), new Item("BOLT"));           // same normalised name: allowed
        put(key(1, 1), null, new Item("Bolt"));                       // a new revision of a holder: allowed (was refused)
        assertEquals(Map.of("bolt", List.of(key(1, 0), key(1, 1), key(2, 0))), index.duplicates());
        put(key(1, 1), new Item("Bolt"), null);
        assertThrows(DuplicateNameException.class,
            () -> index.check(new Indexer.Change<>(key(3, 0), null, new Item("bolt"))));
        index.abort();
        index.commit(List.of(new Indexer.Change<>(key(2, 0), new Item("bolt"), new Item("Bolt M6")),
            new Indexer.Change<>(key(4, 0), null, new Item("nut"))));
        assertEquals(Map.of(), index.duplicates());
        assertEquals(Optional.of(key(1, 0)), index.lookup("bolt"));
        assertEquals(Optional.of(key(2, 0)), index.lookup("bolt m6"));
        assertEquals(Optional.of(key(4, 0)), index.lookup("nut"));
        assertEquals(3, index.size());
    }

    @Test
    void exactNormalizerKeepsCaseAndBlankNamesAreNotIndexed() {
        UniqueNameIndex<Item> exact = new UniqueNameIndex<>("i", Item::name, NameNormalizer.exact());
        exact.check(new Indexer.Change<>(key(1, 0), null, new Item("A")));
        exact.check(new Indexer.Change<>(key(2, 0), null, new Item("a")));
        exact.check(new Indexer.Change<>(key(3, 0), null, new Item("")));
        exact.check(new Indexer.Change<>(key(4, 0), null, new Item(null)));
        exact.commit(List.of());
        assertEquals(2, exact.size());
    }

    /** Characters beyond U+FFFF (most emoji) are two chars each: ignored, or kept, whole. */
    @Test
    void ignoredCharactersBeyondTheBasicPlaneAreRemovedWholeAndOthersKeptWhole() {
        NameNormalizer n = new NameNormalizer(true, "\uD83D\uDD39\uD83E\uDD16", true); // 🔹 🤖
        assertEquals("ab", n.normalize("A\uD83D\uDD39B\uD83E\uDD16"));
        assertEquals("a\uD83D\uDE42", n.normalize("A\uD83D\uDE42"), "🙂 is not ignored: kept whole");
        assertEquals("a\uD83E\uDD42", n.normalize("A\uD83E\uDD42"), "🥂");
        assertEquals("a\uD83D\uDD42", n.normalize("A\uD83D\uDD42"), "🕂 shares its low half with 🥂 and stays apart from it");
        UniqueNameIndex<Item> tags = new UniqueNameIndex<>("Tag.name", Item::name, n);
        tags.check(new Indexer.Change<>(key(1, 0), null, new Item("A\uD83E\uDD42")));
        tags.check(new Indexer.Change<>(key(2, 0), null, new Item("A\uD83D\uDD42")));
        assertThrows(DuplicateNameException.class,
            () -> tags.check(new Indexer.Change<>(key(3, 0), null, new Item("a\uD83D\uDD39\uD83D\uDD42"))));
    }

    /**
     * A name function that fails on a record: a local change is refused with its exception; a
     * stored record (a commit from the server, a rebuild) is left out of the index and the rest is
     * applied, so a record from another node cannot stop the sync or the registration.
     */
    @Test
    void aRecordTheNameFunctionFailsOnIsRefusedLocallyAndLeftOutWhenStored() {
        UniqueNameIndex<Item> trimmed = new UniqueNameIndex<>("Item.name", item -> item.name().trim());
        Item bad = new Item(null);
        assertThrows(NullPointerException.class, () -> trimmed.check(new Indexer.Change<>(key(1, 0), null, bad)));
        trimmed.abort();
        trimmed.commit(List.of(new Indexer.Change<>(key(1, 0), null, new Item("A")), new Indexer.Change<>(key(2, 0), null, bad),
            new Indexer.Change<>(key(3, 0), null, new Item("C"))));
        assertEquals(List.of("a", "c"), List.copyOf(trimmed.entries().keySet()));
        trimmed.commit(List.of(new Indexer.Change<>(key(1, 0), new Item("A"), bad)));
        assertEquals(Optional.empty(), trimmed.lookup("a"), "a change to a name it cannot read frees the old name");
        Map<Key<Item>, Item> all = new LinkedHashMap<>();
        all.put(key(1, 0), bad);
        all.put(key(4, 0), new Item("D"));
        trimmed.rebuild(new LinkedHashMap<>(all));
        assertEquals(List.of("d"), List.copyOf(trimmed.entries().keySet()));
    }
}
