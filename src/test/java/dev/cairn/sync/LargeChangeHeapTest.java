package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.schema.RecordCodec;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the server allocates to take a change of a large record, measured as bytes this thread
 * allocates. The change's own value is in the heap already; the checks read the stored record
 * once and copy only its head, and check that the change's record bytes decode without copying
 * out its strings. Before, the stored record was copied twice more (whole, then without its
 * head) and the change's strings once more: a -Xmx64m server that held one 16.5 MB record in a
 * queue ran out of heap when its node sent another again (probe 122). The store reads the
 * stored value in place, also across its 4 MiB mapping chunks (this one crosses one; before, it
 * was read as a copy). What is left is the put's: the value is copied into its stored form and
 * into the store's overflow run.
 */
@Timeout(60)
class LargeChangeHeapTest {
    @TempDir Path dir;

    public record Blob(String text, int n) { }

    private static final int TEXT_CHARS = 6_000_000;

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void aLargeChangeIsCheckedAndStoredWithoutCopiesOfItOrOfTheStoredRecord() {
        try (ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 1000)) {
            CoreConn w = new CoreConn(core);
            UUID node = UUID.randomUUID();
            w.hello(node, "writer");
            RecordCodec<Blob> codec = CoreConn.codec(Blob.class, "Blob");
            long fingerprint = codec.schema().fingerprint();
            Message.Keys range = CoreConn.last(Message.Keys.class, w.send(new Message.NeedKeys("Blob")));
            Key<?> key = new Key<>("Blob", range.from(), 0);
            byte[] first = CoreConn.recordValue(0, 0, 0, node, codec.encode(new Blob("a".repeat(TEXT_CHARS), 1)));
            Message.Change insert = new Message.Change(1, key, Message.Kind.CREATED, fingerprint, first);
            w.send(new Message.SchemaDef("Blob", false, fingerprint, codec.schema().toBytes()));
            assertEquals(new Message.Ack(1, key, core.seq() + 1), CoreConn.last(Message.Ack.class, w.send(insert)));

            // Sent again (its Ack lost): compared with what is stored and acknowledged. Before: 4 copies; now none.
            long before = allocated();
            List<Message> again = w.send(insert);
            long resent = allocated() - before;
            assertEquals(new Message.Ack(1, key, core.seq()), CoreConn.last(Message.Ack.class, again));
            assertTrue(resent < first.length / 16, "a change sent again allocated " + resent + " bytes for a value of " + first.length);

            // A change of the record under its check-out. Before: 7 copies; now 2.
            w.send(new Message.CheckOut(key));
            byte[] second = CoreConn.recordValue(0, 1, 1, node, codec.encode(new Blob("b".repeat(TEXT_CHARS), 2)));
            before = allocated();
            List<Message> changed = w.send(new Message.Change(2, key, Message.Kind.CHANGED, fingerprint, second));
            long stored = allocated() - before;
            assertEquals(new Message.Ack(2, key, core.seq()), CoreConn.last(Message.Ack.class, changed));
            assertTrue(stored < second.length * 5L / 2, "a change allocated " + stored + " bytes for a value of " + second.length);
        }
    }
}
