package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.*;

import dev.cairn.Key;
import dev.cairn.internal.Limits;
import dev.cairn.sync.net.SelectorLoop;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers that announce large frames and send little, never finish a frame, or never say Hello:
 * the server holds memory for what arrived only, keeps the sum under its cap (closing the
 * connections whose partial frames arrive slowest, named with their address in the journal),
 * closes silent connections, and goes on serving.
 * Before the fix, a hundred connections announcing 16 MiB frames with 1 KB each ran the server
 * out of heap and killed its loop thread.
 */
class HostilePeerTest {
    @TempDir Path dir;

    @Test
    void aDecoderHoldsWhatArrivedNotWhatWasAnnounced() {
        byte[] value = new byte[3 << 20];
        new Random(1).nextBytes(value);
        byte[] frame = FrameCodec.encode(new Message.Pushed(7, new Key<>("t", 1, 0), 9, value));
        FrameCodec.Decoder decoder = new FrameCodec.Decoder();
        List<Message> out = new ArrayList<>();
        decoder.feed(ByteBuffer.wrap(frame, 0, 1000), out);
        assertEquals(64 << 10, decoder.bufferedBytes(), "a 3 MiB frame after 1000 bytes");
        decoder.feed(ByteBuffer.wrap(frame, 1000, 200_000), out);
        assertEquals(256 << 10, decoder.bufferedBytes(), "after 201,000 bytes: doubled twice");
        for (int at = 201_000; at < frame.length; at += 77_777) {
            decoder.feed(ByteBuffer.wrap(frame, at, Math.min(77_777, frame.length - at)), out);
            assertTrue(decoder.bufferedBytes() <= 2L * (at + 77_777), "held " + decoder.bufferedBytes() + " after " + at);
        }
        assertEquals(1, out.size());
        assertArrayEquals(value, ((Message.Pushed) out.getFirst()).value());
        assertTrue(decoder.idle());
        assertEquals(0, decoder.bufferedBytes());
    }

