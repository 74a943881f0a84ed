package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.testing.ChildJvm;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database written by another program (a child JVM with its own record classes), read and
 * edited here as JSON without those classes; the other program then sees the edits.
 */
class GenericTreeTest {
    static final String PROGRAM = "dev.cairn.testing.WidgetProgram";

    @TempDir Path dir;

    record Plain(String name) { }

    /** A JSON line's state belongs to a versioned tree; into another it is refused, not dropped. */
    @Test
    void aStateIntoATreeWithoutVersionsIsRefusedAndNothingImported() {
        try (Cairn db = Cairn.open(dir)) {
            db.tree(Plain.class);
            GenericTree g = db.genericTree("Plain");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.importJsonLines(
                "{\"key\":\"Plain/0.0\",\"value\":{\"name\":\"a\"}}\n"
                    + "{\"key\":\"Plain/1.0\",\"state\":\"Released(2)\",\"value\":{\"name\":\"b\"}}", true));
            assertTrue(e.getMessage().startsWith("record 2 has state Released(2), but tree Plain is not versioned"), e.getMessage());
            assertEquals(java.util.List.of(), g.keys());
        }
    }

    @TreeSpec(name = "Supplier")
    record Supplier(String name) { }

    @TreeSpec(name = "Item")
    record Item(String name, Key<Supplier> supplier) { }

    /**
     * What record-format.md §2.1 and the inspector's help say of a class-free write of a Key: the
     * schema stores no target tree, so a key of another tree is stored; the application then
     * reads it, fails every update that keeps it, naming the component, and is unblocked by
     * an update that sets a key of the right tree.
     */
    @Test
    void aClassFreeWriteOfAKeyOfAnotherTreeBlocksTypedUpdatesUntilTheKeyIsSetRight() {
        try (Cairn db = Cairn.open(dir)) {
            Key<Supplier> acme = db.tree(Supplier.class).insert(new Supplier("acme"));
            Tree<Item> items = db.tree(Item.class);
            Key<Item> k = items.insert(new Item("bolt", acme));
            GenericTree g = db.genericTree("Item");
            g.checkOut(k.id(), k.revision()).join();
            g.updateJson(k.id(), k.revision(), "{\"supplier\":\"Nope/9.0\"}");
            Item read = items.get(k);
            assertEquals("Nope", read.supplier().tree());
            WrongTreeException e = assertThrows(WrongTreeException.class,
                () -> items.update(k, new Item("bolt renamed", read.supplier())));
            assertTrue(e.getMessage().startsWith("Item.supplier: key Nope/9.0 of tree Nope (expected: a key of tree Supplier"),
                e.getMessage());
            items.update(k, new Item("bolt renamed", acme));
            assertEquals(new Item("bolt renamed", acme), items.get(k));
        }
    }

    @Test
    void aTreeWrittenByAnotherProgramIsReadAndEditedAsJson() throws Exception {
        ChildJvm.run(PROGRAM, "write", dir.toString());
        Key<?> added;
        try (Cairn db = Cairn.open(dir)) {
            assertEquals(java.util.Set.of("Widget"), db.treeNames());
            GenericTree g = db.genericTree("Widget");
            assertEquals("Widget", g.name());
            List<Key<?>> keys = g.keys();
            assertEquals(2, keys.size());
            String first = g.getJson(keys.get(0).id(), 0);
            System.out.println(first);
            assertTrue(first.contains("blue-widget"), first);
            assertTrue(first.contains("BLUE"), first);
            assertTrue(first.contains("9007199254740993"), first);
            assertTrue(g.schemaJson().contains("labels"), g.schemaJson());

            String edited = first.replace("blue-widget", "red-widget").replace("BLUE", "RED");
            RecordNotFoundException missing = assertThrows(RecordNotFoundException.class, () -> g.getJson(99, 0));
            assertTrue(missing.getMessage().contains("Widget/99.0"), missing.getMessage());
            NotCheckedOutException notOut = assertThrows(NotCheckedOutException.class,
                () -> g.updateJson(keys.get(0).id(), 0, edited));
            assertTrue(notOut.getMessage().contains("Widget/" + keys.get(0).id() + ".0"), notOut.getMessage());
            g.checkOut(keys.get(0).id(), 0);
            g.updateJson(keys.get(0).id(), 0, edited);
            g.checkIn(keys.get(0).id(), 0);
            added = g.insertJson(edited.replace("red-widget", "json-widget"));
            assertEquals("Widget", added.tree());
            assertTrue(g.getJson(added.id(), 0).contains("json-widget"));
            assertThrows(RuntimeException.class, () -> g.insertJson("{ not json"));
            assertEquals(3, g.keys().size());
        }
        String printed = ChildJvm.run(PROGRAM, "print", dir.toString());
        System.out.println(printed);
        assertTrue(printed.contains("name=red-widget, color=RED"), printed);
        assertTrue(printed.contains(added + " Widget[name=json-widget"), printed);
        assertTrue(printed.contains("serial=9007199254740993"), printed);
        assertTrue(printed.contains("green-widget"), printed);
    }
}
