package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.store.Store;
import dev.cairn.store.WriteTxn;
import dev.cairn.testing.Fixtures.Part;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change the server cannot take because of its own value (sync-protocol.md §5.1,
 * INVALID_CHANGE). Before, the server answered it with Error(PROTOCOL): the node sent it first
 * again on every connection, every 5 s, and no later change of it ever reached the server. Found
 * with a record whose header the overflow of an update left at metaIteration Long.MIN_VALUE.
 */
@Timeout(120)
class InvalidChangeTest {
    @TempDir Path dir;

    @Test
    void aChangeRefusedForItsValueIsRolledBackAndTheNodesLaterChangesStillSync() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            Key<Part> bad = pa.insert(part(1));
            Key<Part> good = pa.insert(part(2));
            pa.checkOut(bad).join();
            pa.checkOut(good).join();
            await("b has both records", () -> pb.contains(bad) && pb.contains(good));
            a.disconnect();
            pa.update(bad, part(3));
            pa.update(good, part(4)); // offline: both in the outbox, the bad one first
            f.clients.remove(a);
            a.close();
            try (Store store = Store.open(dir.resolve("a")); WriteTxn w = store.beginWrite()) {
                byte[] k = ByteBuffer.allocate(8).putInt(bad.id()).putInt(bad.revision()).array();
                byte[] value = w.get("data:Part", k).toArray(ValueLayout.JAVA_BYTE);
                ByteBuffer.wrap(value).putLong(24, Long.MIN_VALUE); // what the overflow left: meta < data
                w.put("data:Part", k, value);
                w.commit();
            }

            Cairn again = f.open("a");
            again.connect("127.0.0.1", f.port()).orTimeout(30, TimeUnit.SECONDS).join(); // its outbox answered
            Tree<Part> pa2 = again.tree(Part.class);
            await("b gets the change made after the refused one", () -> part(4).equals(pb.get(good)));
            List<Event.ChangeRefused> refused = f.events.get(again).stream()
                .filter(e -> e instanceof Event.ChangeRefused).map(e -> (Event.ChangeRefused) e).toList();
            assertEquals(1, refused.size(), refused.toString());
            assertEquals(bad, refused.getFirst().key());
            assertTrue(refused.getFirst().reason().startsWith("INVALID_CHANGE: change of " + bad
                + ": iterations meta -9223372036854775808 data 1 (expected: 0 <= data <= meta)"), refused.getFirst().reason());
            // Rolled back to the server's version, whose header reads; b never saw the bad one.
            assertEquals(part(1), pa2.get(bad));
            assertEquals(0, pa2.meta(bad).metaIteration());
            assertEquals(part(1), pb.get(bad));
            assertEquals(part(4), pa2.get(good));
            assertTrue(again.isConnected() && b.isConnected());
        }
    }
}
