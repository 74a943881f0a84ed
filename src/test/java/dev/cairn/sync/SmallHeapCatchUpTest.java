package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Tree;
import dev.cairn.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fresh node with a 16 MiB heap catches up 20,000 records of 1 KB in one connection: a node
 * with a heap under 64 MiB applies its catch-up as it comes, and a larger one keeps at most a
 * 64th of it (ClientSession.CATCH_UP_KEPT_BYTES).
 * With the whole 8 MiB kept, such a node ran out of memory at every connection and never caught
 * up (probe 92: a node at -Xmx20m linked every 5 s for 10 minutes; nodes of the build before
 * that caught up at -Xmx8m).
 */
@Timeout(180)
class SmallHeapCatchUpTest {
    private static final int RECORDS = 20_000;
    @TempDir Path dir;

    public record Item(int seq, String pad) { }

    @Test
    void aNodeWithASmallHeapCatchesUpInOneConnection() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.open("a", SyncFixture.options("a").withIdReserve(RECORDS));
            a.connect("127.0.0.1", f.port()).orTimeout(60, TimeUnit.SECONDS).join();
            Tree<Item> items = a.tree(Item.class);
            for (int from = 0; from < RECORDS; from += 4_000) {
                int start = from;
                items.insertAll(IntStream.range(start, start + 4_000).mapToObj(i -> new Item(i, "p".repeat(1000))).toList());
            }
            SyncFixture.await("the server has them", () -> f.server.sequence() == RECORDS, 60_000);
            Process child = ChildJvm.startWithHeap("-Xmx16m", Node.class.getName(), dir.resolve("small").toString(),
                Integer.toString(f.port()));
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertEquals("caught up " + RECORDS + " records, disconnects 0", out.readLine());
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the node closes");
                assertEquals(0, child.exitValue());
            } finally {
                child.destroyForcibly();
            }
        }
    }

    /** The node in the child JVM. Arguments: folder, port. Connects, waits for the catch-up, says how it went, closes. */
    public static final class Node {
        private Node() { }

        public static void main(String[] args) throws Exception {
            try (Cairn db = Cairn.open(Path.of(args[0]), SyncFixture.options("small"))) {
                List<String> ended = new java.util.concurrent.CopyOnWriteArrayList<>();
                db.subscribe(e -> {
                    if (e instanceof Event.Disconnected d) ended.add(d.reason());
                });
                db.connect("127.0.0.1", Integer.parseInt(args[1])).get(60, TimeUnit.SECONDS);
                System.out.println("caught up " + db.tree(Item.class).size() + " records, disconnects " + ended.size()
                    + (ended.isEmpty() ? "" : ": " + ended));
            }
        }
    }
}
