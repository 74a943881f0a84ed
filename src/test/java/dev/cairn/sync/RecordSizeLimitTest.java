package dev.cairn.sync;

import static dev.cairn.sync.SyncFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.internal.Limits;
import dev.cairn.testing.Fixtures.Part;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records are limited to what one sync frame carries (Limits.RECORD_BYTES_MAX). Before, a node
 * stored a 17 MiB record, its link thread died encoding the Change, and since the record stayed
 * first in the outbox, every later connect died the same way: the node's sync stopped for good.
 */
@Timeout(120)
class RecordSizeLimitTest {
    private static final Pattern BYTES = Pattern.compile(": (\\d+) bytes with its metadata");
    @TempDir Path dir;

    @Test
    void aRecordAtTheLimitSyncsAndOneByteMoreIsRefusedWithNothingStored() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.connected("a");
            Cairn b = f.connected("b");
            Tree<Part> pa = a.tree(Part.class);
            // Learn the metadata's and encoding's share from the refusal of a record surely too big.
            int probe = Limits.RECORD_BYTES_MAX;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> pa.insert(part(probe)));
            Matcher m = BYTES.matcher(e.getMessage());
            assertTrue(m.find(), e.getMessage());
            assertTrue(e.getMessage().startsWith("insert into tree Part: "), e.getMessage());
            int fits = probe - (int) (Long.parseLong(m.group(1)) - Limits.RECORD_BYTES_MAX);
            assertEquals(0, pa.size(), "nothing stored");

            Key<Part> k = pa.insert(part(fits));
            assertThrows(IllegalArgumentException.class, () -> pa.insert(part(fits + 1)));
            Tree<Part> pb = b.tree(Part.class);
            await("b has the largest record", () -> pb.contains(k));
            assertEquals(fits, pb.get(k).name().length());

            pa.checkOut(k).orTimeout(10, TimeUnit.SECONDS).join();
            IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> pa.update(k, part(fits + 1)));
            assertTrue(u.getMessage().startsWith("record " + k + ": "), u.getMessage());
            assertEquals(fits, pa.get(k).name().length(), "the update changed nothing");

            Key<Part> small = pa.insert(part(3));
            await("sync goes on", () -> pb.contains(small));
            assertEquals(2, pa.size());
        }
    }

    /** A client that sends a larger record anyway has that change refused; the server stores nothing and goes on. */
    @Test
    void theServerRefusesALargerRecord() throws Exception {
        try (SyncFixture f = new SyncFixture(dir);
             Socket s = new Socket("127.0.0.1", f.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(SyncFixture.helloFrame("big"));
            assertInstanceOf(Message.Welcome.class, SyncFixture.readMessages(s, 1).getFirst());
            dev.cairn.schema.Schema schema = dev.cairn.schema.Schema.derive(Part.class);
            long fingerprint = schema.fingerprint();
            s.getOutputStream().write(FrameCodec.encode(new Message.NeedKeys("Part")));
            s.getOutputStream().write(FrameCodec.encode(new Message.SchemaDef("Part", false, fingerprint, schema.toBytes())));
            byte[] value = new byte[Limits.RECORD_BYTES_MAX + 1];
            value[0] = 1;                        // a record header that decodes, then the record's tag
            value[56] = (byte) 0xC1;
            s.getOutputStream().write(FrameCodec.encode(new Message.Change(1, new Key<>("Part", 0, 0),
                Message.Kind.CREATED, fingerprint, value)));
            List<Message> answer = SyncFixture.readUntil(s, 1, Message.Refused.class);
            Message.Refused refused = (Message.Refused) answer.getLast();
            assertEquals(ErrorCode.INVALID_CHANGE, refused.code());
            assertTrue(refused.reason().contains("RECORD_BYTES_MAX"), refused.reason());
            assertTrue(answer.stream().noneMatch(x -> x instanceof Message.Error), answer.toString());
            assertEquals(0, f.server.sequence(), "nothing stored");
            Cairn c = f.connected("c");
            assertTrue(c.isConnected());
        }
    }

    private static Part part(int nameChars) {
        return new Part("n".repeat(nameChars), "m", 1, 1L, List.of());
    }
}
