package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.store.ReadTxn;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import dev.cairn.testing.Fixtures.Doc;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change the server took, sent again because its Ack was lost, after the record changed on
 * another node (its check-out broken by the operator and passed on): answered SUPERSEDED with
 * the server's version (sync-protocol.md §5.1). Before, it was refused NOT_CHECKED_OUT, and the
 * node logged "enter its data again" for data the server held, which followed would overwrite
 * the newer edit (probe 105 F2, 4 of 4 runs); and had the node got the check-out back first,
 * the server took it again over the newer version.
 */
@Timeout(60)
class RetransmittedChangeTest {
    @TempDir Path dir;

    private final RecordCodec<Doc> docs = CoreConn.codec(Doc.class, "Doc");
    private final long fp = docs.schema().fingerprint();
    private final Message.SchemaDef def;

    RetransmittedChangeTest() {
        Schema s = Schema.derive(Doc.class);
        def = new Message.SchemaDef("Doc", true, s.fingerprint(), s.toBytes());
    }

    private CoreConn connect(ServerCore core, UUID id, String name) {
        CoreConn c = new CoreConn(core);
        c.hello(id, name);
        c.send(def);
        return c;
    }

    private Message.Change change(long outboxSeq, Key<?> k, long meta, UUID by, String text) {
        return new Message.Change(outboxSeq, k, Message.Kind.CHANGED, fp,
            CoreConn.recordValue(1, meta, meta, by, docs.encode(new Doc(text, 1))));
    }

    /**
     * Node {@code by} creates a Doc under its check-out (outbox entry 1) and edits it (entry 2,
     * {@code change(2, k, 1, by, "a's edit")}); the server takes both. Returns the Doc's key.
     */
    private Key<?> createdAndEdited(CoreConn c, UUID by) {
        int id = CoreConn.last(Message.Keys.class, c.send(new Message.NeedKeys("Doc"))).from();
        Key<?> k = new Key<>("Doc", id, 0);
        c.send(new Message.CheckOut(k), new Message.Change(1, k, Message.Kind.CREATED, fp,
            CoreConn.recordValue(1, 0, 0, by, docs.encode(new Doc("v0", 1)))));
        assertInstanceOf(Message.Ack.class, c.send(change(2, k, 1, by, "a's edit")).getFirst());
        return k;
    }

