package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.RecordState;
import dev.cairn.Tree;
import dev.cairn.db.Database;
import dev.cairn.db.Layout;
import dev.cairn.db.LayoutCheck;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.testing.Fixtures.Doc;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change of a record's state alone (release, setStateNumber) needs no check-out, and the
 * server takes one only on the version it was made on (sync-protocol.md §5.1): from version 9
 * a Change names its base, the metaIteration of the server's version the node's pending change
 * was made on. Before, the server took any with a higher metaIteration, so a node that had
 * made more state changes offline overwrote another node's accepted one with no word to
 * anybody (probe 105: a lost update, 5 of 5 runs).
 */
@Timeout(120)
class StateChangeBaseTest {
    @TempDir Path dir;

    private final RecordCodec<Doc> docs = CoreConn.codec(Doc.class, "Doc");
    private final long fp = docs.schema().fingerprint();
    private final Message.SchemaDef def;
    /** The record bytes of the Doc most tests store. */
    private final byte[] body = docs.encode(new Doc("spec", 3));

    StateChangeBaseTest() {
        Schema s = Schema.derive(Doc.class);
        def = new Message.SchemaDef("Doc", true, s.fingerprint(), s.toBytes());
    }

    private record Conn(CoreConn conn, UUID id) {
        Conn(ServerCore core) {
            this(new CoreConn(core), UUID.randomUUID());
        }

        List<Message> send(Message... messages) {
            return conn.send(messages);
        }
    }

    /** A Doc record value with state {@code kind} and number {@code number}, iterations as given, made by {@code node}. */
    private static byte[] doc(int kind, int number, long meta, long data, UUID node, byte[] body) {
        byte[] v = CoreConn.recordValue(kind, meta, data, node, body);
        ByteBuffer.wrap(v).putInt(4, number); // stateNumber (database-layout.md §3)
        return v;
    }

    private static Message.Change change(long outboxSeq, Key<?> k, long fp, byte[] value, long base) {
        return new Message.Change(outboxSeq, k, Message.Kind.CHANGED, fp, value, base);
    }

    @Test
    void theServerTakesAStateChangeOnlyOnTheVersionItWasMadeOn() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn maker = new Conn(core);
            Conn a = new Conn(core);
            Conn b = new Conn(core);
            maker.conn.hello(maker.id, "maker");
            a.conn.hello(a.id, "a");
            b.conn.hello(b.id, "b");
            int id = CoreConn.last(Message.Keys.class, maker.send(new Message.NeedKeys("Doc"))).from();
            Key<?> k = new Key<>("Doc", id, 0);
            maker.send(def, new Message.CheckOut(k), new Message.Change(1, k, Message.Kind.CREATED, fp, doc(1, 0, 0, 0, maker.id, body)));
            a.send(def);
            b.send(def);
            assertEquals(1, core.seq());

            // b, on version 0: number 4. Taken.
            byte[] bs = doc(1, 4, 1, 0, b.id, body);
            assertInstanceOf(Message.Ack.class, b.send(change(1, k, fp, bs, 0)).getFirst());
            assertEquals(2, core.seq());
            // a made two state changes offline on version 0 (metaIteration 2): before version 9
            // taken for its higher metaIteration, and b's number was lost.
            Message.Refused stale = CoreConn.last(Message.Refused.class, a.send(change(1, k, fp, doc(1, 7, 2, 0, a.id, body), 0)));
            assertEquals(ErrorCode.CHANGED_SINCE, stale.code(), stale.reason());
            assertEquals(k + ": its state was changed by node 'b' since the version this node changed (a state change needs no"
                + " check-out, but one is taken only on the server's latest version); this node's change is refused and its"
                + " copy set to the server's", stale.reason());
            assertArrayEquals(bs, stale.current().value(), "a is sent the server's version, b's");
            assertEquals(2, core.seq(), "nothing stored");
            // A base above the stored metaIteration names a version the server never had.
            Message.Refused ahead = CoreConn.last(Message.Refused.class, a.send(change(2, k, fp, doc(1, 7, 5, 0, a.id, body), 3)));
            assertEquals(ErrorCode.CHANGED_SINCE, ahead.code(), ahead.reason());
            assertEquals(2, core.seq());

