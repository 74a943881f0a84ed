package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.cairn.Key;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The server's check-out book ({@link ServerCheckOuts}, sync-protocol.md §5.4) against a plain
 * model: random check-outs, check-ins, administrator breaks and removals by a few clients on a
 * few records, committed in rounds. After each round a book loaded from the store must hold
 * exactly what the live one holds, so a server restart loses no holder, queue place or break.
 */
class ServerCheckOutsProperties {
    private static final UUID[] CLIENTS = {new UUID(1, 1), new UUID(2, 2), new UUID(3, 3)};

    /** One record in the model: its holder (null = free), its queue and the clients a break was taken from. */
    private static final class Model {
        UUID holder;
        final List<UUID> queue = new ArrayList<>();
        final Set<UUID> broken = new LinkedHashSet<>();

        void passOn() {
            holder = queue.isEmpty() ? null : queue.removeFirst();
        }
    }

    @Property(tries = 40)
    void theBookMatchesTheModelAndSurvivesARestart(@ForAll long seed) throws IOException {
        Random rnd = new Random(seed);
        Path dir = Files.createTempDirectory("cairn-checkouts");
        try (Store store = Store.open(dir)) {
            WriteTxn[] txn = {null};
            ServerCheckOuts book = new ServerCheckOuts(() -> txn[0], c -> "n" + c.getMostSignificantBits());
            List<Key<?>> keys = List.of(new Key<>("Part", 0, 0), new Key<>("Part", 1, 0), new Key<>("Bom", 0, 2));
            Map<Key<?>, Model> model = new HashMap<>();
            for (Key<?> k : keys) model.put(k, new Model());
            for (int round = 0; round < 30; round++) {
                txn[0] = store.beginWrite();
                for (String t : List.of(ServerCheckOuts.BORROWS, ServerCheckOuts.BROKEN)) {
                    if (!txn[0].hasTree(t)) txn[0].createTree(t);
                }
                for (int op = rnd.nextInt(1, 8); op > 0; op--) {
                    Key<?> k = keys.get(rnd.nextInt(keys.size()));
                    UUID c = CLIENTS[rnd.nextInt(CLIENTS.length)];
                    Model m = model.get(k);
                    String what = "round " + round + " on " + k + " by " + c.getMostSignificantBits();
                    switch (rnd.nextInt(10)) {
                        case 0, 1, 2, 3 -> {
                            m.broken.remove(c);
                            if (m.holder == null) {
                                m.holder = c;
                            } else if (!m.holder.equals(c) && !m.queue.contains(c)) {
                                m.queue.add(c);
                            }
                            assertBorrow(k, m, book.take(k, c), what + ": take");
                        }
                        case 4, 5, 6 -> {
                            m.broken.remove(c);
                            boolean none = m.holder == null && m.queue.isEmpty();
                            if (c.equals(m.holder)) {
                                m.passOn();
                            } else {
                                m.queue.remove(c);
                            }
                            Message.Borrow b = book.giveUp(k, c);
                            if (none) {
                                assertNull(b, what + ": give up of a record nobody holds");
                            } else {
                                assertBorrow(k, m, b, what + ": give up");
                            }
                        }
                        case 7, 8 -> {
                            Message.Borrow b = book.breakHolder(k);
                            if (m.holder == null) {
                                assertNull(b, what + ": break of a free record");
                            } else {
                                m.broken.add(m.holder);
                                m.passOn();
                                assertBorrow(k, m, b, what + ": break");
                            }
                        }
                        default -> {
                            boolean held = m.holder != null || !m.queue.isEmpty();
                            Message.Borrow b = book.removed(k);
                            if (held) {
                                assertEquals(Message.NONE, b.holder(), what + ": removal frees it");
                            } else {
                                assertNull(b, what + ": removal of a record nobody held");
                            }
                            model.put(k, new Model());
                        }
                    }
                }
                txn[0].commit();
                txn[0].close();
                txn[0] = null;
                ServerCheckOuts reloaded = new ServerCheckOuts(() -> txn[0], c -> "n" + c.getMostSignificantBits());
                try (var r = store.beginRead()) {
                    reloaded.load(r);
                }
                for (ServerCheckOuts b : List.of(book, reloaded)) {
                    String which = (b == book ? "live" : "reloaded") + " book after round " + round;
                    for (Key<?> k : keys) {
                        Model m = model.get(k);
                        ServerCore.CheckOutState s = b.of(k);
                        assertEquals(m.holder, s == null ? null : s.holder(), which + ": holder of " + k);
                        assertEquals(m.queue, s == null ? List.of() : s.queue(), which + ": queue of " + k);
                        for (UUID c : CLIENTS) {
                            assertEquals(m.broken.contains(c), b.brokenFrom(k, c), which + ": break of " + k + " from " + c);
                        }
                    }
                    assertEquals(book.all(), b.all(), which + ": all()");
                    for (UUID c : CLIENTS) {
                        assertEquals(Set.copyOf(book.snapshotFor(c, t -> true)), Set.copyOf(b.snapshotFor(c, t -> true)),
                            which + ": snapshot for " + c);
                    }
                }
            }
        } finally {
            TestFiles.deleteTree(dir);
        }
    }

    private static void assertBorrow(Key<?> k, Model m, Message.Borrow b, String what) {
        assertEquals(k, b.key(), what);
        assertEquals(m.holder == null ? Message.NONE : m.holder, b.holder(), what + ": holder");
        assertEquals(m.queue, b.queue(), what + ": queue");
        assertEquals(m.holder == null ? "" : "n" + m.holder.getMostSignificantBits(), b.holderName(), what + ": holder name");
    }
}
