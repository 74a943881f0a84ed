package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the server checks of a client before it stores or passes anything on (sync-protocol.md
 * §1, §5.1), driven through {@link ServerCore} without sockets. Found by a client written from
 * the spec alone: the server took a zero client id (whose check-outs then read as free), let a
 * CREATED from a client that had only changed a record replace it while another client held its
 * check-out, and let a Released record be changed back to a Draft.
 */
@Timeout(60)
class ServerTrustTest {
    @TempDir Path dir;

    /** A client's connection: {@link CoreConn} and the client id its Hello gave. */
    private record Conn(CoreConn conn, UUID id) {
        Conn(ServerCore core, UUID id) {
            this(new CoreConn(core), id);
        }

        List<Message> send(Message... messages) {
            return conn.send(messages);
        }

        List<Message> hello() {
            return conn.hello(id, "n-" + id.toString().substring(0, 4));
        }
    }

    private static Message.SchemaDef schemaDef(String tree, boolean versioned, Class<? extends Record> type) {
        Schema s = Schema.derive(type);
        return new Message.SchemaDef(tree, versioned, s.fingerprint(), s.toBytes());
    }

    @Test
    void aZeroClientIdIsRefused() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Message.Error e = assertInstanceOf(Message.Error.class, new Conn(core, Message.NONE).hello().getFirst());
            assertEquals(ErrorCode.PROTOCOL, e.code());
            assertEquals("client id is the zero UUID (expected: the node's own random id)", e.text());
        }
    }

    @Test
    void onlyTheNodeWhoseIdsARecordHasMayReplaceItWithACreated() {
        RecordCodec<Part> parts = CoreConn.codec(Part.class, "Part");
        long fp = parts.schema().fingerprint();
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn maker = new Conn(core, UUID.randomUUID());
            Conn other = new Conn(core, UUID.randomUUID());
            maker.hello();
            other.hello();
            Message.Keys keys = CoreConn.last(Message.Keys.class, maker.send(new Message.NeedKeys("Part")));
            Key<?> k = new Key<>("Part", keys.from(), 0);
            byte[] made = CoreConn.recordValue(0, 0, 0, maker.id, parts.encode(part(1)));
            maker.send(schemaDef("Part", false, Part.class), new Message.Change(1, k, Message.Kind.CREATED, fp, made));
            assertEquals(1, core.seq());

            // other changes it under its check-out and gives the check-out up; maker takes it.
            other.send(schemaDef("Part", false, Part.class), new Message.CheckOut(k));
            byte[] changed = CoreConn.recordValue(0, 1, 1, other.id, parts.encode(part(2)));
            assertInstanceOf(Message.Ack.class, other.send(new Message.Change(1, k, Message.Kind.CHANGED, fp, changed)).getFirst());
            other.send(new Message.CheckIn(k));
            maker.send(new Message.CheckOut(k));
            assertEquals(2, core.seq());

            // other made the stored version, but the id is maker's: its CREATED replaces nothing.
            byte[] hijack = CoreConn.recordValue(0, 2, 2, other.id, parts.encode(part(3)));
            List<Message> answer = other.send(new Message.Change(2, k, Message.Kind.CREATED, fp, hijack));
            Message.Refused kept = CoreConn.last(Message.Refused.class, answer);
            assertEquals(ErrorCode.SUPERSEDED, kept.code(), kept.reason());
            assertEquals("insert of " + k + ": the record is not this node's (another node made it), and the server keeps"
                + " its version; this node's copy is set to it", kept.reason());
            assertEquals(2, kept.current().serverSeq(), "answered with the stored version ...");
            assertArrayEquals(changed, kept.current().value(), "... and what the server has");
            assertEquals(2, core.seq(), "nothing stored");

            // The maker's own CREATED with newer data (written before its first was acknowledged) still counts.
            byte[] makerAgain = CoreConn.recordValue(0, 2, 2, maker.id, parts.encode(part(4)));
            maker.send(new Message.Change(2, k, Message.Kind.CHANGED, fp, makerAgain));
            assertEquals(3, core.seq());
            byte[] newer = CoreConn.recordValue(0, 3, 3, maker.id, parts.encode(part(5)));
            assertEquals(4, CoreConn.last(Message.Ack.class, maker.send(new Message.Change(3, k, Message.Kind.CREATED, fp, newer))).serverSeq());
        }
    }

    /**
     * A REMOVED is stored as a tombstone with fingerprint 0 whatever fingerprint it names, as
     * Pushed tombstones carry (sync-protocol.md §3); the server kept the one sent and pushed it on.
     */
    @Test
    void aRemovedIsStoredAndPushedWithFingerprintZeroWhateverItNames() {
        RecordCodec<Part> parts = CoreConn.codec(Part.class, "Part");
        long fp = parts.schema().fingerprint();
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn maker = new Conn(core, UUID.randomUUID());
            Conn other = new Conn(core, UUID.randomUUID());
            maker.hello();
            other.hello();
            Key<?> k = new Key<>("Part", CoreConn.last(Message.Keys.class, maker.send(new Message.NeedKeys("Part"))).from(), 0);
            maker.send(schemaDef("Part", false, Part.class),
                new Message.Change(1, k, Message.Kind.CREATED, fp, CoreConn.recordValue(0, 0, 0, maker.id, parts.encode(part(1)))),
                new Message.CheckOut(k));
            int seen = other.conn.received.size();
            List<Message> answer = maker.send(new Message.Change(2, k, Message.Kind.REMOVED, 0x1234, new byte[0]));
            assertEquals(2, CoreConn.last(Message.Ack.class, answer).serverSeq());
            Message.Pushed back = CoreConn.last(Message.Pushed.class, answer);
            assertEquals(List.of(2L, k, 0L, 0), List.of(back.serverSeq(), back.key(), back.fingerprint(), back.value().length),
                "the sender is told what is stored");
            Message.Pushed pushed = CoreConn.last(Message.Pushed.class, other.conn.received.subList(seen, other.conn.received.size()));
            assertEquals(0, pushed.fingerprint());
            assertEquals(0, pushed.value().length);
        }
    }

    /**
     * A CheckOut of an id no range holds is answered free and stored nowhere (probe 39: 50,000
     * of them were granted, pushed and kept in every node); one of an issued id whose record is
     * still on its way is granted as before.
     */
    @Test
    void aCheckOutOfAnIdNeverIssuedIsAnsweredFreeAndNotStored() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn stranger = new Conn(core, UUID.randomUUID());
            Conn maker = new Conn(core, UUID.randomUUID());
            stranger.hello();
            maker.hello();
            int issued = CoreConn.last(Message.Keys.class, maker.send(new Message.NeedKeys("Part"))).from();
            Key<?> never = new Key<>("Part", issued + 1_000, 0);
            Message.Borrow answer = CoreConn.last(Message.Borrow.class,
                stranger.send(schemaDef("Part", false, Part.class), new Message.CheckOut(never)));
            assertEquals(new UUID(0, 0), answer.holder(), "answered free");
            assertTrue(core.checkOuts().isEmpty(), "stored nowhere: " + core.checkOuts());

            Key<?> onItsWay = new Key<>("Part", issued, 0); // the maker's CREATED may still be coming
            stranger.send(new Message.CheckOut(onItsWay));
            assertEquals(1, core.checkOuts().size(), "granted: " + core.checkOuts());
        }
    }

    /** Without the check-out a client may change the state alone: the same data under a later metaIteration. */
    @Test
    void withoutTheCheckOutOnlyTheStateMayChange() {
        RecordCodec<Doc> docs = CoreConn.codec(Doc.class, "Doc");
        long fp = docs.schema().fingerprint();
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn maker = new Conn(core, UUID.randomUUID());
            Conn other = new Conn(core, UUID.randomUUID());
            maker.hello();
            other.hello();
            int id = CoreConn.last(Message.Keys.class, maker.send(new Message.NeedKeys("Doc"))).from();
            Key<?> k = new Key<>("Doc", id, 0);
            byte[] doc = docs.encode(new Doc("spec", 3));
            maker.send(schemaDef("Doc", true, Doc.class), new Message.CheckOut(k),
                new Message.Change(1, k, Message.Kind.CREATED, fp, CoreConn.recordValue(1, 0, 0, maker.id, doc)));
            other.send(schemaDef("Doc", true, Doc.class));

            byte[] otherData = docs.encode(new Doc("spec", 4));
            Message.Refused data = CoreConn.last(Message.Refused.class, other.send(new Message.Change(1, k, Message.Kind.CHANGED, fp,
                CoreConn.recordValue(1, 1, 1, other.id, otherData))));
            assertEquals(ErrorCode.NOT_CHECKED_OUT, data.code(), data.reason());
            // No later metaIteration: a state change made on a version another node replaced since.
            Message.Refused stale = CoreConn.last(Message.Refused.class, other.send(new Message.Change(1, k, Message.Kind.CHANGED, fp,
                CoreConn.recordValue(1, 0, 0, other.id, doc))));
            assertEquals(ErrorCode.CHANGED_SINCE, stale.code(), stale.reason());
            assertEquals(1, core.seq());
            byte[] released = CoreConn.recordValue(2, 1, 0, other.id, doc);
            assertInstanceOf(Message.Ack.class, other.send(new Message.Change(2, k, Message.Kind.CHANGED, fp, released)).getFirst());
            assertEquals(2, core.seq());

            // Other data under the stored dataIteration (a copy migrated on that node): the state
            // is taken, the data is not, and the sender gets the stored record back.
            byte[] numbered = CoreConn.recordValue(2, 2, 0, other.id, otherData);
            List<Message> answer = other.send(new Message.Change(3, k, Message.Kind.CHANGED, fp, numbered));
            assertEquals(3, CoreConn.last(Message.Ack.class, answer).serverSeq());
            byte[] stored = CoreConn.recordValue(2, 2, 0, other.id, doc);
            assertArrayEquals(stored, CoreConn.last(Message.Pushed.class, answer).value(), "the state with the stored data");
        }
    }

    @Test
    void aReleasedRecordStaysReleasedAndStateKindsFitTheirTree() {
        RecordCodec<Doc> docs = CoreConn.codec(Doc.class, "Doc");
        RecordCodec<Part> parts = CoreConn.codec(Part.class, "Part");
        long docFp = docs.schema().fingerprint();
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn node = new Conn(core, UUID.randomUUID());
            node.hello();
            int id = CoreConn.last(Message.Keys.class, node.send(new Message.NeedKeys("Doc"))).from();
            Key<?> k = new Key<>("Doc", id, 0);
            byte[] doc = docs.encode(new Doc("spec", 3));
            node.send(schemaDef("Doc", true, Doc.class), new Message.CheckOut(k),
                new Message.Change(1, k, Message.Kind.CREATED, docFp, CoreConn.recordValue(1, 0, 0, node.id, doc)));
            byte[] released = CoreConn.recordValue(2, 1, 0, node.id, doc);
            assertInstanceOf(Message.Ack.class, node.send(new Message.Change(2, k, Message.Kind.CHANGED, docFp, released)).getFirst());
            assertEquals(2, core.seq());

            Message.Refused r = CoreConn.last(Message.Refused.class,
                node.send(new Message.Change(3, k, Message.Kind.CHANGED, docFp, CoreConn.recordValue(1, 2, 0, node.id, doc))));
            assertEquals(ErrorCode.RELEASED, r.code());
            assertTrue(r.reason().endsWith("is released; it stays released"), r.reason());
            assertArrayEquals(released, r.current().value());
            assertEquals(2, core.seq(), "nothing stored");

            // A Draft in a tree that is not versioned (or NonVersioned in a versioned one) is refused.
            int partId = CoreConn.last(Message.Keys.class, node.send(new Message.NeedKeys("Part"))).from();
            Message.Refused e = CoreConn.last(Message.Refused.class, node.send(schemaDef("Part", false, Part.class),
                new Message.Change(4, new Key<>("Part", partId, 0), Message.Kind.CREATED, parts.schema().fingerprint(),
                    CoreConn.recordValue(1, 0, 0, node.id, parts.encode(part(1))))));
            assertEquals(ErrorCode.INVALID_CHANGE, e.code());
            assertTrue(e.reason().contains("record state kind 1 in a tree that is not versioned (expected: 0 NonVersioned)"),
                e.reason());
            assertEquals(2, core.seq());
            assertEquals(null, node.conn.closedFor, "the connection goes on");
        }
    }

    /**
     * A revision above 0 in a tree that is not versioned (sync-protocol.md §5.1): before, the
     * server took a CREATED of its own id's revision 7 and pushed it to every node, whose export
     * of the tree then could not be imported back (probe 59). Refused as INVALID_CHANGE; a REMOVED
     * of such a key (which an older server may hold) still goes through.
     */
    @Test
    void aRevisionAboveZeroInATreeThatIsNotVersionedIsRefused() {
        RecordCodec<Part> parts = CoreConn.codec(Part.class, "Part");
        long fp = parts.schema().fingerprint();
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn node = new Conn(core, UUID.randomUUID());
            Conn watch = new Conn(core, UUID.randomUUID());
            node.hello();
            watch.hello();
            watch.send(schemaDef("Part", false, Part.class));
            int id = CoreConn.last(Message.Keys.class, node.send(new Message.NeedKeys("Part"))).from();
            byte[] value = CoreConn.recordValue(0, 0, 0, node.id, parts.encode(part(1)));
            for (var kind : List.of(Message.Kind.CREATED, Message.Kind.CHANGED)) {
                Key<?> k = new Key<>("Part", id, 7);
                Message.Refused r = CoreConn.last(Message.Refused.class, node.send(schemaDef("Part", false, Part.class),
                    new Message.Change(1, k, kind, fp, value)));
                assertEquals(ErrorCode.INVALID_CHANGE, r.code());
                assertEquals("change of Part/" + id + ".7: revision 7 in tree Part, which is not versioned (expected: "
                    + "revision 0, the only one of its records); nothing stored, and this node's copy is set to the "
                    + "server's", r.reason());
                assertTrue(r.current().removed() && r.current().serverSeq() == 0, "the server's state: none");
            }
            assertEquals(0, core.seq(), "nothing stored");
            assertTrue(watch.send().stream().noneMatch(m -> m instanceof Message.Pushed), "nothing pushed");
            assertEquals(null, node.conn.closedFor, "the connection goes on");
            // revision 0 of the id is taken as ever
            assertInstanceOf(Message.Ack.class, node.send(new Message.Change(2, new Key<>("Part", id, 0),
                Message.Kind.CREATED, fp, value)).getFirst());
        }
    }

    /**
     * Iterations no node makes (sync-protocol.md §5.1): before, a client without the check-out
     * sent a change of the state alone with metaIteration Long.MAX_VALUE, the server took it and
     * pushed it to every node, and the holder's next update overflowed to Long.MIN_VALUE. Now such
     * a change is refused (INVALID_CHANGE, with the server's state), the connection goes on, and
     * what well-behaved nodes send (a state change +1, a holder's offline changes coalesced into
     * one, a first CREATED of a record changed many times) is taken.
     */
    @Test
    void iterationsNoNodeMakesAreRefusedAndTheConnectionGoesOn() {
        RecordCodec<Doc> docs = CoreConn.codec(Doc.class, "Doc");
        long fp = docs.schema().fingerprint();
        long step = dev.cairn.internal.Limits.ITERATION_STEP_MAX;
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            Conn holder = new Conn(core, UUID.randomUUID());
            Conn other = new Conn(core, UUID.randomUUID());
            holder.hello();
            other.hello();
            int id = CoreConn.last(Message.Keys.class, holder.send(new Message.NeedKeys("Doc"))).from();
            Key<?> k = new Key<>("Doc", id, 0);
            byte[] doc = docs.encode(new Doc("spec", 3));
            byte[] created = CoreConn.recordValue(1, 0, 0, holder.id, doc);
            holder.send(schemaDef("Doc", true, Doc.class), new Message.CheckOut(k),
                new Message.Change(1, k, Message.Kind.CREATED, fp, created));
            other.send(schemaDef("Doc", true, Doc.class));
            assertEquals(1, core.seq());

            record Bad(long meta, long data, String reason) { }
            for (Bad bad : List.of(
                    new Bad(Long.MAX_VALUE, 0, "metaIteration 9223372036854775807 (expected: <= ITERATION_MAX "),
                    new Bad(dev.cairn.internal.Limits.ITERATION_MAX + 1, 0, "metaIteration "),
                    new Bad(step + 1, 0, "iterations meta " + (step + 1) + " data 0 (expected: at most ITERATION_STEP_MAX "
                        + step + " above the stored meta 0 data 0"))) {
                Message.Refused r = CoreConn.last(Message.Refused.class, other.send(new Message.Change(2, k, Message.Kind.CHANGED,
                    fp, CoreConn.recordValue(1, bad.meta(), bad.data(), other.id, doc))));
                assertEquals(ErrorCode.INVALID_CHANGE, r.code(), r.reason());
                assertTrue(r.reason().startsWith("change of " + k + ": " + bad.reason()), r.reason());
                assertArrayEquals(created, r.current().value(), "rolled back to the server's state");
            }
            // The holder's data change too, and a new record's first CREATED.
            Message.Refused data = CoreConn.last(Message.Refused.class, holder.send(new Message.Change(3, k, Message.Kind.CHANGED,
                fp, CoreConn.recordValue(1, step + 1, step + 1, holder.id, doc))));
            assertEquals(ErrorCode.INVALID_CHANGE, data.code(), data.reason());
            Key<?> fresh = new Key<>("Doc", id + 1, 0);
            Message.Refused first = CoreConn.last(Message.Refused.class, holder.send(new Message.Change(4, fresh,
                Message.Kind.CREATED, fp, CoreConn.recordValue(1, step + 1, 0, holder.id, doc))));
            assertEquals(ErrorCode.INVALID_CHANGE, first.code(), first.reason());
            assertTrue(first.current().removed() && first.current().serverSeq() == 0, "never stored");
            assertEquals(1, core.seq(), "nothing stored");
            assertEquals(null, other.conn.closedFor);
            assertEquals(null, holder.conn.closedFor);

            // Well-behaved: a state change +1; the holder's many offline changes as one; a holder's
            // change below the stored iterations (it replaces others' state changes, as before);
            // a first CREATED of a record changed many times before it was sent.
            assertInstanceOf(Message.Ack.class, other.send(new Message.Change(5, k, Message.Kind.CHANGED, fp,
                CoreConn.recordValue(1, 1, 0, other.id, doc))).getFirst());
            byte[] coalesced = CoreConn.recordValue(1, step, step, holder.id, docs.encode(new Doc("spec", 4)));
            assertInstanceOf(Message.Ack.class, holder.send(new Message.Change(6, k, Message.Kind.CHANGED, fp, coalesced)).getFirst());
            byte[] lower = CoreConn.recordValue(1, 2, 2, holder.id, docs.encode(new Doc("spec", 5)));
            assertInstanceOf(Message.Ack.class, holder.send(new Message.Change(7, k, Message.Kind.CHANGED, fp, lower)).getFirst());
            assertInstanceOf(Message.Ack.class, holder.send(new Message.Change(8, fresh, Message.Kind.CREATED, fp,
                CoreConn.recordValue(1, 40, 30, holder.id, doc))).getFirst());
            assertEquals(5, core.seq());
        }
    }
}
