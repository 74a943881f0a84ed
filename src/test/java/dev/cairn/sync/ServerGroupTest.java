package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.internal.Limits;
import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's side of protocol version 7's Group (sync-protocol.md §4.2), driven through
 * {@link ServerCore} without sockets: a group's Changes are held, not acknowledged, until the
 * last has come, then taken in one round with consecutive sequences; each live peer gets the
 * records of its trees together, after a Group(k) on a version 7 connection; a group cut off by
 * its connection's end stores nothing. Before version 7 the server took each Change in the round
 * it arrived in, and another node could apply part of a write batch (probe 70: a swap of two
 * unique names seen torn).
 */
@Timeout(60)
class ServerGroupTest {
    @TempDir Path dir;

    private final RecordCodec<Part> parts = CoreConn.codec(Part.class, "Part");
    private final long fp = parts.schema().fingerprint();

    /** A connection that said Hello with {@code version} (trees: empty = all) and is LIVE. */
    private static CoreConn live(ServerCore core, int version, List<String> trees) {
        CoreConn c = new CoreConn(core);
        c.send(new Message.Hello(version, SyncFixture.APP, UUID.randomUUID(), "n" + version, 0, trees, List.of(),
            new byte[0], Message.NONE));
        assertTrue(c.peer.live(), "caught up: " + c.received);
        return c;
    }

    private static Message.SchemaDef schemaDef(String tree) {
        Schema s = Schema.derive(Part.class);
        return new Message.SchemaDef(tree, false, s.fingerprint(), s.toBytes());
    }

    private Message.Change created(long outboxSeq, Key<?> k, UUID by, int i) {
        return new Message.Change(outboxSeq, k, Message.Kind.CREATED, fp, CoreConn.recordValue(0, 0, 0, by, parts.encode(part(i))));
    }

    /** What {@code c} received from index {@code from} on, without SchemaDef frames (which may come between). */
    private static List<Message> noSchemas(CoreConn c, int from) {
        return c.received.subList(from, c.received.size()).stream().filter(m -> !(m instanceof Message.SchemaDef)).toList();
    }

    @Test
    void aGroupIsHeldUntilItsLastChangeThenTakenWithConsecutiveSequencesAndPushedTogether() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn a = live(core, 7, List.of());
            UUID aId = a.peer.clientId();
            CoreConn other = live(core, 7, List.of());
            CoreConn v7 = live(core, 7, List.of());
            CoreConn v6 = live(core, 6, List.of());
            CoreConn spareOnly = live(core, 7, List.of("Spare"));
            Message.Keys partIds = CoreConn.last(Message.Keys.class, a.send(new Message.NeedKeys("Part"), new Message.NeedKeys("Spare")));
            int spareFrom = CoreConn.last(Message.Keys.class, a.received).from();
            Key<?> k0 = new Key<>("Part", partIds.from(), 0);
            Key<?> k1 = new Key<>("Part", partIds.from() + 1, 0);
            Key<?> k2 = new Key<>("Part", partIds.from() + 2, 0);
            Key<?> spare = new Key<>("Spare", spareFrom, 0);
            Key<?> never = new Key<>("Part", partIds.from() + 3, 0);
            // k0 stored and checked out by a, outside any group.
            a.send(schemaDef("Part"), schemaDef("Spare"), created(1, k0, aId, 0), new Message.CheckOut(k0));
            assertEquals(1, core.seq());
            Message.Keys otherIds = CoreConn.last(Message.Keys.class, other.send(new Message.NeedKeys("Part")));
            other.send(schemaDef("Part"));

            int v7From = v7.received.size();
            int v6From = v6.received.size();
            int spareFrom0 = spareOnly.received.size();
            // Group(5): two creates, one of another tree, a removal, and a change the server refuses.
            List<Message> answer = a.send(new Message.Group(5), created(2, k1, aId, 1));
            assertEquals(List.of(), answer, "held: nothing acknowledged");
            assertEquals(1, core.seq());
            // Another node's change in between: taken at once, as before.
            Key<?> x = new Key<>("Part", otherIds.from(), 0);
            assertInstanceOf(Message.Ack.class, other.send(created(1, x, other.peer.clientId(), 9)).getLast());
            assertEquals(2, core.seq());
            assertEquals(List.of(), a.send(created(3, k2, aId, 2), created(4, spare, aId, 3)));
            assertEquals(List.of(), a.send(new Message.Change(5, never, Message.Kind.CHANGED, fp,
                CoreConn.recordValue(0, 1, 1, aId, parts.encode(part(4))))));
            assertEquals(2, core.seq(), "nothing of the group stored before its last Change");
            answer = a.send(new Message.Change(6, k0, Message.Kind.REMOVED, 0, new byte[0]));
            // All taken in this round: the accepted four with consecutive sequences, the refused one answered.
            List<Long> seqs = answer.stream().filter(m -> m instanceof Message.Ack).map(m -> ((Message.Ack) m).serverSeq()).toList();
            assertEquals(List.of(3L, 4L, 5L, 6L), seqs);
            Message.Refused refused = CoreConn.last(Message.Refused.class, answer);
            assertEquals(5, refused.outboxSeq());
            assertEquals(ErrorCode.UNKNOWN_RECORD, refused.code());
            assertEquals(6, core.seq());

