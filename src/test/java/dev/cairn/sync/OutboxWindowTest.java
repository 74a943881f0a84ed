package dev.cairn.sync;

import static dev.cairn.sync.OutboxTest.pending;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The outbox window is bounded by bytes as well as by count (sync-protocol.md §4.1 step 3): a
 * node sends another change only while the values in flight total less than
 * {@link ClientSession#WINDOW_BYTES}, so one larger than that goes alone. Before, up to 256
 * changes went at once whatever their size, and a node with MB-sized records in its outbox ran
 * its link thread out of memory (probe 61).
 */
class OutboxWindowTest {
    private static final int MIB = 1 << 20;
    @TempDir Path dir;

    private static Database node(Path folder, String name) {
        return Database.open(folder, name, "u", SyncFixture.APP, 1 << 16);
    }

    /** A part whose name has {@code chars} ASCII characters (the record is about that many bytes), told apart by {@code i}. */
    private static Part big(int i, int chars) {
        return new Part("P" + i + "-" + "x".repeat(chars), "maker", i, i, List.of());
    }

    /** The Changes queued for the server since the last call, taken from {@code link.up}. */
    private static List<Message.Change> changesQueued(ManualLink link) {
        List<Message.Change> changes = new ArrayList<>();
        for (Message m : link.up) if (m instanceof Message.Change c) changes.add(c);
        return changes;
    }

    private static long valueBytes(List<Message.Change> changes) {
        return changes.stream().mapToLong(c -> c.value().length).sum();
    }

    @Test
    void changesInFlightStayUnderTheWindowsBytesPlusTheLastOne() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database a = node(dir.resolve("a"), "a");
             Database b = node(dir.resolve("b"), "b")) {
            SyncReplica ra = SyncReplica.install(a);
            TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
            ManualLink la = new ManualLink(core, ra);
            la.settle();
            List<Key<Part>> keys = new ArrayList<>();
            for (int i = 0; i < 12; i++) keys.add(parts.insert(big(i, MIB)));
            la.session.outboxChanged(); // what SyncClient does after a commit
            la.session.pump();

            List<Message.Change> first = changesQueued(la);
            long sent = valueBytes(first);
            long last = first.getLast().value().length;
            assertEquals(4, first.size(), "12 changes of 1 MiB: those until 4 MiB are in flight");
            assertTrue(sent >= ClientSession.WINDOW_BYTES && sent - last < ClientSession.WINDOW_BYTES,
                sent + " bytes in flight, the last " + last);
            assertEquals(sent, la.session.inFlightBytes());

            la.deliverUp();
            // The 4 Acks: once the third brings the bytes in flight to half the window, it fills
            // again (3 more, to 4 MiB), and the fourth leaves 3 in flight.
            la.deliverDown(Integer.MAX_VALUE);
            List<Message.Change> second = changesQueued(la);
            assertEquals(keys.subList(4, 7), second.stream().map(Message.Change::key).toList(), "oldest first");
            assertEquals(valueBytes(second), la.session.inFlightBytes());
            la.settle();
            assertEquals(List.of(), pending(ra), "all 12 sent and acknowledged");
            assertEquals(0, la.session.inFlightBytes());

            TreeImpl<Part> pb = TreeImpl.open(b, Part.class, null);
            ManualLink lb = new ManualLink(core, SyncReplica.install(b));
            // settle() stops when nothing is in flight; the catch-up of 1 MiB batches goes on.
            for (int i = 0; i < 20 && lb.session.state() != ClientSession.State.LIVE; i++) lb.settle();
            assertEquals(keys, pb.keys());
            for (int i = 0; i < keys.size(); i++) assertEquals(big(i, MIB), pb.get(keys.get(i)));
        }
    }

    @Test
    void aChangeLargerThanTheWindowGoesAloneAndTheNextAfterItsAck() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database a = node(dir.resolve("a"), "a")) {
            SyncReplica ra = SyncReplica.install(a);
            TreeImpl<Part> parts = TreeImpl.open(a, Part.class, null);
            ManualLink la = new ManualLink(core, ra);
            la.settle();
            int chars = (int) ClientSession.WINDOW_BYTES + MIB;
            Key<Part> k1 = parts.insert(big(1, chars));
            Key<Part> k2 = parts.insert(big(2, chars));
            la.session.outboxChanged();
            la.session.pump();
            assertEquals(List.of(k1), changesQueued(la).stream().map(Message.Change::key).toList());

            la.deliverUp();
            la.deliverDown(Integer.MAX_VALUE);
            assertEquals(List.of(k2), changesQueued(la).stream().map(Message.Change::key).toList());
            la.settle();
            assertEquals(List.of(), pending(ra));
        }
    }
}