    @Test
    void aTakenChangeSentAgainAfterTheRecordChangedIsSuperseded() {
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn ca = connect(core, a, "a");
            Key<?> k = createdAndEdited(ca, a);
            Message.Change e1 = change(2, k, 1, a, "a's edit");
            // The connection ends before the Ack arrives; the operator breaks a's check-out; b edits.
            core.disconnected(ca.peer);
            assertTrue(core.breakCheckOut(k));
            core.endRound();
            CoreConn cb = connect(core, b, "b");
            cb.send(new Message.CheckOut(k));
            byte[] v2 = CoreConn.recordValue(1, 2, 2, b, docs.encode(new Doc("b's edit on a's", 1)));
            assertInstanceOf(Message.Ack.class, cb.send(new Message.Change(1, k, Message.Kind.CHANGED, fp, v2)).getFirst());
            long seq = core.seq();

            // a's node sends its pending change again.
            CoreConn again = connect(core, a, "a");
            Message.Refused r = CoreConn.last(Message.Refused.class, again.send(e1));
            assertEquals(ErrorCode.SUPERSEDED, r.code(), r.reason());
            assertEquals("change of " + k + " sent again: the server took it (its acknowledgement did not reach this node),"
                + " and the record was changed since by node 'b'; this node's copy is set to the server's version", r.reason());
            assertArrayEquals(v2, r.current().value(), "a is set to b's version");
            assertEquals(seq, core.seq(), "nothing stored");

            // Had a got the check-out back first, the change was taken again over b's edit.
            cb.send(new Message.CheckIn(k));
            again.send(new Message.CheckOut(k));
            Message.Refused r2 = CoreConn.last(Message.Refused.class, again.send(e1));
            assertEquals(ErrorCode.SUPERSEDED, r2.code(), r2.reason());
            assertArrayEquals(v2, r2.current().value());
            assertEquals(seq, core.seq(), "b's edit stays");

            // Its next change, made on b's version under the check-out, is taken.
            assertInstanceOf(Message.Ack.class, again.send(change(3, k, 3, a, "a's next")).getFirst());
        }
    }

    /**
     * The operator releases a node while it is connected (NODE_RELEASED closes its connection): the
     * node comes back at once and sends again the changes whose Acks the close cut off. The server
     * keeps knowing them as taken: before, the release forgot them (as for a node that will not
     * come back), and such a change was refused NOT_CHECKED_OUT, its node told to enter data the
     * server held (probe 115).
     */
    @Test
    void aChangeTakenFromANodeReleasedWhileConnectedIsKnownWhenItComesBack() {
        UUID a = UUID.randomUUID();
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn ca = connect(core, a, "a");
            Key<?> k = createdAndEdited(ca, a); // the edit's Ack is lost below
            Message.Change e1 = change(2, k, 1, a, "a's edit");
            ServerCore.Released released = core.releaseNode(a);
            core.endRound();
            assertTrue(released.disconnected() && released.held().equals(List.of(k)), released.toString());
            assertEquals(ErrorCode.NODE_RELEASED, CoreConn.last(Message.Error.class, ca.received).code());
            core.disconnected(ca.peer);
            CoreConn cb = connect(core, UUID.randomUUID(), "b"); // b edits the freed record meanwhile
            cb.send(new Message.CheckOut(k));
            assertInstanceOf(Message.Ack.class, cb.send(new Message.Change(1, k, Message.Kind.CHANGED, fp,
                CoreConn.recordValue(1, 2, 2, a, docs.encode(new Doc("b's edit", 1))))).getFirst());
            long seq = core.seq();
            CoreConn again = connect(core, a, "a");
            Message.Refused r = CoreConn.last(Message.Refused.class, again.send(e1));
            assertEquals(ErrorCode.SUPERSEDED, r.code(), "known as taken: " + r.reason());
            assertEquals(seq, core.seq(), "nothing stored again");
        }
    }

    /**
     * The server restarted between taking the change and its retransmission: it still knows the
     * change (srv.taken), so the retransmission is SUPERSEDED, not refused CHANGED_SINCE as a
     * change never made (probe 107: the node then told the application to set again a state
     * the server held, and doing so would undo the other node's change).
     */
    @Test
    void aTakenChangeIsKnownAfterTheServerRestarts() {
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        Path folder = dir.resolve("server");
        Key<?> k;
        Message.Change e1;
        byte[] v2;
        long seq;
        try (ServerCore core = ServerCore.open(folder, SyncFixture.APP, 100)) {
            CoreConn ca = connect(core, a, "a");
            int id = CoreConn.last(Message.Keys.class, ca.send(new Message.NeedKeys("Doc"))).from();
            k = new Key<>("Doc", id, 0);
            ca.send(new Message.CheckOut(k), new Message.Change(1, k, Message.Kind.CREATED, fp,
                CoreConn.recordValue(1, 0, 0, a, docs.encode(new Doc("v0", 1)))));
            e1 = change(2, k, 1, a, "a's edit");
            assertInstanceOf(Message.Ack.class, ca.send(e1).getFirst());
            core.disconnected(ca.peer);
            assertTrue(core.breakCheckOut(k));
            core.endRound();
        }
        try (ServerCore core = ServerCore.open(folder, SyncFixture.APP, 100)) {
            CoreConn cb = connect(core, b, "b");
            cb.send(new Message.CheckOut(k));
            v2 = CoreConn.recordValue(1, 2, 2, b, docs.encode(new Doc("b's edit on a's", 1)));
            assertInstanceOf(Message.Ack.class, cb.send(new Message.Change(1, k, Message.Kind.CHANGED, fp, v2)).getFirst());
            cb.send(new Message.CheckIn(k));
            seq = core.seq();
        }
        try (ServerCore core = ServerCore.open(folder, SyncFixture.APP, 100)) {
            CoreConn again = connect(core, a, "a");
            Message.Refused r = CoreConn.last(Message.Refused.class, again.send(e1));
            assertEquals(ErrorCode.SUPERSEDED, r.code(), r.reason());
            assertArrayEquals(v2, r.current().value(), "a is set to b's version");
            assertEquals(seq, core.seq(), "nothing stored");
            // Its next change drops what it kept of a's earlier connections, on disk too.
            again.send(new Message.CheckOut(k));
            assertInstanceOf(Message.Ack.class, again.send(change(3, k, 3, a, "a's next")).getFirst());
            core.endRound();
        }
        Message.Change e3 = change(3, k, 3, a, "a's next");
        try (Store s = Store.open(folder); ReadTxn r = s.beginRead()) {
            assertEquals(2, r.count(TakenChanges.TAKEN), "b's change and a's latest are kept");
            assertEquals(null, r.get(TakenChanges.TAKEN, row(a, e1)), "a's first is gone");
            assertTrue(r.get(TakenChanges.TAKEN, row(a, e3)) != null);
        }
    }

    private static byte[] row(UUID client, Message.Change c) {
        return TakenChanges.row(client, c.outboxSeq(), TakenChanges.hash(Bytes.recordKey(c.key()), c.value()));
    }

    /**
     * What the server keeps is bounded, in memory and on disk: once a later connection of the
     * client sends a later sequence, the changes taken on earlier connections below it were
     * acknowledged, and go. A change with the same sequence but other bytes (another copy of the
     * node) is not taken for the one the server has.
     */
    @Test
    void takenChangesAreForgottenOnceTheNodeSendsPastThemAndAreMatchedByTheirBytes() {
        UUID a = UUID.randomUUID();
        Key<?> k = new Key<>("Doc", 1, 0);
        try (Store store = Store.open(dir.resolve("store"))) {
            WriteTxn[] w = {store.beginWrite()};
            w[0].createTree(TakenChanges.TAKEN);
            TakenChanges t = new TakenChanges(() -> w[0]);
            byte[] v = {1, 2, 3};
            for (long s = 1; s <= 5; s++) t.took(a, s, TakenChanges.hash(Bytes.recordKey(k), v));
            assertTrue(t.taken(a, 3, TakenChanges.hash(Bytes.recordKey(k), v)));
            assertEquals(false, t.taken(a, 3, TakenChanges.hash(Bytes.recordKey(k), new byte[] {1, 2, 4})), "other bytes");
            assertEquals(false, t.taken(a, 3, TakenChanges.hash(Bytes.recordKey(new Key<>("Doc", 2, 0)), v)), "another record");
            t.sending(a, 9);
            assertEquals(5, t.size(), "the same connection: all may still be in flight");
            t.connected(a);
            t.sending(a, 4);
            assertEquals(2, t.size(), "a later connection sends 4: 1 to 3 were acknowledged");
            assertEquals(2, w[0].count(TakenChanges.TAKEN), "and their rows went");
            assertEquals(false, t.taken(a, 3, TakenChanges.hash(Bytes.recordKey(k), v)));
            assertTrue(t.taken(a, 4, TakenChanges.hash(Bytes.recordKey(k), v)));
            w[0].commit();
            w[0].close();

            // What a restarted server reads: both kept changes, from an earlier connection.
            w[0] = store.beginWrite();
            TakenChanges loaded = new TakenChanges(() -> w[0]);
            loaded.load(w[0]);
            assertEquals(2, loaded.size());
            assertTrue(loaded.taken(a, 5, TakenChanges.hash(Bytes.recordKey(k), v)));
            loaded.sending(a, 6);
            assertEquals(0, loaded.size());
            assertEquals(0, w[0].count(TakenChanges.TAKEN));

            for (long s = 0; s < 10_000; s++) loaded.took(a, s, s);
            assertEquals(4096, loaded.size(), "at most a send window per client");
            assertEquals(4096, w[0].count(TakenChanges.TAKEN), "as many rows");
            assertTrue(loaded.taken(a, 9_999, 9_999));
            assertEquals(false, loaded.taken(a, 5_000, 5_000), "the oldest went first");
            assertTrue(loaded.taken(a, 10_000 - 4096, 10_000 - 4096));
            loaded.forget(a);
            assertEquals(0, loaded.size(), "a released node's changes are forgotten");
            assertEquals(0, w[0].count(TakenChanges.TAKEN), "rows too");
            w[0].abort();
        }
    }
}
