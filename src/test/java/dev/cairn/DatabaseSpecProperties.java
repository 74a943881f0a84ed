package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.schema.SpecRecordDecoder;
import dev.cairn.store.SpecReader;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * A typed database read by the second readers alone: {@link SpecReader} (storage-format.md)
 * gives the store's trees, database-layout.md §1-§3 the catalog, schemas, data trees and record
 * headers, and {@link SpecRecordDecoder} (record-format.md) the records. After random inserts,
 * updates, releases, new revisions, state numbers and removals on a versioned and a plain tree,
 * what they read is what the typed API shows: every key, record, state, iteration, time, node
 * and user.
 */
class DatabaseSpecProperties {
    /** What the API shows of one record, and what the readers must find. */
    record Seen(Object record, int stateKind, int stateNumber, long created, long modified, long metaIteration,
                long dataIteration, UUID modifiedOn, String modifiedBy, int schemaVersion) { }

    @Property(tries = 12)
    void theSpecsReadTheTypedDatabase(@ForAll long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        Path dir = Files.createTempDirectory("cairn-db-spec");
        try {
            Map<String, TreeMap<String, Seen>> expected = new TreeMap<>();
            UUID nodeId;
            try (Cairn db = Cairn.open(dir, Cairn.Options.defaults().withUser(rnd.nextBoolean() ? "ann" : "Jürgen"))) {
                nodeId = db.nodeId();
                Tree<Doc> docs = db.tree(Doc.class);
                Tree<Part> parts = db.tree(Part.class);
                for (int i = 0, n = 5 + rnd.nextInt(40); i < n; i++) {
                    step(docs, new Doc("doc " + rnd.nextInt(100), rnd.nextInt()), rnd);
                    step(parts, new Part("P-" + rnd.nextInt(1000), "Acme", rnd.nextInt(), rnd.nextLong(),
                        List.of("smd", "t" + rnd.nextInt(5))), rnd);
                }
                expected.put("Doc", seen(docs, Doc.class));
                expected.put("Part", seen(parts, Part.class));
            }
            Map<String, TreeMap<String, String>> store = SpecReader.read(dir);
            assertEquals(nodeId, uuid(bytes(store.get("cairn.node").get(hex("nodeId"))), 0), "cairn.node nodeId");
            for (String tree : expected.keySet()) {
                assertEquals(true, store.get("cairn.catalog").containsKey(hex(tree)), "catalog entry of " + tree);
                assertEquals(expected.get(tree), read(store, tree), "tree " + tree);
            }
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    /** One random change of a record of {@code tree}, or an insert of {@code fresh}. */
    private static <V extends Record> void step(Tree<V> tree, V fresh, SplittableRandom rnd) {
        List<Key<V>> keys = tree.keys();
        if (keys.isEmpty() || rnd.nextInt(4) == 0) {
            tree.insert(fresh);
            return;
        }
        Key<V> k = keys.get(rnd.nextInt(keys.size()));
        boolean released = tree.meta(k).state() instanceof RecordState.Released;
        boolean versioned = !(tree.meta(k).state() instanceof RecordState.NonVersioned);
        switch (rnd.nextInt(5)) {
            case 0 -> {
                if (released) return;
                tree.checkOut(k).join();
                tree.update(k, fresh);
            }
            case 1 -> {
                if (versioned && !released) tree.release(k);
            }
            case 2 -> {
                boolean newer = keys.stream().anyMatch(x -> x.id() == k.id() && x.revision() > k.revision());
                if (released && !newer) tree.newRevision(k);
            }
            case 3 -> {
                if (versioned) tree.setStateNumber(k, rnd.nextInt(10));
            }
            default -> {
                if (released) return;
                tree.checkOut(k).join();
                tree.remove(k);
            }
        }
    }

    /** What the API shows of every record of {@code tree}, by "id.revision". */
    private static <V extends Record> TreeMap<String, Seen> seen(Tree<V> tree, Class<V> type) {
        TreeMap<String, Seen> out = new TreeMap<>();
        for (Key<V> k : tree.keys()) {
            RecordMeta m = tree.meta(k);
            int kind = switch (m.state()) {
                case RecordState.NonVersioned x -> 0;
                case RecordState.Draft x -> 1;
                case RecordState.Released x -> 2;
            };
            int number = switch (m.state()) {
                case RecordState.Draft d -> d.number();
                case RecordState.Released r -> r.number();
                default -> 0;
            };
            out.put(k.id() + "." + k.revision(), new Seen(SpecRecordDecoder.expected(tree.get(k), type), kind, number,
                m.created().toEpochMilli(), m.modified().toEpochMilli(), m.metaIteration(), m.dataIteration(),
                m.modifiedOn(), m.modifiedBy(), m.schemaVersion()));
        }
        return out;
    }

    /** §2-§3 of database-layout.md: the records of user tree {@code tree} as the store's trees hold them. */
    private static TreeMap<String, Seen> read(Map<String, TreeMap<String, String>> store, String tree) {
        // cairn.schemas: key name, 0x00, version:i32 (big-endian, §1), value Schema.toBytes().
        List<byte[]> schemas = new ArrayList<>();
        String prefix = hex(tree) + "00";
        store.get("cairn.schemas").forEach((k, v) -> {
            if (!k.startsWith(prefix) || k.length() != prefix.length() + 8) return;
            int version = ByteBuffer.wrap(bytes(k.substring(prefix.length()))).getInt();
            assertEquals(schemas.size() + 1, version, "schema versions of " + tree + " are dense from 1");
            schemas.add(bytes(v));
        });
        TreeMap<String, Seen> out = new TreeMap<>();
        store.get("data:" + tree).forEach((k, v) -> {
            ByteBuffer key = ByteBuffer.wrap(bytes(k));
            ByteBuffer value = ByteBuffer.wrap(bytes(v)); // big-endian, §1
            assertEquals(8, key.capacity(), "data key " + k);
            assertEquals(1, value.get(0), "header format of " + k);
            int userBytes = value.getShort(2) & 0xFFFF;
            byte[] record = new byte[value.capacity() - 56 - userBytes];
            value.get(56 + userBytes, record);
            byte[] user = new byte[userBytes];
            value.get(56, user);
            out.put(key.getInt(0) + "." + key.getInt(4), new Seen(SpecRecordDecoder.decode(record, schemas), value.get(1),
                value.getInt(4), value.getLong(8), value.getLong(16), value.getLong(24), value.getLong(32), uuid(value.array(), 40),
                new String(user, StandardCharsets.UTF_8), ByteBuffer.wrap(record).order(java.nio.ByteOrder.LITTLE_ENDIAN).getShort(1)));
        });
        return out;
    }

    private static UUID uuid(byte[] b, int at) {
        ByteBuffer in = ByteBuffer.wrap(b);
        return new UUID(in.getLong(at), in.getLong(at + 8));
    }

    private static String hex(String text) {
        return SpecReader.HEX.formatHex(text.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] bytes(String hex) {
        return SpecReader.HEX.parseHex(hex);
    }
}
