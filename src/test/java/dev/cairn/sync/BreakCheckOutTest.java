package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
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
 * An administrator's break of a check-out (sync-protocol.md §5.4), driven through
 * {@link ServerCore} without sockets: the old holder learns of it in the Borrow snapshot of its
 * next connection, also when the record is free again by then (free records are otherwise not
 * listed, and a node asks again for a check-out it holds that the snapshot does not list, §4.1
 * step 5), across server restarts, until it asks for the record again or gives it up.
 */
@Timeout(60)
class BreakCheckOutTest {
    @TempDir Path dir;

    private static final Key<?> K = new Key<>("Part", 3, 0);

    private ServerCore open() {
        return ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
    }

    /** The snapshot Borrows of {@code answer} (a Hello's answer). */
    private static List<Message.Borrow> snapshot(List<Message> answer) {
        return answer.stream().filter(m -> m instanceof Message.Borrow b && b.snapshot()).map(m -> (Message.Borrow) m).toList();
    }

    @Test
    void theOldHolderIsToldOfTheBreakWhileTheRecordIsFreeUntilItAsksForItAgain() {
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        try (ServerCore core = open()) {
            CoreConn ca = new CoreConn(core);
            ca.hello(a, "a");
            ca.send(new Message.NeedKeys("Part"), new Message.CheckOut(K)); // K's id lies in the range issued
            assertTrue(core.breakCheckOut(K));
            core.endRound();
            assertFalse(core.breakCheckOut(K), "nobody holds it now");
            core.endRound();
        }
        try (ServerCore core = open()) {    // kept across a server restart
            assertEquals(List.of(), snapshot(new CoreConn(core).hello(b, "b")), "others are not told of a free record");
            CoreConn ca = new CoreConn(core);
            assertEquals(List.of(new Message.Borrow(K, true, Message.NONE, "", List.of())), snapshot(ca.hello(a, "a")));
            // Told again on every connection: the node may have missed it.
            ca = new CoreConn(core);
            assertEquals(List.of(new Message.Borrow(K, true, Message.NONE, "", List.of())), snapshot(ca.hello(a, "a")));
            // The node asked again, was granted, gave it up: the break is no news any more.
            ca.send(new Message.CheckOut(K), new Message.CheckIn(K));
            assertEquals(List.of(), snapshot(new CoreConn(core).hello(a, "a")));
        }
    }

    @Test
    void aBreakThatHandsTheRecordOnIsListedAsBeforeARefusalSaysTheCheckOutWasBrokenAndARemovalEndsIt() {
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        RecordCodec<Part> parts = CoreConn.codec(Part.class, "Part");
        long fp = parts.schema().fingerprint();
        Schema schema = Schema.derive(Part.class);
        Message.SchemaDef def = new Message.SchemaDef("Part", false, schema.fingerprint(), schema.toBytes());
        try (ServerCore core = open()) {
            CoreConn ca = new CoreConn(core);
            ca.hello(a, "a");
            CoreConn cb = new CoreConn(core);
            cb.hello(b, "b");
            Key<?> k = new Key<>("Part", CoreConn.last(Message.Keys.class, ca.send(new Message.NeedKeys("Part"))).from(), 0);
            ca.send(def, new Message.Change(1, k, Message.Kind.CREATED, fp, CoreConn.recordValue(0, 0, 0, a, parts.encode(part(1)))),
                new Message.CheckOut(k));
            cb.send(def, new Message.CheckOut(k));
            assertTrue(core.breakCheckOut(k));
            core.endRound();
            ca = new CoreConn(core);
            assertEquals(List.of(new Message.Borrow(k, true, b, "b", List.of())), snapshot(ca.hello(a, "a")), "held by b");
            // b gives it up: free again, and a is still told.
            cb.send(new Message.CheckIn(k));
            ca = new CoreConn(core);
            assertEquals(List.of(new Message.Borrow(k, true, Message.NONE, "", List.of())), snapshot(ca.hello(a, "a")));
            // The change a made while it believed it held the record is refused, saying why.
            Message.Refused r = CoreConn.last(Message.Refused.class, ca.send(def, new Message.Change(2, k, Message.Kind.CHANGED, fp,
                CoreConn.recordValue(0, 1, 1, a, parts.encode(part(2))))));
            assertEquals(ErrorCode.NOT_CHECKED_OUT, r.code());
            assertEquals(k + " is not checked out by this client (an administrator broke its check-out)", r.reason());
            // Removed (by b, under its check-out): free for ever, its tombstone tells every node.
            cb.send(new Message.CheckOut(k), new Message.Change(1, k, Message.Kind.REMOVED, 0, new byte[0]));
            assertEquals(List.of(), snapshot(new CoreConn(core).hello(a, "a")));
        }
    }

    /** An administrator's call on a server that has stopped fails at once; it waited for ever. */
    @Test
    void administeringAStoppedServerFailsInsteadOfWaiting() {
        dev.cairn.CairnServer server = dev.cairn.CairnServer.start(dir.resolve("server"), 0);
        int port = server.port();
        assertEquals(0, server.clientCount());
        server.close();
        for (Runnable call : List.<Runnable>of(server::clientCount, () -> server.breakCheckOut("Part", 1, 0),
                server::sequence)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, call::run);
            assertEquals("the sync server on port " + port + " has stopped (closed)", e.getMessage());
        }
    }
}
