package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.schema.RecordCodec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's first catch-up skips the tombstones of records removed before it linked
 * (sync-protocol.md §4.2 step 2): it never held them, and every removal ever made was sent to
 * every new node (probe 121: 67,000 of a fresh node's 68,000 records were tombstones, for 1,200
 * live records). Any other catch-up sends them, and so does a first one for removals made while
 * it runs and for versioned trees (a node must not make a removed revision again).
 */
@Timeout(60)
class FreshNodeCatchUpTest {
    @TempDir Path dir;

    public record Note(String text, int n) { }

    private long outboxSeq;

    /** Stores {@code count} new records of {@code tree} through {@code writer}; returns their keys. */
    private List<Key<?>> write(CoreConn writer, String tree, boolean versioned, int count) {
        RecordCodec<Note> codec = CoreConn.codec(Note.class, tree);
        long fingerprint = codec.schema().fingerprint();
        List<Key<?>> keys = new ArrayList<>();
        while (keys.size() < count) {
            Message.Keys range = CoreConn.last(Message.Keys.class, writer.send(new Message.NeedKeys(tree)));
            List<Message> changes = new ArrayList<>();
            changes.add(new Message.SchemaDef(tree, versioned, fingerprint, codec.schema().toBytes()));
            for (int id = range.from(); id < range.toExclusive() && keys.size() < count; id++) {
                Key<?> k = new Key<>(tree, id, 0);
                keys.add(k);
                byte[] value = CoreConn.recordValue(versioned ? 1 : 0, 0, 0, writer.peer.clientId(), codec.encode(new Note("note " + id, id)));
                changes.add(new Message.Change(++outboxSeq, k, Message.Kind.CREATED, fingerprint, value));
            }
            List<Message> answer = writer.send(changes.toArray(Message[]::new));
            assertTrue(answer.stream().noneMatch(m -> m instanceof Message.Refused || m instanceof Message.Error), answer.toString());
        }
        return keys;
    }

    /** Removes {@code keys} through {@code writer}, each under a check-out. */
    private void remove(CoreConn writer, List<Key<?>> keys) {
        for (Key<?> k : keys) {
            List<Message> answer = writer.send(new Message.CheckOut(k), new Message.Change(++outboxSeq, k, Message.Kind.REMOVED, 0, new byte[0]));
            assertTrue(answer.stream().anyMatch(m -> m instanceof Message.Ack), "removal of " + k + ": " + answer);
        }
    }

    private static CoreConn writer(ServerCore core) {
        CoreConn w = new CoreConn(core);
        w.hello(UUID.randomUUID(), "writer");
        return w;
    }

    /** Runs rounds until {@code c} is caught up (bounded). */
    private static void catchUp(ServerCore core, CoreConn c) {
        for (int i = 0; i < 200 && c.received.stream().noneMatch(m -> m instanceof Message.CaughtUp); i++) core.endRound();
        assertInstanceOf(Message.CaughtUp.class, c.received.getLast());
    }

    private static List<Message.Pushed> pushed(List<Message> messages) {
        return messages.stream().filter(m -> m instanceof Message.Pushed).map(m -> (Message.Pushed) m).toList();
    }

    @Test
    void aFreshNodesCatchUpSkipsTombstonesOfUnversionedTreesOnly() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000)) {
            CoreConn w = writer(core);
            List<Key<?>> notes = write(w, "Note", false, 10);
            List<Key<?>> docs = write(w, "Doc", true, 4);
            remove(w, notes.subList(0, 6));
            remove(w, docs.subList(0, 1));
            long seq = core.seq();

            CoreConn fresh = new CoreConn(core);
            fresh.hello(UUID.randomUUID(), "fresh");
            catchUp(core, fresh);
            Set<Key<?>> expected = new HashSet<>(notes.subList(6, 10));
            expected.addAll(docs); // the versioned tree's tombstone too
            List<Message.Pushed> got = pushed(fresh.received);
            assertEquals(expected, new HashSet<>(got.stream().map(Message.Pushed::key).toList()));
            assertEquals(expected.size(), got.size());
            assertEquals(new Message.CaughtUp(seq), fresh.received.getLast());

            // A node that linked before (it names this server) catching up from 0, as after a
            // grown tree set, may hold any of them: it gets every tombstone.
            CoreConn linked = new CoreConn(core);
            linked.send(new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, UUID.randomUUID(), "linked", 0,
                List.of(), List.of(), new byte[0], Message.NONE, core.serverId()));
            catchUp(core, linked);
            assertEquals(14, pushed(linked.received).size(), linked.received.toString());
            assertEquals(7, pushed(linked.received).stream().filter(Message.Pushed::removed).count());

            // So does a Hello below version 5, which names no server whether it linked or not.
            CoreConn old = new CoreConn(core);
            old.send(new Message.Hello(4, SyncFixture.APP, UUID.randomUUID(), "old", 0, List.of(), List.of(), new byte[0],
                Message.NONE));
            catchUp(core, old);
            assertEquals(14, pushed(old.received).size(), old.received.toString());
        }
    }

    /**
     * A record the first catch-up sent, removed while it runs, reaches the node as a tombstone at
     * its place above the sequence the node linked at: the node drops it. The records removed
     * before it linked never come, and the node ends with the live records only.
     */
    @Test
    void aRecordRemovedDuringAFreshNodesCatchUpReachesItAsATombstone() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000);
             Database db = Database.open(dir.resolve("node"), "node", "u", SyncFixture.APP, 1 << 16)) {
            CoreConn w = writer(core);
            List<Key<?>> notes = write(w, "Note", false, 700);
            remove(w, notes.subList(600, 700)); // before the node links: never sent

            SyncReplica replica = SyncReplica.install(db);
            TreeImpl<Note> local = TreeImpl.open(db, Note.class, null);
            ManualLink link = new ManualLink(core, replica);
            link.deliverUp();
            link.deliverDown(Integer.MAX_VALUE);
            assertEquals(256, local.size(), "the first batch (not vacuous: the record below is in it)");
            assertTrue(local.keys().contains(notes.get(10)));
            remove(w, List.of(notes.get(10)));
            link.settle();

            assertEquals(599, local.size());
            assertTrue(!local.keys().contains(notes.get(10)), "the record removed while the node caught up is gone");
            List<Message.Pushed> got = pushed(link.received);
            assertEquals(1, got.stream().filter(Message.Pushed::removed).count(), "the one tombstone: " + got.size());
            assertEquals(core.seq(), replica.lastSeq());
        }
    }

    /**
     * A node that replicates one tree catching up past thousands of entries of another: each
     * batch looks at most PUMP_LOOKS_MAX log entries, so a loop pass never walks the whole log,
     * and the marks between say how far it got.
     */
    @Test
    void aCatchUpLooksAtABoundedStretchOfTheLogEachBatch() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000)) {
            CoreConn w = writer(core);
            write(w, "Note", false, ServerCore.PUMP_LOOKS_MAX + 1000);
            List<Key<?>> docs = write(w, "Doc", false, 3);

            CoreConn reader = new CoreConn(core);
            List<Message> first = reader.send(new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, UUID.randomUUID(),
                "reader", 0, List.of("Doc"), List.of(), new byte[0], Message.NONE));
            assertEquals(new Message.CaughtUpTo(ServerCore.PUMP_LOOKS_MAX, core.seq()), first.getLast(), first.toString());
            catchUp(core, reader);
            assertEquals(docs, pushed(reader.received).stream().map(Message.Pushed::key).toList());
        }
    }
}
