package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change whose Ack was lost is sent again on the next connection. When the server holds exactly
 * that record already, the retransmission is acknowledged with the sequence it has: before, every
 * retransmission took a new sequence and pushed the same record to every node again (found with
 * SyncSimulationTest, where a CREATED cut off three times was stored four times).
 */
class RetransmissionTest {
    @TempDir Path dir;

    /** A server core and two nodes a and b, each with its Part tree, linked and caught up. */
    private static final class TwoNodes implements AutoCloseable {
        final ServerCore core;
        final Database a;
        final Database b;
        final SyncReplica ra;
        final TreeImpl<Part> ta;
        final TreeImpl<Part> tb;
        final ManualLink la;
        final ManualLink lb;

        TwoNodes(Path dir) {
            core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
            a = Database.open(dir.resolve("a"), "a", "u", SyncFixture.APP, 1 << 16);
            b = Database.open(dir.resolve("b"), "b", "u", SyncFixture.APP, 1 << 16);
            ra = SyncReplica.install(a);
            SyncReplica rb = SyncReplica.install(b);
            ta = TreeImpl.open(a, Part.class, null);
            tb = TreeImpl.open(b, Part.class, null);
            la = new ManualLink(core, ra);
            lb = new ManualLink(core, rb);
            la.settle();
            lb.settle();
        }

        @Override
        public void close() {
            b.close();
            a.close();
            core.close();
        }
    }

    @Test
    void aChangeSentAgainAfterItsAckWasLostIsAcknowledgedWithoutANewVersion() {
        try (TwoNodes n = new TwoNodes(dir)) {
            ServerCore core = n.core;
            SyncReplica ra = n.ra;
            TreeImpl<Part> ta = n.ta;
            TreeImpl<Part> tb = n.tb;
            ManualLink la = n.la;
            ManualLink lb = n.lb;

            Key<Part> k = ta.insert(part(1));
            for (int attempt = 0; attempt < 3; attempt++) {
                la.session.outboxChanged();
                la.session.pump();
                la.deliverUp();     // the server stores it (or has it already) ...
                la.cut();           // ... and the Ack is lost
                la = new ManualLink(core, ra);
                la.deliverUp();     // Hello
                la.deliverDown(Integer.MAX_VALUE); // Welcome and the catch-up
            }
            la.settle();
            lb.settle();
            assertEquals(1, core.seq(), "one version, however often it was sent");
            long pushes = lb.received.stream().filter(m -> m instanceof Message.Pushed p && p.key().equals(k)).count();
            assertEquals(1, pushes, "the other node received it once");
            assertEquals(part(1), tb.get(k));
            assertEquals(0, ra.outbox(java.util.Set.of(), 10).size(), "the node's outbox is empty");
        }
    }

