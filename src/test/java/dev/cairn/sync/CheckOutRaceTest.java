package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A check-out the server granted while the grant never reached the node (the connection or the
 * process died first). At the next link the server's snapshot lists the node as holder. If the
 * application has asked for that check-out again meanwhile, the snapshot is its grant. Found by
 * SyncCrashTest: the node took the snapshot for a check-in made while offline and sent CheckIn
 * after its own repeated CheckOut, so it believed it held the record, the server freed it, and
 * the node's next update was refused (NOT_CHECKED_OUT) and rolled back.
 */
class CheckOutRaceTest {
    @TempDir Path dir;

    /** The server side of one connection, delivering by hand. */
    private static final class Link {
        final ServerCore core;
        final ServerCore.Peer peer;
        final ClientSession session;
        final ArrayDeque<Message> down = new ArrayDeque<>();
        final ArrayDeque<Message> up = new ArrayDeque<>();
        final List<Message> sentUp = new ArrayList<>();

        Link(ServerCore core, SyncReplica replica) {
            this.core = core;
            peer = core.connect(new ServerCore.Outbound() {
                @Override
                public void send(Message m) {
                    down.add(m);
                }

                @Override
                public long pendingBytes() {
                    return 0;
                }

                @Override
                public void close(String reason) {
                }
            });
            session = new ClientSession(replica, Set.of(), m -> {
                up.add(m);
                sentUp.add(m);
            });
            for (Key<?> k : replica.requestedCheckOuts()) session.checkOut(k);
            session.start();
        }

        void deliverUp() {
            while (!up.isEmpty()) core.onMessage(peer, up.removeFirst());
            core.endRound();
        }

        void deliverDown(int count) {
            for (int i = 0; i < count && !down.isEmpty(); i++) session.onMessage(down.removeFirst());
        }

        void settle() {
            for (int i = 0; i < 100 && (i < 2 || !(up.isEmpty() && down.isEmpty() && session.idle())); i++) {
                session.outboxChanged();
                session.pump();
                deliverUp();
                deliverDown(Integer.MAX_VALUE);
            }
        }

        void cut(SyncReplica replica) {
            core.disconnected(peer);
            replica.sessionEnded();
        }
    }

    @Test
    void aGrantListedInTheSnapshotAfterTheNodeAskedAgainIsKept() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
             Database db = Database.open(dir.resolve("node"), "n", "u", SyncFixture.APP, 1 << 16)) {
            SyncReplica replica = SyncReplica.install(db);
            TreeImpl<Part> tree = TreeImpl.open(db, Part.class, null);
            Link first = new Link(core, replica);
            first.settle();
            Key<Part> k = tree.insert(part(1));
            first.settle();
            assertEquals(1, core.seq(), "the server has the record");

            CompletableFuture<Void> asked = tree.checkOut(k);
            first.session.checkOut(k);
            first.session.pump();
            first.deliverUp();          // the server grants it ...
            first.cut(replica);         // ... and the Borrow never arrives
            assertTrue(!asked.isDone());

            // The next link: the requested check-out goes out before the snapshot is read.
            Link second = new Link(core, replica);
            second.deliverUp();         // Hello -> Welcome, snapshot Borrow(holder = this node)
            second.deliverDown(1);      // the Welcome
            second.session.pump();      // sends CheckOut(k)
            second.settle();

            assertTrue(second.sentUp.stream().noneMatch(m -> m instanceof Message.CheckIn),
                "the node asked for the record: it does not check it in: " + second.sentUp);
            assertTrue(asked.isDone(), "the snapshot granted the request");
            assertInstanceOf(BorrowState.Mine.class, tree.borrowState(k));
            tree.update(k, part(1).withStock(42));
            second.settle();
            assertEquals(2, core.seq(), "the server accepted the update");
            assertEquals(part(1).withStock(42), tree.get(k), "nothing was refused and rolled back");
        }
    }
}