            // A version 7 peer: its records of the group together after Group(4), then the removal's Borrow.
            List<Message> got = noSchemas(v7, v7From);
            assertEquals(x, ((Message.Pushed) got.getFirst()).key(), "x came alone, before: " + got);
            List<Message> group = got.subList(1, got.size());
            assertEquals(new Message.Group(4), group.get(0), got.toString());
            assertEquals(List.of(k1, k2, spare, k0), group.subList(1, 5).stream().map(m -> ((Message.Pushed) m).key()).toList());
            assertEquals(List.of(3L, 4L, 5L, 6L), group.subList(1, 5).stream().map(m -> ((Message.Pushed) m).serverSeq()).toList());
            assertTrue(((Message.Pushed) group.get(4)).removed());
            Message.Borrow free = assertInstanceOf(Message.Borrow.class, group.get(5));
            assertEquals(k0, free.key());
            assertEquals(Message.NONE, free.holder());
            assertEquals(6, group.size(), group.toString());
            // Between the Group and its last Pushed only SchemaDef frames.
            int pushed = 0;
            for (int i = v7.received.indexOf(new Message.Group(4)) + 1; pushed < 4; i++) {
                Message m = v7.received.get(i);
                assertTrue(m instanceof Message.Pushed || m instanceof Message.SchemaDef, m + " inside the group");
                if (m instanceof Message.Pushed) pushed++;
            }
            // A version 6 peer: the same records, in the same order, without a Group.
            List<Message> old = noSchemas(v6, v6From);
            assertTrue(old.stream().noneMatch(m -> m instanceof Message.Group), old.toString());
            assertEquals(List.of(x, k1, k2, spare, k0), old.stream().filter(m -> m instanceof Message.Pushed)
                .map(m -> ((Message.Pushed) m).key()).toList());
            // A peer of one of the group's trees gets its one record, and a group of one needs no Group.
            assertEquals(List.of(spare), noSchemas(spareOnly, spareFrom0).stream().map(m -> ((Message.Pushed) m).key()).toList());
            // The sender gets no Group, no pushes of its own changes.
            assertTrue(a.received.stream().noneMatch(m -> m instanceof Message.Group || m instanceof Message.Pushed p
                && p.serverSeq() > 2), a.received.toString());
            assertNull(a.closedFor);
        }
    }

    @Test
    void aConnectionThatEndsInsideAGroupStoresNothingOfIt() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn a = live(core, 7, List.of());
            CoreConn b = live(core, 7, List.of());
            int bFrom = b.received.size();
            Message.Keys ids = CoreConn.last(Message.Keys.class, a.send(new Message.NeedKeys("Part")));
            UUID aId = a.peer.clientId();
            a.send(schemaDef("Part"), new Message.Group(2), created(1, new Key<>("Part", ids.from(), 0), aId, 1));
            core.disconnected(a.peer);
            core.endRound();
            assertEquals(0, core.seq());
            assertEquals(0, core.recordCount());
            assertEquals(List.of(), noSchemas(b, bFrom));
            // The node's next connection sends it again, whole, and it is taken.
            CoreConn again = new CoreConn(core);
            again.send(new Message.Hello(7, SyncFixture.APP, aId, "n7", 0, List.of(), List.of(), new byte[0], linkToken(a)));
            assertTrue(again.peer.live(), again.received.toString());
            List<Message> answer = again.send(schemaDef("Part"), new Message.Group(2), created(1, new Key<>("Part", ids.from(), 0), aId, 1),
                created(2, new Key<>("Part", ids.from() + 1, 0), aId, 2));
            assertEquals(2, answer.stream().filter(m -> m instanceof Message.Ack).count(), answer.toString());
            assertEquals(2, core.seq());
        }
    }

    /** The link token the Welcome of {@code c} issued (its next Hello presents it). */
    private static UUID linkToken(CoreConn c) {
        return CoreConn.last(Message.Welcome.class, c.received).linkToken();
    }

    @Test
    void aGroupWhileOneIsOpenOnAnOlderConnectionOrOverTheByteBoundIsAProtocolError() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn twice = live(core, 7, List.of());
            Message.Error e = assertInstanceOf(Message.Error.class, twice.send(new Message.Group(3),
                new Message.CheckOut(new Key<>("Part", 1, 0)), new Message.Group(2)).getLast());
            assertEquals(ErrorCode.PROTOCOL, e.code());
            assertEquals("Group(2) while a Group(3) is open, 0 of its Changes received (expected: a Group after the last "
                + "Change of the one before)", e.text());
            assertEquals("PROTOCOL: " + e.text(), twice.closedFor);

            CoreConn v6 = live(core, 6, List.of());
            e = assertInstanceOf(Message.Error.class, v6.send(new Message.Group(2)).getLast());
            assertEquals("Group on a protocol version 6 connection (expected: version 7)", e.text());

            CoreConn big = live(core, 7, List.of());
            Message.Keys ids = CoreConn.last(Message.Keys.class, big.send(new Message.NeedKeys("Part")));
            byte[] value = new byte[Limits.RECORD_BYTES_MAX];
            List<Message> answer = big.send(schemaDef("Part"), new Message.Group(3),
                new Message.Change(1, new Key<>("Part", ids.from(), 0), Message.Kind.CREATED, fp, value),
                new Message.Change(2, new Key<>("Part", ids.from() + 1, 0), Message.Kind.CREATED, fp, value),
                created(3, new Key<>("Part", ids.from() + 2, 0), big.peer.clientId(), 3));
            e = assertInstanceOf(Message.Error.class, answer.getLast());
            assertEquals("the Changes of a Group(3) hold " + 2L * Limits.RECORD_BYTES_MAX + " value bytes after 2 of them "
                + "(expected: <= GROUP_BYTES_MAX " + Limits.GROUP_BYTES_MAX + ")", e.text());
            assertEquals(1, answer.size(), "nothing after the error is taken: " + answer);
            assertEquals(0, core.seq());
        }
    }

    /**
     * Version 8: a Group of 1,000 Changes (more than version 7's 256) is held and taken whole; a
     * version 8 peer gets Group(1000) and the records, a version 7 peer the same records in Group
     * frames of at most 256 (its decoder refuses more: each part applied whole there), a version
     * 6 peer them without a Group. Before version 8 the decoder refused Group(1000).
     */
    @Test
    void aVersion8GroupOf1000IsTakenWholeAndReachesAVersion7PeerInGroupsOf256() {
        int n = 1000;
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 2 * n)) {
            CoreConn a = live(core, 8, List.of());
            CoreConn v8 = live(core, 8, List.of());
            CoreConn v7 = live(core, 7, List.of());
            CoreConn v6 = live(core, 6, List.of());
            Message.Keys ids = CoreConn.last(Message.Keys.class, a.send(new Message.NeedKeys("Part")));
            int v8From = v8.received.size();
            int v7From = v7.received.size();
            int v6From = v6.received.size();
            a.send(schemaDef("Part"), new Message.Group(n));
            for (int i = 0; i < n - 1; i++) {
                assertEquals(List.of(), a.send(created(i + 1, new Key<>("Part", ids.from() + i, 0), a.peer.clientId(), i)));
            }
            assertEquals(0, core.seq(), "held until the last");
            List<Message> answer = a.send(created(n, new Key<>("Part", ids.from() + n - 1, 0), a.peer.clientId(), n - 1));
            assertEquals(n, answer.stream().filter(m -> m instanceof Message.Ack).count());
            assertEquals(n, core.seq());
            assertEquals("G1000 1000", shape(noSchemas(v8, v8From)));
            assertEquals("G256 256 G256 256 G256 256 G232 232", shape(noSchemas(v7, v7From)));
            assertEquals("1000", shape(noSchemas(v6, v6From)));
            List<Long> order = noSchemas(v7, v7From).stream().filter(m -> m instanceof Message.Pushed)
                .map(m -> ((Message.Pushed) m).serverSeq()).toList();
            assertEquals(java.util.stream.LongStream.rangeClosed(1, n).boxed().toList(), order, "in the group's order");
            assertNull(a.closedFor);
        }
    }

    /** A version 7 connection keeps version 7's bound: Group(257) ends it, nothing held. */
    @Test
    void aGroupOver256OnAVersion7ConnectionIsAProtocolError() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100)) {
            CoreConn v7 = live(core, 7, List.of());
            Message.Error e = assertInstanceOf(Message.Error.class, v7.send(new Message.Group(257)).getLast());
            assertEquals(ErrorCode.PROTOCOL, e.code());
            assertEquals("Group(257) on a protocol version 7 connection (expected: 2 to 256 Changes; 4096 from version 8)", e.text());
            CoreConn v8 = live(core, 8, List.of());
            assertEquals(List.of(), v8.send(new Message.Group(4096)), "held on version 8");
            assertNull(v8.closedFor);
        }
    }

    /** The Group counts and Pushed counts in order: [Group(3), P, P, P, P] is "G3 3, 1". */
    private static String shape(List<Message> messages) {
        List<String> parts = new java.util.ArrayList<>();
        int records = 0;
        for (Message m : messages) {
            if (m instanceof Message.Group g) {
                if (records > 0) parts.add(String.valueOf(records));
                records = 0;
                parts.add("G" + g.count());
            } else if (m instanceof Message.Pushed) {
                records++;
            }
        }
        if (records > 0) parts.add(String.valueOf(records));
        return String.join(" ", parts);
    }
}