    /**
     * A removal whose Ack was lost is sent again: it is acknowledged without a new version.
     * Before, every retransmission stored another tombstone and pushed it to every node.
     */
    @Test
    void aRemovalSentAgainIsAcknowledgedWithoutANewVersion() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database a = Database.open(dir.resolve("a"), "a", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica ra = SyncReplica.install(a);
            TreeImpl<Part> ta = TreeImpl.open(a, Part.class, null);
            ManualLink la = new ManualLink(core, ra);
            la.settle();
            Key<Part> k = ta.insert(part(1));
            ta.checkOut(k);
            la.session.checkOut(k);
            la.settle();
            Key<Part> gone = ta.insert(part(2));
            ta.checkOut(gone);
            la.session.checkOut(gone);
            la.settle();
            long before = core.seq();

            ta.update(k, part(1).withStock(7));
            ta.checkIn(k);
            la.session.checkIn(k);
            ta.remove(gone);
            la.session.outboxChanged();
            la.session.pump();
            la.deliverUp();             // the change and the removal are stored ...
            la.session.onMessage(la.down.removeFirst()); // the change's Ack frees its check-in
            la.down.clear();            // ... the removal's Ack is lost
            la.session.pump();
            la.deliverUp();             // the check-in
            la.cut();
            assertEquals(before + 2, core.seq());

            la = new ManualLink(core, ra);
            la.settle();
            assertEquals(java.util.List.of(), la.received.stream().filter(m -> m instanceof Message.Refused).toList(),
                "nothing is refused");
            assertEquals(before + 2, core.seq(), "no new versions");
            assertEquals(part(1).withStock(7), ta.get(k));
            assertEquals(0, ra.outbox(java.util.Set.of(), 10).size(), "the node's outbox is empty");
        }
    }

    /**
     * An insert whose Ack was lost, changed on another node meanwhile, then sent again: the
     * server keeps the other node's change and says so in one message, so a cut right after it
     * cannot leave the node with its own version. Before, the server answered with an Ack (the
     * node dropped its outbox entry and kept its copy) followed by a Pushed of the stored record;
     * a cut between the two left the node with the inserted version for good, since its syncSeq
     * was past the record's sequence (SyncSimulationTest, seed 4020445975678994058).
     */
    @Test
    void anInsertSentAgainAfterAnotherNodeChangedItEndsAsTheServerHasItEvenIfCutAtTheAnswer() {
        try (TwoNodes n = new TwoNodes(dir)) {
            ServerCore core = n.core;
            SyncReplica ra = n.ra;
            TreeImpl<Part> ta = n.ta;
            TreeImpl<Part> tb = n.tb;
            ManualLink la = n.la;
            ManualLink lb = n.lb;
            java.util.List<dev.cairn.Event> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            n.a.events().subscribe(events::add, lost -> { });

            Key<Part> k = ta.insert(part(1));
            la.session.outboxChanged();
            la.session.pump();
            la.deliverUp();   // the server stores it ...
            la.cut();         // ... and the Ack is lost
            lb.settle();
            assertEquals(part(1), tb.get(k));
            tb.checkOut(k);
            lb.session.checkOut(k);
            lb.settle();
            tb.update(k, part(2));
            tb.checkIn(k);
            lb.session.checkIn(k);
            lb.settle();
            long stored = core.seq();

            // The node comes back, catches up (the record's new version is skipped: its own
            // change is pending) and sends its insert again; the link is cut right after the
            // server's answer to it.
            la = new ManualLink(core, ra);
            Message answer = null;
            for (int round = 0; round < 100 && answer == null; round++) {
                la.session.outboxChanged();
                la.session.pump();
                la.deliverUp();
                while (answer == null && !la.down.isEmpty()) {
                    la.deliverDown(1);
                    Message m = la.received.getLast();
                    if (m instanceof Message.Ack ack && ack.key().equals(k)
                        || m instanceof Message.Refused r && r.current().key().equals(k)) {
                        answer = m;
                    }
                }
            }
            org.junit.jupiter.api.Assertions.assertNotNull(answer, "the server answered the insert sent again");
            la.cut();
            assertEquals(stored, core.seq(), "the server stored nothing of it");
            assertEquals(part(2), ta.get(k), "the node has the server's record as soon as the answer is applied");

            la = new ManualLink(core, ra);
            la.settle();
            lb.settle();
            assertEquals(part(2), ta.get(k));
            assertEquals(part(2), tb.get(k));
            assertEquals(0, ra.outbox(java.util.Set.of(), 10).size(), "the node's outbox is empty");
            // Events come in order on a thread of their own: the other node's change, and no
            // refusal before it (the insert was made; the record changed later elsewhere).
            SyncFixture.await("the other node's change", () -> events.stream().anyMatch(e ->
                e instanceof dev.cairn.Event.RecordChanged c && c.key().equals(k) && c.remote()));
            assertEquals(java.util.List.of(), events.stream().filter(e -> e instanceof dev.cairn.Event.ChangeRefused).toList());
        }
    }

    /**
     * An insert whose Ack was lost, removed on another node meanwhile, then sent again: the
     * insert was made, so it is answered SUPERSEDED and the node removes its copy, with no
     * ChangeRefused and no warning to enter its data again (probe 125 F2: refused REMOVED, the
     * node told the user to bring back a record another user had removed).
     */
    @Test
    void anInsertSentAgainAfterAnotherNodeRemovedItIsSupersededNotRefused() {
        try (TwoNodes n = new TwoNodes(dir)) {
            ServerCore core = n.core;
            java.util.List<dev.cairn.Event> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            n.a.events().subscribe(events::add, lost -> { });

            Key<Part> k = n.ta.insert(part(1));
            n.la.session.outboxChanged();
            n.la.session.pump();
            n.la.deliverUp();   // the server stores it ...
            n.la.cut();         // ... and the Ack is lost
            n.lb.settle();
            assertEquals(part(1), n.tb.get(k));
            n.tb.checkOut(k);
            n.lb.session.checkOut(k);
            n.lb.settle();
            n.tb.remove(k);
            n.lb.session.outboxChanged();
            n.lb.settle();
            long stored = core.seq();

            ManualLink la = new ManualLink(core, n.ra);
            try (dev.cairn.testing.LogLines log = new dev.cairn.testing.LogLines(SyncReplica.class)) {
                la.settle();
                assertEquals(stored, core.seq(), "the server stored nothing of it");
                assertFalse(n.ta.contains(k), "the node removed its copy");
                assertEquals(0, n.ra.outbox(java.util.Set.of(), 10).size(), "the node's outbox is empty");
                assertTrue(la.received.stream().anyMatch(m -> m instanceof Message.Refused r && r.current().key().equals(k)
                    && r.code() == ErrorCode.SUPERSEDED && r.reason().equals("insert of " + k + " sent again: the server took"
                    + " it (its acknowledgement did not reach this node), and the record was removed since on another node;"
                    + " this node removes it too")), la.received.toString());
                SyncFixture.await("the removal told as a remote change", () -> events.stream().anyMatch(e ->
                    e instanceof dev.cairn.Event.RecordChanged c && c.key().equals(k) && c.remote()
                        && c.kind() == dev.cairn.ChangeKind.REMOVED));
                assertEquals(java.util.List.of(), events.stream().filter(e -> e instanceof dev.cairn.Event.ChangeRefused).toList());
                assertEquals(java.util.List.of(), log.containing("enter it again"), "no warning with the record's data");
            }
        }
    }
}
