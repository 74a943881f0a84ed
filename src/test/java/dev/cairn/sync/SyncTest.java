package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real sockets on 127.0.0.1: a server and a few clients. */
@Timeout(60)
class SyncTest {
    @TempDir Path dir;

    @Test
    void insertOnOneClientAppearsOnTheOther() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            Tree<Part> pb = b.tree(Part.class);
            await("a has ids", () -> a.tree(Part.class).size() >= 0 && idsReady(pa));
            Key<Part> k = pa.insert(part(1));
            await("b sees the insert", () -> pb.contains(k));
            assertEquals(part(1), pb.get(k));
            assertTrue(a.isConnected());
        }
    }

    static boolean idsReady(Tree<Part> t) {
        return true;
    }
}
