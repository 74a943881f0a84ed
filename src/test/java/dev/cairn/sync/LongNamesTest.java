package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Cairn;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names have a length (probe 103): a user name of 65,536 bytes wrapped the record header's u16
 * length and damaged the records it changed; an app id or node name of 65,535 bytes, quoted in
 * an error text, made a message too long to send, and the server stopped. Options refuse names
 * over 255 bytes of UTF-8, and reasons are cut to 4,096 chars, so that the server answers a
 * peer with such a name and serves on.
 */
@Timeout(60)
class LongNamesTest {
    @TempDir Path dir;

    @Test
    void optionsRefuseNamesOverTheirLength() {
        Cairn.Options o = Cairn.Options.defaults();
        String name255 = "é".repeat(127) + "x"; // 255 bytes of UTF-8
        assertEquals(name255, o.withUser(name255).user());
        assertEquals(name255, o.withNodeName(name255).nodeName());
        assertEquals(name255, o.withAppId(name255).appId());
        String name256 = "é".repeat(128);
        assertEquals("user of 256 bytes of UTF-8 (expected: at most 255)",
            assertThrows(IllegalArgumentException.class, () -> o.withUser(name256)).getMessage());
        assertEquals("nodeName of 65536 bytes of UTF-8 (expected: at most 255)",
            assertThrows(IllegalArgumentException.class, () -> o.withNodeName("x".repeat(65_536))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> o.withAppId(name256));
    }

    @Test
    void reasonsAreCutToFitTheirMessages() {
        String name = "\uD83D\uDE00".repeat(40_000); // 80,000 chars, 160,000 bytes of UTF-8
        Message.Error e = new Message.Error(1, "app id '" + name + "' is not this server's");
        assertTrue(e.text().length() <= dev.cairn.internal.Limits.REASON_CHARS_MAX, e.text().length() + " chars");
        assertTrue(e.text().endsWith(" more chars cut)"), e.text().substring(e.text().length() - 40));
        assertEquals(-1, dev.cairn.internal.Text.unpairedSurrogate(e.text()));
        assertEquals(e, roundTrip(e));
        Message.Refused r = new Message.Refused(3, 20, "held by " + name, new Message.Pushed(5,
            new dev.cairn.Key<>("T", 1, 0), 0, new byte[0]));
        assertTrue(r.reason().length() <= dev.cairn.internal.Limits.REASON_CHARS_MAX);
        assertEquals(r.reason(), ((Message.Refused) roundTrip(r)).reason());
    }

    private static Message roundTrip(Message m) {
        List<Message> out = new java.util.ArrayList<>();
        new FrameCodec.Decoder().feed(java.nio.ByteBuffer.wrap(FrameCodec.encode(m)), out);
        return out.getFirst();
    }

    @Test
    void aServerAnswersAHelloWithAVeryLongAppIdAndServesOn() throws Exception {
        try (SyncFixture f = new SyncFixture(dir); Socket s = new Socket("127.0.0.1", f.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(FrameCodec.encode(new Message.Hello(FrameCodec.PROTOCOL_VERSION, "x".repeat(65_535),
                UUID.randomUUID(), "n".repeat(65_535), 0, List.of(), List.of(), new byte[0], Message.NONE)));
            List<Message> answer = SyncFixture.readMessages(s, 1);
            assertEquals(1, answer.size(), answer.toString());
            Message.Error refused = (Message.Error) answer.getFirst();
            assertEquals(ErrorCode.APP_ID, refused.code());
            assertTrue(refused.text().endsWith(" more chars cut)"), refused.text().substring(0, 200));
            Cairn a = f.connected("a"); // the server serves on
            assertTrue(a.isConnected());
        }
    }
    /**
     * A Hello larger than the server reads before one (1 MiB) is not sent: the link stops and
     * says why. Before, the server answered PROTOCOL and the node sent the same Hello again for
     * ever (probe 103: 4,200 trees of 250-byte names).
     */
    @Test
    void aHelloOverTheServersLimitIsNotSentAndTheLinkSaysWhy() {
        try (SyncFixture f = new SyncFixture(dir)) {
            Cairn a = f.open("a");
            java.util.Set<String> trees = new java.util.TreeSet<>();
            for (int i = 0; i < 4_200; i++) trees.add(String.format("%04d", i) + "t".repeat(246));
            java.util.concurrent.CompletionException e = assertThrows(java.util.concurrent.CompletionException.class,
                () -> a.connect("127.0.0.1", f.port(), trees).orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join());
            String message = e.getCause().getMessage();
            assertTrue(message.contains("this node's Hello would be 10" ) && message.contains(" bytes, over the 1048576 a server"
                + " takes (HELLO_FRAME_BYTES_MAX): it names 4200 trees to replicate, "), message);
            assertTrue(message.endsWith("replicate fewer trees (connect with the set of trees this node needs) or give them"
                + " shorter names. Nothing was sent"), message);
            assertEquals(0, f.server.sequence());
            // With the trees it needs, it links.
            a.connect("127.0.0.1", f.port(), java.util.Set.of("Part")).orTimeout(20, java.util.concurrent.TimeUnit.SECONDS).join();
            assertTrue(a.isConnected());
        }
    }
}