            // b's next change, on its own accepted version (base 1): taken. And one more whose
            // pending change began on version 0 (its first change accepted, the Ack lost, then a
            // second change made on top of it): b made the stored version, so it holds it.
            assertInstanceOf(Message.Ack.class, b.send(change(2, k, fp, doc(1, 5, 2, 0, b.id, body), 1)).getFirst());
            assertEquals(3, core.seq());
            assertInstanceOf(Message.Ack.class, b.send(change(3, k, fp, doc(1, 6, 3, 0, b.id, body), 0)).getFirst());
            assertEquals(4, core.seq());
            // a, on the latest version (3): taken.
            assertInstanceOf(Message.Ack.class, a.send(change(3, k, fp, doc(2, 6, 4, 0, a.id, body), 3)).getFirst());
            assertEquals(5, core.seq());
            // b's pending change from version 0 again: a made the stored version since, so refused.
            Message.Refused late = CoreConn.last(Message.Refused.class, b.send(change(4, k, fp, doc(1, 9, 5, 0, b.id, body), 0)));
            assertEquals(ErrorCode.CHANGED_SINCE, late.code(), late.reason());
            assertEquals(5, core.seq());

            // A Change without a base (an entry an older Cairn wrote, or a node of before
            // version 9) keeps the rule of before: ordered by metaIteration alone.
            assertInstanceOf(Message.Ack.class, b.send(new Message.Change(5, k, Message.Kind.CHANGED, fp,
                doc(2, 9, 5, 0, b.id, body))).getFirst());
            assertEquals(6, core.seq());
        }
    }

    /**
     * The holder of the check-out too: its change made on a version another node's state change
     * replaced since is refused CHANGED_SINCE (probe 106: the holder's offline state change or
     * data edit replaced an acknowledged state change on every node, nobody told). Without a
     * base (a node of before version 9) the holder's change is taken as before, but one above
     * the stored metaIteration, so that no two versions of the record share one.
     */
    @Test
    void theHoldersChangeTooIsTakenOnlyOnTheVersionItWasMadeOn() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn holder = new Conn(core);
            Conn c = new Conn(core);
            holder.conn.hello(holder.id, "holder");
            c.conn.hello(c.id, "c");
            int id = CoreConn.last(Message.Keys.class, holder.send(new Message.NeedKeys("Doc"))).from();
            Key<?> k = new Key<>("Doc", id, 0);
            holder.send(def, new Message.CheckOut(k), new Message.Change(1, k, Message.Kind.CREATED, fp, doc(1, 0, 0, 0, holder.id, body)));
            c.send(def);
            // c sets the state number on version 0; the holder edited offline on version 0.
            byte[] cs = doc(1, 5, 1, 0, c.id, body);
            assertInstanceOf(Message.Ack.class, c.send(change(1, k, fp, cs, 0)).getFirst());
            byte[] edited = doc(1, 0, 1, 1, holder.id, docs.encode(new Doc("spec, edited", 3)));
            Message.Refused r = CoreConn.last(Message.Refused.class, holder.send(change(2, k, fp, edited, 0)));
            assertEquals(ErrorCode.CHANGED_SINCE, r.code(), r.reason());
            assertEquals(k + " was changed by node 'c' since the version this node changed under its check-out (a change of"
                + " the state needs no check-out, and a change is taken only on the server's latest version); this node's"
                + " change is refused and its copy set to the server's", r.reason());
            assertArrayEquals(cs, r.current().value());
            assertEquals(2, core.seq());
            // Made again on the server's version (base 1): taken.
            byte[] again = doc(1, 5, 2, 1, holder.id, docs.encode(new Doc("spec, edited", 3)));
            assertInstanceOf(Message.Ack.class, holder.send(change(3, k, fp, again, 1)).getFirst());
            assertEquals(3, core.seq());

            // A holder of before version 9 (no base) with a stale change: taken as before, but at
            // metaIteration 4, above the stored 3 (c's change), not at the 2 it sent.
            assertInstanceOf(Message.Ack.class, c.send(change(2, k, fp, doc(1, 6, 3, 1, c.id, docs.encode(new Doc("spec, edited", 3))), 2)).getFirst());
            byte[] stale = doc(1, 7, 2, 1, holder.id, docs.encode(new Doc("spec, edited", 3)));
            List<Message> answer = holder.send(new Message.Change(4, k, Message.Kind.CHANGED, fp, stale));
            assertEquals(5, CoreConn.last(Message.Ack.class, answer).serverSeq());
            byte[] stored = CoreConn.last(Message.Pushed.class, answer).value();
            assertEquals(4, dev.cairn.sync.Bytes.metaIteration(stored), "sent back with the metaIteration stored");
            assertEquals(7, ByteBuffer.wrap(stored).getInt(4), "its state number as sent");
        }
    }

    /**
     * An insert whose Ack was lost, sent again with the node's later changes after another node
     * changed the record: CHANGED_SINCE, so that the node tells the application of the changes
     * dropped (probe 106: SUPERSEDED, and they vanished with no event and no warning).
     */
    @Test
    void anInsertSentAgainWithLaterChangesAfterTheRecordChangedIsChangedSince() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn a = new Conn(core);
            Conn c = new Conn(core);
            a.conn.hello(a.id, "a");
            c.conn.hello(c.id, "c");
            int id = CoreConn.last(Message.Keys.class, a.send(new Message.NeedKeys("Doc"))).from();
            Key<?> k = new Key<>("Doc", id, 0);
            assertInstanceOf(Message.Ack.class, a.send(def, new Message.Change(1, k, Message.Kind.CREATED, fp,
                doc(1, 0, 0, 0, a.id, body))).get(0));
            c.send(def);
            assertInstanceOf(Message.Ack.class, c.send(change(1, k, fp, doc(1, 5, 1, 0, c.id, body), 0)).getFirst());
            // a's entry stayed CREATED (its Ack lost) and holds its two state changes since.
            Message.Refused r = CoreConn.last(Message.Refused.class, a.send(new Message.Change(2, k, Message.Kind.CREATED, fp,
                doc(1, 8, 2, 0, a.id, body))));
            assertEquals(ErrorCode.CHANGED_SINCE, r.code(), r.reason());
            assertEquals("insert of " + k + " sent again with this node's later changes (metaIteration 2): the server took the"
                + " insert, and the record changed since on another node; this node's later changes are refused and its copy"
                + " set to the server's", r.reason());
            // The insert alone sent again: SUPERSEDED, as before (the insert was made).
            Message.Refused plain = CoreConn.last(Message.Refused.class, a.send(new Message.Change(3, k, Message.Kind.CREATED, fp,
                doc(1, 0, 0, 0, a.id, body))));
            assertEquals(ErrorCode.SUPERSEDED, plain.code(), plain.reason());
            assertEquals(2, core.seq());
        }
    }

    /**
     * A record handed to a node while it was away (it waited in the queue) is sent to it, in its
     * latest state, before the snapshot Borrow that tells it it holds it: the snapshot came right
     * after the Welcome, the record's latest state later in the catch-up, and a change the node
     * made in between was taken over the newer state (before bases; CHANGED_SINCE since: the
     * long simulation runs found it).
     */
    @Test
    void aRecordGrantedWhileAwayArrivesBeforeTheSnapshotThatGrantsIt() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn writer = new Conn(core);
            writer.conn.hello(writer.id, "writer");
            int id = CoreConn.last(Message.Keys.class, writer.send(new Message.NeedKeys("Doc"))).from();
            Key<?> k = new Key<>("Doc", id, 0);
            writer.send(def, new Message.CheckOut(k), new Message.Change(1, k, Message.Kind.CREATED, fp, doc(1, 0, 0, 0, writer.id, body)));
            UUID target = UUID.randomUUID();
            CoreConn away = new CoreConn(core);
            away.hello(target, "target");
            away.send(new Message.CheckOut(k)); // waits behind the writer
            core.disconnected(away.peer);
            core.endRound();
            byte[] latest = doc(1, 0, 1, 1, writer.id, docs.encode(new Doc("spec, edited", 3)));
            assertInstanceOf(Message.Ack.class, writer.send(new Message.Change(2, k, Message.Kind.CHANGED, fp, latest)).getFirst());
            writer.send(new Message.CheckIn(k)); // hands it to the target, away

            CoreConn back = new CoreConn(core);
            List<Message> answer = back.send(new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, target, "target", 1,
                List.of(), List.of(), new byte[0], Message.NONE));
            int pushed = -1;
            int granted = -1;
            for (int i = 0; i < answer.size(); i++) {
                if (pushed < 0 && answer.get(i) instanceof Message.Pushed p && p.key().equals(k)) pushed = i;
                if (granted < 0 && answer.get(i) instanceof Message.Borrow b && b.key().equals(k) && b.holder().equals(target)) granted = i;
            }
            assertTrue(granted >= 0, answer::toString);
            assertTrue(pushed >= 0 && pushed < granted, "the latest state before the grant: " + answer);
            assertArrayEquals(latest, ((Message.Pushed) answer.get(pushed)).value());
        }
    }

    @Test
    void aChangeWithABaseOnAVersion8ConnectionIsAProtocolError() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn old = new Conn(core);
            old.send(new Message.Hello(8, SyncFixture.APP, old.id, "old", 0, List.of(), List.of(), new byte[0], Message.NONE));
            Key<?> k = new Key<>("Doc", 1, 0);
            Message.Error e = CoreConn.last(Message.Error.class, old.send(change(1, k, fp, doc(1, 1, 1, 0, old.id, body), 0)));
            assertEquals(ErrorCode.PROTOCOL, e.code());
            assertEquals("Change with a base (tag 20) of " + k + " on a protocol version 8 connection (expected: version 9)", e.text());
        }
    }

    /**
     * Probe 105's S6 through real nodes: a and b offline on the same Draft; a sets its state
     * number twice, b once; b syncs first. Before, a's change was taken too (metaIteration 2
     * over 1) and b's number was gone on every node, nobody told.
     */
    @Test
    void aStaleStateChangeCountingMoreChangesIsRefused() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Doc> da = a.tree(Doc.class);
            Tree<Doc> db = b.tree(Doc.class);
            Key<Doc> k = da.insert(new Doc("manual", 10));
            await("b has it", () -> db.contains(k));
            a.disconnect();
            b.disconnect();
            da.setStateNumber(k, 1);
            da.setStateNumber(k, 2);
            db.setStateNumber(k, 5);
            SyncTest.connect(b, f).join();
            await("the server has b's change", () -> f.server.sequence() == 2);
            SyncTest.connect(a, f).join();
            await("a is set to b's state", () -> da.meta(k).state().equals(new RecordState.Draft(5)));
            await("a was told", () -> f.events.get(a).stream().anyMatch(e -> e instanceof Event.ChangeRefused r
                && r.key().equals(k) && r.reason().startsWith("CHANGED_SINCE: ")));
            assertEquals(2, f.server.sequence(), "a's change was not stored");
            assertEquals(new RecordState.Draft(5), db.meta(k).state());

            // Then a's next state change, made on the server's version, is taken.
            da.setStateNumber(k, 8);
            await("b sees a's number", () -> db.meta(k).state().equals(new RecordState.Draft(8)));
        }
    }

    /**
     * Probe 106's Q1 through real nodes: the holder edits offline, another node sets the state
     * number meanwhile. Before, the holder's edit replaced the state number on every node,
     * nobody told; now the edit is refused, and its data logged to be entered again (the holder
     * still holds the record).
     */
    @Test
    void aHoldersOfflineEditMadeOnAVersionWhoseStateChangedSinceIsRefusedAndLogged() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn c = f.connected("c");
            Tree<Doc> da = a.tree(Doc.class);
            Tree<Doc> dc = c.tree(Doc.class);
            Key<Doc> k = da.insert(new Doc("manual", 10));
            da.checkOut(k).orTimeout(10, TimeUnit.SECONDS).join();
            await("c has it", () -> dc.contains(k));
            a.disconnect();
            da.update(k, new Doc("manual, edited", 11));
            dc.setStateNumber(k, 4);
            await("the server has c's change", () -> f.server.sequence() == 2);
            try (dev.cairn.testing.LogLines log = new dev.cairn.testing.LogLines(SyncReplica.class)) {
                SyncTest.connect(a, f).join();
                await("a is set to c's version", () -> da.meta(k).state().equals(new RecordState.Draft(4)));
                await("a logged its edit", () -> !log.containing("record " + k + " of this node is set").isEmpty());
                String line = log.containing("record " + k + " of this node is set").getFirst();
                assertTrue(line.endsWith("; its state here was Draft(0); enter its data again if it is still wanted:"
                    + " {\"title\":\"manual, edited\",\"pages\":11}"), line);
            }
            assertEquals(new Doc("manual", 10), da.get(k));
            assertEquals(new Doc("manual", 10), dc.get(k));
            assertEquals(new RecordState.Draft(4), dc.meta(k).state());
            assertTrue(f.events.get(a).stream().anyMatch(e -> e instanceof Event.ChangeRefused r && r.key().equals(k)
                && r.reason().startsWith("CHANGED_SINCE: ")), () -> f.events.get(a).toString());
            // Still its holder: the edit made again on the server's version is taken.
            da.update(k, new Doc("manual, edited", 11));
            await("c has the edit, with its state number", () -> dc.get(k).equals(new Doc("manual, edited", 11))
                && dc.meta(k).state().equals(new RecordState.Draft(4)));
        }
    }

    /** Probe 105's S9(c): b's offline setStateNumber and release do not replace c's accepted setStateNumber. */
    @Test
    void aStaleReleaseIsRefused() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn b = f.connected("b");
            Cairn c = f.connected("c");
            Tree<Doc> db = b.tree(Doc.class);
            Tree<Doc> dc = c.tree(Doc.class);
            Key<Doc> k = db.insert(new Doc("manual", 10));
            await("c has it", () -> dc.contains(k));
            b.disconnect();
            db.setStateNumber(k, 3);
            db.release(k);
            dc.setStateNumber(k, 9);
            await("the server has c's change", () -> f.server.sequence() == 2);
            SyncTest.connect(b, f).orTimeout(20, TimeUnit.SECONDS).join();
            await("b is set to c's state", () -> db.meta(k).state().equals(new RecordState.Draft(9)));
            assertEquals(new RecordState.Draft(9), dc.meta(k).state());
            assertEquals(2, f.server.sequence());
            assertTrue(f.events.get(b).stream().anyMatch(e -> e instanceof Event.ChangeRefused r && r.key().equals(k)),
                () -> f.events.get(b).toString());
        }
    }

    /**
     * The node's side: a pending CHANGED keeps the base its first change was made on
     * ({@code cairn.outboxbase}, database-layout.md §6), however many changes replace it; the
     * Change names it on a version 9 connection and not on a version 8 one (whose server's
     * decoder refuses tag 20); the row goes with the entry's Ack.
     */
    @Test
    void theNodeSendsTheBaseOfItsPendingChangeOnAVersion9ConnectionOnly() {
        for (int version : new int[] {8, 9}) {
            Path at = dir.resolve("v" + version);
            try (ServerCore core = ServerCore.open(at.resolve("server"), SyncFixture.APP, 100);
                 Database db = Database.open(at.resolve("node"), "n", "u", SyncFixture.APP, 1 << 16)) {
                SyncReplica replica = SyncReplica.install(db);
                TreeImpl<Doc> docs = TreeImpl.open(db, Doc.class, null);
                ManualLink link = new ManualLink(core, replica, java.util.Set.of(), version);
                link.settle();
                Key<Doc> k = docs.insert(new Doc("spec", 1));
                link.settle();
                docs.setStateNumber(k, 2);
                docs.setStateNumber(k, 3);
                docs.release(k);
                assertEquals(1L, (long) db.<Long>read(r -> r.count(Layout.OUTBOX_BASE)), "one row, for the pending CHANGED");
                assertEquals(List.of(), db.read(LayoutCheck::problems));
                link.sentUp.clear();
                link.settle();
                Message.Change sent = (Message.Change) link.sentUp.stream().filter(m -> m instanceof Message.Change).findFirst()
                    .orElseThrow(() -> new AssertionError(link.sentUp.toString()));
                assertEquals(3, dev.cairn.sync.Bytes.metaIteration(sent.value()), "three changes since the insert");
                assertEquals(version == 9 ? 0 : Message.Change.NO_BASE, sent.baseMeta(), "version " + version);
                assertEquals(version == 9 ? 20 : 5, sent.tag());
                assertTrue(link.received.stream().anyMatch(m -> m instanceof Message.Ack), link.received::toString);
                assertEquals(0L, (long) db.<Long>read(r -> r.count(Layout.OUTBOX_BASE)), "the row went with its entry");
                assertEquals(new RecordState.Released(3), docs.meta(k).state());
            }
        }
    }
}
