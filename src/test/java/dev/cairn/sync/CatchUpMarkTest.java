package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.schema.RecordCodec;
import dev.cairn.store.ForeignBackup;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Version 6's catch-up mark, {@code CaughtUpTo(seq, serverSeq)} (sync-protocol.md §4.1 step 4,
 * §4.2 step 2), without sockets: the server sends one after every catch-up batch on a version 6
 * connection only, never past what its catch-up sent; the node stores it with its tree set and
 * run, so the next connection resumes after it (also a full catch-up of a grown tree set, whose
 * mark is below the sequence stored before); its {@code serverSeq} is the node's epochSeq, so a
 * server restored from a backup taken before it refuses the node. A mark where none can come is
 * a protocol error.
 */
@Timeout(60)
class CatchUpMarkTest {
    @TempDir Path dir;

    /** A tree of its own, not versioned, beside Part. */
    public record Note(String text, int n) { }

    private long outboxSeq;

    /** Stores {@code count} new records of {@code tree} through {@code writer}, one change each, in id order; returns their keys. */
    private <V extends Record> List<Key<?>> write(CoreConn writer, Class<V> type, String tree, int count, IntFunction<V> make) {
        RecordCodec<V> codec = CoreConn.codec(type, tree);
        long fingerprint = codec.schema().fingerprint();
        int from = CoreConn.last(Message.Keys.class, writer.send(new Message.NeedKeys(tree))).from();
        List<Message> changes = new ArrayList<>();
        changes.add(new Message.SchemaDef(tree, false, fingerprint, codec.schema().toBytes()));
        List<Key<?>> keys = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Key<?> k = new Key<>(tree, from + i, 0);
            keys.add(k);
            byte[] value = CoreConn.recordValue(0, 0, 0, writer.peer.clientId(), codec.encode(make.apply(i)));
            changes.add(new Message.Change(++outboxSeq, k, Message.Kind.CREATED, fingerprint, value));
        }
        writer.send(changes.toArray(Message[]::new));
        return keys;
    }

    private static CoreConn writer(ServerCore core) {
        CoreConn w = new CoreConn(core);
        w.hello(UUID.randomUUID(), "writer");
        return w;
    }

    private static Message.Hello hello(int version, UUID client) {
        return new Message.Hello(version, SyncFixture.APP, client, "r", 0, List.of(), List.of(), new byte[0], Message.NONE);
    }

    /** Runs rounds until {@code c} is caught up (bounded). */
    private static void catchUp(ServerCore core, CoreConn c) {
        for (int i = 0; i < 100 && c.received.stream().noneMatch(m -> m instanceof Message.CaughtUp); i++) core.endRound();
        assertInstanceOf(Message.CaughtUp.class, c.received.getLast());
    }

    /** The serverSeq of every Pushed among {@code messages}, in order. */
    private static List<Long> pushedSeqs(List<Message> messages) {
        return messages.stream().filter(m -> m instanceof Message.Pushed).map(m -> ((Message.Pushed) m).serverSeq()).toList();
    }

    private static List<Long> range(long fromInclusive, long toInclusive) {
        return java.util.stream.LongStream.rangeClosed(fromInclusive, toInclusive).boxed().toList();
    }

    /**
     * Version 6: a mark after every batch but the last, naming the cursor and the server's
     * sequence, and inside a batch after each 32 KiB of values; every record at or below a mark
     * went out before it. Versions 2 to 5: no mark
     * (their decoders refuse tag 18), the same records and CaughtUp.
     */
    @Test
    void theServerMarksEveryBatchOnVersion6ConnectionsOnly() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000)) {
            write(writer(core), Part.class, "Part", 600, i -> part(i));
            for (int v = 2; v <= 6; v++) {
                CoreConn r = new CoreConn(core);
                r.send(hello(v, UUID.randomUUID()));
                catchUp(core, r);
                List<Message.CaughtUpTo> marks = r.received.stream().filter(m -> m instanceof Message.CaughtUpTo)
                    .map(m -> (Message.CaughtUpTo) m).toList();
                if (v < 6) {
                    assertEquals(List.of(), marks, "version " + v);
                } else {
                    // After each batch (256 records) and inside one after each 32 KiB of values.
                    assertTrue(marks.containsAll(List.of(new Message.CaughtUpTo(256, 600), new Message.CaughtUpTo(512, 600))), marks.toString());
                    for (int i = 1; i < marks.size(); i++) assertTrue(marks.get(i).seq() > marks.get(i - 1).seq(), marks.toString());
                    assertTrue(marks.stream().allMatch(m -> m.serverSeq() == 600 && m.seq() < 600), marks.toString());
                }
                for (Message.CaughtUpTo mark : marks) {
                    assertEquals(range(1, mark.seq()), pushedSeqs(r.received.subList(0, r.received.indexOf(mark))));
                }
                assertEquals(range(1, 600), pushedSeqs(r.received), "version " + v);
                assertEquals(new Message.CaughtUp(600), r.received.getLast());
            }
        }
    }

    /**
     * A record handed to a node still catching up goes to it before its Borrow, out of the
     * log's order (sync-protocol.md §5.4): the next mark still names the catch-up's own cursor,
     * not that record's sequence, and the catch-up sends the record again at its place. The node
     * applies the record but keeps the last mark: cut there, it resumes after the mark. Had it
     * moved to the record's sequence, the records between would never come.
     */
    @Test
    void aRecordSentOutOfOrderDoesNotMoveTheMark() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000);
             Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            CoreConn w = writer(core);
            List<Key<?>> keys = write(w, Part.class, "Part", 900, i -> part(i));
            Key<?> k = keys.get(499);
            w.send(new Message.CheckOut(k));
            RecordCodec<Part> codec = CoreConn.codec(Part.class, "Part");
            w.send(new Message.Change(++outboxSeq, k, Message.Kind.CHANGED, codec.schema().fingerprint(),
                CoreConn.recordValue(0, 1, 1, w.peer.clientId(), codec.encode(part(5000)))));
            assertEquals(901, core.seq());

            SyncReplica replica = SyncReplica.install(db);
            TreeImpl<Part> parts = TreeImpl.open(db, Part.class, null);
            ManualLink r = new ManualLink(core, replica);
            r.deliverUp();
            r.deliverDown(Integer.MAX_VALUE);
            assertEquals(new Message.CaughtUpTo(256, 901), r.received.getLast());
            r.session.checkOut(k); // queued behind the writer; the round sends the next batch (the record left 500)
            r.session.pump();
            r.deliverUp();
            r.deliverDown(Integer.MAX_VALUE);
            assertEquals(new Message.CaughtUpTo(513, 901), r.received.getLast());
            assertEquals(513, replica.lastSeq());

            w.send(new Message.CheckIn(k));  // handed to the node: its record first, then the Borrow, then a batch
            List<Message> handOver = List.copyOf(r.down);
            assertEquals(k, ((Message.Pushed) handOver.getFirst()).key());
            assertEquals(901, ((Message.Pushed) handOver.getFirst()).serverSeq());
            int borrow = 1;
            while (!(handOver.get(borrow) instanceof Message.Borrow)) borrow++;
            assertEquals(db.nodeId(), ((Message.Borrow) handOver.get(borrow)).holder());
            assertEquals(new Message.CaughtUpTo(769, 901), handOver.getLast(), "the next batch's mark: its cursor");
            r.deliverDown(borrow + 1); // the record and the Borrow, not the batch
            assertEquals(part(5000), parts.get(parts.keys().stream().filter(x -> x.equals(k)).findFirst().orElseThrow()));
            assertEquals(513, replica.lastSeq(), "the out-of-order record does not move it");
            r.cut();

            ManualLink again = new ManualLink(core, replica);
            assertEquals(513, assertInstanceOf(Message.Hello.class, again.up.getFirst()).lastSeq());
            again.settle();
            // The node holds the record: the snapshot's Borrow naming it holder comes after the
            // record's latest state (§5.4), which the server cannot know it has; then what lies
            // above the mark, the record at its place again.
            List<Long> expected = new java.util.ArrayList<>(List.of(901L));
            expected.addAll(range(514, 901));
            assertEquals(expected, pushedSeqs(again.received), "the held record, then what lies above the mark");
            assertEquals(900, parts.size());
            assertEquals(901, replica.lastSeq());
        }
    }

    /**
     * The node stores a mark as syncSeq, with its trees, the connection's run and the server's
     * sequence as its epochSeq; the next Hello resumes after it and the server sends only what
     * lies above it.
     */
    @Test
    void aCatchUpCutAfterAMarkResumesAfterIt() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000);
             Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            write(writer(core), Part.class, "Part", 600, i -> part(i));
            SyncReplica replica = SyncReplica.install(db);
            TreeImpl<Part> parts = TreeImpl.open(db, Part.class, null);
            ManualLink first = new ManualLink(core, replica);
            first.deliverUp();
            first.deliverDown(Integer.MAX_VALUE);
            assertEquals(new Message.CaughtUpTo(256, 600), first.received.getLast());
            assertEquals(256, parts.size());
            assertEquals(256, replica.lastSeq());
            assertEquals(600, replica.epochSeq());
            assertEquals(core.epoch(), replica.syncEpoch());
            dev.cairn.db.NodeSummary stats = db.read(dev.cairn.db.NodeSummary::read); // what `cairn stats` prints
            assertEquals(List.of(256L, 600L), List.of(stats.syncSeq(), stats.epochSeq()));
            first.cut();

            ManualLink second = new ManualLink(core, replica);
            Message.Hello h = assertInstanceOf(Message.Hello.class, second.up.getFirst());
            assertEquals(256, h.lastSeq());
            assertEquals(600, h.epochSeq());
            assertEquals(core.epoch(), h.epoch());
            second.settle();
            assertEquals(range(257, 600), pushedSeqs(second.received), "nothing the first connection marked again");
            assertEquals(600, parts.size());
            assertEquals(600, replica.lastSeq());
            assertEquals(600, replica.epochSeq());
            stats = db.read(dev.cairn.db.NodeSummary::read);
            assertEquals(List.of(600L, 600L), List.of(stats.syncSeq(), stats.epochSeq()));
        }
    }

    /**
     * A tree added to the set (§5.6): the full catch-up's marks lie below the sequence the node
     * had for its trees before. The mark is stored lower, with the grown set: kept at the higher
     * one, the next Hello would resume past the added tree's records it has not received.
     */
    @Test
    void aFullCatchUpCutShortResumesBelowTheSequenceItHadBefore() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000);
             Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            CoreConn w = writer(core);
            write(w, Note.class, "Note", 600, i -> new Note("note " + i, i));
            write(w, Part.class, "Part", 10, i -> part(i));
            SyncReplica replica = SyncReplica.install(db);
            TreeImpl<Part> parts = TreeImpl.open(db, Part.class, null);
            TreeImpl<Note> notes = TreeImpl.open(db, Note.class, null);
            ManualLink partsOnly = new ManualLink(core, replica, Set.of("Part"), FrameCodec.PROTOCOL_VERSION);
            partsOnly.settle();
            assertEquals(610, replica.lastSeq());
            assertEquals(10, parts.size());
            partsOnly.cut();

            Set<String> both = Set.of("Part", "Note");
            ManualLink full = new ManualLink(core, replica, both, FrameCodec.PROTOCOL_VERSION);
            Message.Hello h = assertInstanceOf(Message.Hello.class, full.up.getFirst());
            assertEquals(0, h.lastSeq(), "a full catch-up");
            assertEquals(610, h.epochSeq());
            full.deliverUp();
            full.deliverDown(Integer.MAX_VALUE);
            assertEquals(new Message.CaughtUpTo(256, 610), full.received.getLast());
            assertEquals(256, notes.size());
            assertEquals(256, replica.lastSeq(), "below the 610 it had for Part alone");
            assertEquals(610, replica.epochSeq(), "its records still come from 610");
            assertEquals(256, replica.catchUpFrom(both));
            assertEquals(256, replica.catchUpFrom(Set.of("Part")));
            full.cut();

            ManualLink resumed = new ManualLink(core, replica, both, FrameCodec.PROTOCOL_VERSION);
            assertEquals(256, assertInstanceOf(Message.Hello.class, resumed.up.getFirst()).lastSeq());
            resumed.settle();
            assertEquals(range(257, 610), pushedSeqs(resumed.received));
            assertEquals(600, notes.size());
            assertEquals(10, parts.size());
            assertEquals(610, replica.lastSeq());
        }
    }

    /**
     * The mark's serverSeq is the node's epochSeq (§4.4). The node links and catches up to 512;
     * a backup is taken (at 1000, the node's link token in it); record 550 changes (1001); the
     * next batch goes to 769 as of 1001, without record 550, which lies at 1001 now. The server
     * restored from that backup holds record 550 at 550, below the mark: resumed after 769, it
     * would never send it, and the node's link token, which the backup holds, does not tell. The
     * run check does (the restored run began at 1001, not above the node's 1001): refused,
     * nothing changed. The newest folder serves it, and it ends with every record.
     */
    @Test
    void aServerRestoredFromABackupOlderThanTheMarksStateRefusesTheNode() throws Exception {
        Path server = dir.resolve("server");
        Key<?> changed;
        UUID firstRun;
        try (Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(db);
            TreeImpl<Part> parts = TreeImpl.open(db, Part.class, null);
            try (ServerCore core = ServerCore.open(server, SyncFixture.APP, 1000)) {
                firstRun = core.epoch();
                CoreConn w = writer(core);
                changed = write(w, Part.class, "Part", 1000, i -> part(i)).get(549);
                w.send(new Message.CheckOut(changed));
                ManualLink link = new ManualLink(core, replica);
                link.deliverUp();
                link.deliverDown(Integer.MAX_VALUE);
                link.deliverUp(); // LinkStored: the node's token is confirmed before the backup
                link.deliverDown(Integer.MAX_VALUE);
                assertEquals(new Message.CaughtUpTo(512, 1000), link.received.getLast());
                ForeignBackup.copy(server, dir.resolve("backup"));
                RecordCodec<Part> codec = CoreConn.codec(Part.class, "Part");
                w.send(new Message.Change(++outboxSeq, changed, Message.Kind.CHANGED, codec.schema().fingerprint(),
                    CoreConn.recordValue(0, 1, 1, w.peer.clientId(), codec.encode(part(7000)))));
                link.deliverDown(Integer.MAX_VALUE);
                assertEquals(new Message.CaughtUpTo(769, 1001), link.received.getLast());
                assertEquals(768, parts.size(), "record 550 lies at 1001 now");
                link.cut();
            }
            Files.move(server, dir.resolve("newest"));
            Files.move(dir.resolve("backup"), server);
            try (ServerCore restored = ServerCore.open(server, SyncFixture.APP, 1000)) {
                ManualLink link = new ManualLink(restored, replica);
                Message.Hello h = assertInstanceOf(Message.Hello.class, link.up.getFirst());
                assertEquals(List.of(769L, 1001L, firstRun), List.of(h.lastSeq(), h.epochSeq(), h.epoch()));
                link.deliverUp();
                Message.Error e = assertInstanceOf(Message.Error.class, link.down.getFirst());
                assertEquals(ErrorCode.SERVER_BEHIND, e.code());
                assertTrue(e.text().startsWith("node 'node' has every change up to 1001 from a run of this server, but this "
                    + "server's database went on from 1000 after that run"), e.text());
                assertThrows(ClientSession.Failure.class, () -> link.deliverDown(1));
                link.cut();
            }
            assertEquals(768, parts.size(), "nothing changed on the node");
            dev.cairn.testing.TestFiles.deleteTree(server);
            Files.move(dir.resolve("newest"), server);
            try (ServerCore newest = ServerCore.open(server, SyncFixture.APP, 1000)) {
                ManualLink link = new ManualLink(newest, replica);
                link.settle();
                assertEquals(1000, parts.size());
                Key<Part> k = parts.keys().stream().filter(x -> x.equals(changed)).findFirst().orElseThrow();
                assertEquals(part(7000), parts.get(k));
            }
        }
    }

    /**
     * A mark where the server sends none is a protocol error, and stores nothing: on a version 5
     * connection (a version 5 node could not even decode it), after CaughtUp, below an earlier
     * mark, or naming a server sequence below the Welcome's. A node that resumes a catch-up cut
     * short checks a server below version 5 itself: one whose sequence is below the mark's
     * serverSeq is behind (SERVER_BEHIND), nothing changed.
     */
    @Test
    void aMarkWhereNoneIsSentIsAProtocolErrorAndAnOlderServerBehindTheMarkIsRefused() {
        try (Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(db);
            UUID server = UUID.randomUUID();
            UUID run = new UUID(1, 1);
            ClientSession v5 = new ClientSession(replica, Set.of(), m -> { }, 5);
            v5.start();
            v5.onMessage(new Message.Welcome(5, server, 100, new UUID(1, 7), run));
            ClientSession.Failure f = assertThrows(ClientSession.Failure.class, () -> v5.onMessage(new Message.CaughtUpTo(7, 100)));
            assertEquals(new Message.Error(ErrorCode.PROTOCOL, "CaughtUpTo on a protocol version 5 connection (expected: version 6)"),
                f.told());
            assertEquals(0, replica.lastSeq());

            ClientSession s = new ClientSession(replica, Set.of(), m -> { });
            s.start();
            s.onMessage(new Message.Welcome(6, server, 100, new UUID(2, 7), run));
            f = assertThrows(ClientSession.Failure.class, () -> s.onMessage(new Message.CaughtUpTo(7, 99)));
            assertEquals("CaughtUpTo(7, 99) below the catch-up's earlier mark (0, 100)", f.told().text());
            assertEquals(0, replica.lastSeq());

            ClientSession s2 = new ClientSession(replica, Set.of(), m -> { });
            s2.start();
            s2.onMessage(new Message.Welcome(6, server, 100, new UUID(3, 7), run));
            s2.onMessage(new Message.CaughtUpTo(7, 100));
            assertEquals(List.of(7L, 100L, run), List.of(replica.lastSeq(), replica.epochSeq(), replica.syncEpoch()));
            f = assertThrows(ClientSession.Failure.class, () -> s2.onMessage(new Message.CaughtUpTo(6, 100)));
            assertEquals("CaughtUpTo(6, 100) below the catch-up's earlier mark (7, 100)", f.told().text());
            assertEquals(7, replica.lastSeq());

            ClientSession s3 = new ClientSession(replica, Set.of(), m -> { });
            s3.start();
            s3.onMessage(new Message.Welcome(6, server, 100, new UUID(4, 7), run));
            s3.onMessage(new Message.CaughtUp(100));
            f = assertThrows(ClientSession.Failure.class, () -> s3.onMessage(new Message.CaughtUpTo(100, 100)));
            assertEquals("CaughtUpTo after CaughtUp", f.told().text());
            assertEquals(List.of(100L, 100L), List.of(replica.lastSeq(), replica.epochSeq()));

            // Cut short again at 110 of 120; then a version 4 server (its Hello has no epochSeq) at 115.
            ClientSession s4 = new ClientSession(replica, Set.of(), m -> { });
            s4.start();
            s4.onMessage(new Message.Welcome(6, server, 120, new UUID(5, 7), run));
            s4.onMessage(new Message.CaughtUpTo(110, 120));
            List<Message> sent = new ArrayList<>();
            ClientSession v4 = new ClientSession(replica, Set.of(), sent::add, 4);
            v4.start();
            assertEquals(110, assertInstanceOf(Message.Hello.class, sent.getFirst()).lastSeq());
            f = assertThrows(ClientSession.Failure.class, () -> v4.onMessage(new Message.Welcome(4, server, 115, new UUID(6, 7))));
            assertEquals("SERVER_BEHIND: this node has records of the server's sequence 120, but the server's database ends at "
                + "115 (it is older than what it served: restored from a backup?). Nothing was changed", f.getMessage());
            assertEquals(List.of(110L, 120L, run), List.of(replica.lastSeq(), replica.epochSeq(), replica.syncEpoch()));
        }
    }
}
