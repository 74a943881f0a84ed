package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose outbox holds far more record bytes than its heap sends them all (probe 61). A
 * child JVM with a 64 MiB heap stores 8 records of 6 MB offline, connects (all of them are due at
 * once) and stores 4 more while connected. Before, the link queued up to 256 changes into one
 * buffer: its thread died of OutOfMemoryError, nothing arrived, and the node never synced again.
 */
@Timeout(120)
class LargeOutboxMemoryTest {
    private static final int OFFLINE = 8;
    private static final int ONLINE = 4;
    private static final int VALUE_BYTES = 6_000_000;
    @TempDir Path dir;

    /** One large record. */
    public record Blob(int seq, byte[] data) { }

    /** The data of record {@code seq}: different for every record, so a mix-up shows. */
    static byte[] data(int seq) {
        byte[] b = new byte[VALUE_BYTES];
        new Random(seq).nextBytes(b);
        return b;
    }

    @Test
    void aNodeWithMoreRecordBytesQueuedThanItsHeapSendsThemAllIntact() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn b = f.connected("b");
            Tree<Blob> blobs = b.tree(Blob.class);
            Process child = ChildJvm.startWithHeap("-Xmx64m", Node.class.getName(), dir.resolve("big").toString(),
                Integer.toString(f.port()));
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                 PrintStream in = new PrintStream(child.getOutputStream(), true, StandardCharsets.UTF_8)) {
                assertEquals("inserted " + (OFFLINE + ONLINE), out.readLine());
                SyncFixture.await("b has all " + (OFFLINE + ONLINE) + " records", () -> blobs.size() == OFFLINE + ONLINE,
                    30_000, () -> "b has " + blobs.size() + "; the node " + (child.isAlive() ? "runs" : "exited"));
                in.println("close");
                assertEquals("connected=true disconnects=0", out.readLine(), "the node stayed connected");
                assertTrue(child.waitFor(20, TimeUnit.SECONDS), "the node closes");
                assertEquals(0, child.exitValue());
            } finally {
                child.destroyForcibly();
            }
            List<Key<Blob>> keys = blobs.keys();
            for (Key<Blob> k : keys) {
                Blob blob = blobs.get(k);
                assertArrayEquals(data(blob.seq()), blob.data(), "record " + k + " (seq " + blob.seq() + ") arrived intact");
            }
            assertEquals(OFFLINE + ONLINE, keys.stream().map(k -> blobs.get(k).seq()).distinct().count());
        }
    }

    /**
     * The node in the child JVM. Arguments: folder, port. Links, stores {@link #OFFLINE} records
     * disconnected and {@link #ONLINE} connected, prints "inserted N", and after a line on
     * standard input prints whether it is connected and the Disconnected events it saw, and closes.
     */
    public static final class Node {
        private Node() { }

        public static void main(String[] args) throws Exception {
            int port = Integer.parseInt(args[1]);
            try (Cairn db = Cairn.open(Path.of(args[0]), SyncFixture.options("big"))) {
                Tree<Blob> blobs = db.tree(Blob.class);
                db.connect("127.0.0.1", port).get(20, TimeUnit.SECONDS); // the first link brings the ids
                db.disconnect();
                for (int i = 0; i < OFFLINE; i++) blobs.insert(new Blob(i, data(i)));
                int[] disconnects = {0};
                db.subscribe(e -> {
                    if (e instanceof Event.Disconnected) disconnects[0]++;
                });
                db.connect("127.0.0.1", port);
                for (int i = OFFLINE; i < OFFLINE + ONLINE; i++) blobs.insert(new Blob(i, data(i)));
                System.out.println("inserted " + blobs.size());
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                System.out.println("connected=" + db.isConnected() + " disconnects=" + disconnects[0]);
            }
        }
    }
}