    @Test
    void silentAndOversizedPeersAreClosedAndTheServerGoesOnServing() throws Exception {
        long cap = 1 << 20;
        ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100);
        List<String> journal = new java.util.concurrent.CopyOnWriteArrayList<>();
        core.journal(journal::add);
        try (SelectorLoop loop = new SelectorLoop(core, new InetSocketAddress("127.0.0.1", 0), Limits.PENDING_BYTES_MAX, cap, 1000);
             dev.cairn.testing.LogLines log = new dev.cairn.testing.LogLines(SelectorLoop.class)) {
            int port = loop.port();
            // Closes in the middle of its Hello: said, with how much of it came (before: no line at all).
            String cutFrom;
            try (Socket cut = connect(port)) {
                cutFrom = "127.0.0.1:" + cut.getLocalPort();
                cut.getOutputStream().write(Arrays.copyOf(SyncFixture.helloFrame("cut"), 7));
                cut.getOutputStream().flush();
                Thread.sleep(100);
            }
            String cutLine = "a connection from " + cutFrom + " closed in the middle of its Hello, after 7 bytes";
            long cutDeadline = System.nanoTime() + 5_000_000_000L;
            while (!journal.contains(cutLine) && System.nanoTime() < cutDeadline) Thread.sleep(5);
            assertTrue(journal.contains(cutLine), journal.toString());
            // Its whole Hello and the close in one read (the loop was busy): said as such (probe 75:
            // complete Hellos of connections that waited in the backlog read as cut in the middle).
            Thread loopBusy = Thread.ofVirtual().start(() -> loop.call(() -> {
                java.util.concurrent.locks.LockSupport.parkNanos(500_000_000L);
                return null;
            }));
            Thread.sleep(100);
            byte[] whole = SyncFixture.helloFrame("whole");
            String wholeFrom;
            try (Socket s = connect(port)) {
                wholeFrom = "127.0.0.1:" + s.getLocalPort();
                s.getOutputStream().write(whole);
            }
            loopBusy.join();
            String wholeLine = "a connection from " + wholeFrom + " sent its whole Hello and closed before it was answered, after "
                + whole.length + " bytes";
            long wholeDeadline = System.nanoTime() + 5_000_000_000L;
            while (!journal.contains(wholeLine) && System.nanoTime() < wholeDeadline) Thread.sleep(5);
            assertTrue(journal.contains(wholeLine), journal.toString());
            // Never sends anything: closed with a reason once the Hello is overdue.
            try (Socket silent = connect(port)) {
                long t0 = System.nanoTime();
                Message.Error e = (Message.Error) readUntilClosed(silent).getFirst();
                assertEquals(ErrorCode.PROTOCOL, e.code());
                assertEquals("no Hello within 1000 ms of the connection (a network that stalled, or a peer that is no Cairn node)", e.text());
                assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
            }
            // Announces a frame larger than a Hello may be, before its Hello.
            try (Socket big = connect(port)) {
                big.getOutputStream().write(ByteBuffer.allocate(5).putInt(2 << 20).put((byte) 1).array());
                Message.Error e = (Message.Error) readUntilClosed(big).getFirst();
                assertEquals("frame length " + (2 << 20) + " (expected: 1.." + Limits.HELLO_FRAME_BYTES_MAX + ")", e.text());
            }
            // Greeted peers that announce 16 MiB frames: four send 256 KiB of theirs (held: exactly
            // the cap) and then nothing, so their frames' rates fall; a fifth then sends 128 KiB of
            // its frame at full speed and goes over the cap. The slowest (the first: the same bytes
            // for the longest) pays, not the newcomer (before, the newcomer was closed with BUSY,
            // again on every try, and the journal named only it).
            List<Socket> greedy = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                if (i == 4) Thread.sleep(Limits.PARTIAL_FRAME_GRACE_MILLIS + 100); // the four are past their grace
                Socket s = connect(port);
                hello(s);
                OutputStream o = s.getOutputStream();
                o.write(ByteBuffer.allocate(5).putInt(Limits.FRAME_BYTES_MAX).put((byte) 5).array());
                o.write(new byte[((i < 4 ? 256 : 128) << 10) - 1]);
                o.flush();
                greedy.add(s);
                if (i < 4) {
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (loop.partialBytes() < (i + 1) * (256L << 10) && System.nanoTime() < deadline) Thread.sleep(5);
                    assertEquals((i + 1) * (256L << 10), loop.partialBytes(), "held after greedy peer " + i);
                }
            }
            Message.Error busy = (Message.Error) readUntilClosed(greedy.getFirst()).getLast();
            assertEquals(ErrorCode.BUSY, busy.code(), busy.text());
            assertTrue(busy.text().startsWith("the server holds more than " + cap + " bytes of partly received frames, and"
                + " this connection's arrives the slowest (262144 bytes in "), busy.text());
            long expected = 3 * (256L << 10) + (128 << 10);
            long heldDeadline = System.nanoTime() + 5_000_000_000L;
            while (loop.partialBytes() != expected && System.nanoTime() < heldDeadline) Thread.sleep(5);
            assertEquals(expected, loop.partialBytes(), "the first peer's partial frame was dropped, the newcomer's kept");
            String from = "(from 127.0.0.1:" + greedy.getFirst().getLocalPort() + ")";
            assertEquals(1, journal.stream().filter(l -> l.contains("BUSY")).count(), journal.toString());
            assertTrue(journal.stream().anyMatch(l -> l.contains("closed: BUSY: ") && l.endsWith(from)), journal + " names " + from);
            // the log line names the node too, greeted as it is (before: the address alone)
            assertEquals(1, log.containing("(BUSY)").size(), log.lines.toString());
            assertTrue(log.containing("(BUSY)").getFirst().startsWith("closing the connection of node 'hostile' ("),
                log.lines.toString());
            assertTrue(log.containing("(BUSY)").getFirst().contains(") from 127.0.0.1:" + greedy.getFirst().getLocalPort()
                + " whose partial frame arrives the slowest (BUSY): "), log.lines.toString());
            for (Socket s : greedy) s.close();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (loop.partialBytes() != 0 && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(0, loop.partialBytes(), "held after every greedy peer left");
            // An ordinary client is still welcomed.
            try (Socket ok = connect(port)) {
                assertInstanceOf(Message.Welcome.class, hello(ok));
            }
            assertFalse(loop.ended().isDone(), "the loop is still running");
        }
    }

    /**
     * A client that defines a schema the others cannot parse (or under another fingerprint), sends
     * a record whose header or record bytes do not decode, or names a schema it defined for another
     * tree: before, the server stored it and every client that received the record stopped its
     * sync for good (or, for the last, the server's own loop failed when it found no schema of that
     * tree to send). Now the message is refused and nothing is stored.
     */
    @Test
    void aSchemaOrRecordThatOthersCouldNotDecodeIsRefusedBeforeAnyoneStoresIt() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            dev.cairn.Cairn good = f.connected("good");
            dev.cairn.Tree<dev.cairn.testing.Fixtures.Part> parts = good.tree(dev.cairn.testing.Fixtures.Part.class);
            parts.insert(dev.cairn.testing.Fixtures.part(1));
            SyncFixture.await("the server has the first record", () -> f.server.sequence() == 1);
            byte[] realSchema = dev.cairn.schema.Schema.derive(dev.cairn.testing.Fixtures.Part.class).toBytes();
            long realFingerprint = dev.cairn.schema.Schema.derive(dev.cairn.testing.Fixtures.Part.class).fingerprint();
            byte[] header = new byte[59];
            header[0] = 1;                       // format 1, state 0, no modifiedBy, iterations 0
            header[56] = (byte) 0xC1;            // the record bytes: tag, version 0, then no components
            byte[] format0 = header.clone();
            format0[0] = 0;
            byte[] longName = header.clone();
            longName[3] = 9;                     // 9 bytes of modifiedBy in a 59-byte value
            byte[] tag0 = header.clone();
            tag0[56] = 0;
            String part = Long.toHexString(realFingerprint);
            // A bad schema or one out of order ends the connection; a record value of one change
            // that others could not decode is refused alone (INVALID_CHANGE) and the connection
            // goes on, so the node's later changes still flow.
            record Bad(String schemaTree, byte[] schema, long fingerprint, byte[] value, boolean refused, String expected) { }
            for (Bad bad : List.of(
                    new Bad("Part", new byte[] {1, 2, 3}, 42, header, false, "schema 2a of tree Part does not parse"),
                    new Bad("Part", realSchema, realFingerprint + 1, header, false, "schema " + Long.toHexString(realFingerprint + 1)
                        + " of tree Part is not its fingerprint (the bytes give " + part + ")"),
                    new Bad("Other", realSchema, realFingerprint, header, false, "change of Part/0.0 names schema " + part
                        + " before its SchemaDef for tree Part"),
                    new Bad("Part", realSchema, realFingerprint, format0, true, "change of Part/0.0: record header format 0 (expected: 1)"),
                    new Bad("Part", realSchema, realFingerprint, longName, true, "change of Part/0.0: modifiedBy of 9 bytes in a value of 59"),
                    new Bad("Part", realSchema, realFingerprint, tag0, true, "change of Part/0.0: the record bytes do not decode with schema "
                        + part + ": record bytes: format tag 0x0"),
                    new Bad("Part", realSchema, realFingerprint, header, true, "change of Part/0.0: the record bytes do not decode with schema "
                        + part + ": "),
                    new Bad("Part", realSchema, realFingerprint, new byte[55], true, "change of Part/0.0: a value of 55 bytes"))) {
                try (Socket s = connect(f.port())) {
                    assertInstanceOf(Message.Welcome.class, hello(s));
                    OutputStream o = s.getOutputStream();
                    o.write(FrameCodec.encode(new Message.NeedKeys("Part")));
                    o.write(FrameCodec.encode(new Message.SchemaDef(bad.schemaTree(), false, bad.fingerprint(), bad.schema())));
                    o.write(FrameCodec.encode(new Message.Change(1, new Key<>("Part", 0, 0), Message.Kind.CREATED,
                        bad.fingerprint(), bad.value())));
                    if (bad.refused()) {
                        o.write(FrameCodec.encode(new Message.NeedKeys("Part")));
                        List<Message> answer = SyncFixture.readUntil(s, 2, Message.Keys.class);
                        Message.Refused r = (Message.Refused) answer.stream()
                            .filter(m -> m instanceof Message.Refused).findFirst().orElseThrow(() -> new AssertionError(answer));
                        assertEquals(ErrorCode.INVALID_CHANGE, r.code());
                        assertTrue(r.reason().startsWith(bad.expected()), r.reason());
                        assertEquals(1, r.current().serverSeq(), "the server's state: good's record");
                        assertTrue(answer.stream().noneMatch(m -> m instanceof Message.Error), answer.toString());
                        continue;
                    }
                    Message.Error e = (Message.Error) readUntilClosed(s).stream()
                        .filter(m -> m instanceof Message.Error).findFirst().orElseThrow();
                    assertEquals(ErrorCode.PROTOCOL, e.code());
                    assertTrue(e.text().startsWith(bad.expected()), e.text());
                }
            }
            assertEquals(1, f.server.sequence(), "nothing stored");
            dev.cairn.Cairn late = f.connected("late");
            assertEquals(1, late.tree(dev.cairn.testing.Fixtures.Part.class).size());
            assertTrue(good.isConnected() && late.isConnected());
        }
    }

    /**
     * Tree names every node refuses (NUL, blank, too long): before, the server created trees and
     * issued ranges under them, and a node that received a record of such a tree stopped its sync
     * for good. Now any message naming one ends the connection and nothing is stored.
     */
    @Test
    void treeNamesThatNodesRefuseEndTheConnection() throws Exception {
        try (SyncFixture f = new SyncFixture(dir)) {
            dev.cairn.Cairn good = f.connected("good");
            dev.cairn.schema.Schema schema = dev.cairn.schema.Schema.derive(dev.cairn.testing.Fixtures.Part.class);
            String tooLong = "t".repeat(dev.cairn.internal.TreeNames.NAME_BYTES_MAX + 1);
            record Bad(Message message, String expected) { }
            for (Bad bad : List.of(
                    new Bad(new Message.SchemaDef("A\0B", false, schema.fingerprint(), schema.toBytes()), "tree name 'A?B' contains NUL"),
                    new Bad(new Message.NeedKeys(" "), "tree name is blank (expected: a name)"),
                    new Bad(new Message.NeedKeys(tooLong), "tree name '" + tooLong + "' has 251 bytes (expected: <= 250)"),
                    new Bad(new Message.CheckOut(new Key<>("x\0", 1, 0)), "tree name 'x?' contains NUL"))) {
                try (Socket s = connect(f.port())) {
                    assertInstanceOf(Message.Welcome.class, hello(s));
                    s.getOutputStream().write(FrameCodec.encode(bad.message()));
                    Message.Error e = (Message.Error) readUntilClosed(s).stream()
                        .filter(m -> m instanceof Message.Error).findFirst().orElseThrow();
                    assertEquals(ErrorCode.PROTOCOL, e.code());
                    assertEquals(bad.expected(), e.text());
                }
            }
            assertEquals(0, f.server.sequence());
            dev.cairn.Cairn late = f.connected("late");
            assertEquals(java.util.Set.of(), late.treeNames());
            assertTrue(good.isConnected());
        }
    }

    /**
     * A Group announces 2 to 256 Changes on a protocol version 7 connection, 2 to 4,096 from
     * version 8: a count outside that ends the connection (Error PROTOCOL naming it) before
     * anything is held or stored. Before version 8 the decoder refused 257 on every connection.
     */
    @Test
    void aGroupOfTooFewOrTooManyChangesEndsTheConnection() throws Exception {
        record Case(int version, int count, String expected) { }
        try (SyncFixture f = new SyncFixture(dir)) {
            for (Case c : List.of(
                    new Case(8, 0, "message tag 19: Group of 0 (expected: 2 to 4096)"),
                    new Case(8, 1, "message tag 19: Group of 1 (expected: 2 to 4096)"),
                    new Case(8, 4097, "message tag 19: Group of 4097 (expected: 2 to 4096)"),
                    new Case(7, 4097, "message tag 19: Group of 4097 (expected: 2 to 4096)"),
                    new Case(7, 257, "Group(257) on a protocol version 7 connection (expected: 2 to 256 Changes; 4096 from"
                        + " version 8)"))) {
                try (Socket s = connect(f.port())) {
                    s.getOutputStream().write(FrameCodec.encode(new Message.Hello(c.version(), SyncFixture.APP, UUID.randomUUID(),
                        "hostile", 0, List.of(), List.of(), new byte[0], Message.NONE)));
                    assertEquals(c.version(), assertInstanceOf(Message.Welcome.class, read(s, 1).getFirst()).protocolVersion());
                    s.getOutputStream().write(new byte[] {0, 0, 0, 3, 19, (byte) (c.count() >> 8), (byte) c.count()});
                    Message.Error e = (Message.Error) readUntilClosed(s).stream()
                        .filter(m -> m instanceof Message.Error).findFirst().orElseThrow();
                    assertEquals(ErrorCode.PROTOCOL, e.code());
                    assertEquals(c.expected(), e.text(), c.toString());
                }
            }
            assertEquals(0, f.server.sequence());
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Sends a Hello and returns the first message the server answers. */
    private static Message hello(Socket s) throws IOException {
        s.getOutputStream().write(SyncFixture.helloFrame("hostile"));
        return read(s, 1).getFirst();
    }

    /** Reads messages until the server closes the connection. */
    private static List<Message> readUntilClosed(Socket s) throws IOException {
        return read(s, Integer.MAX_VALUE);
    }

    private static List<Message> read(Socket s, int count) {
        List<Message> out = List.of();
        try {
            out = SyncFixture.readMessages(s, count);
        } catch (SocketTimeoutException e) {
            fail("the server neither answered nor closed within 10 s");
        } catch (IOException e) {
            // reset after the server closed: nothing was read
        }
        assertFalse(out.isEmpty(), "no answer");
        return out;
    }
}
