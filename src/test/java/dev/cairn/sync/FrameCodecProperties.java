package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Key;
import dev.cairn.internal.Limits;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** FrameCodec: round trips at any split point; truncated, oversized and garbage frames. */
class FrameCodecProperties {

    /** One random message of every kind, from {@code rnd}. */
    static Message randomMessage(Random rnd) {
        Key<?> key = new Key<>(str(rnd), rnd.nextInt(Integer.MAX_VALUE), rnd.nextInt(5));
        return switch (rnd.nextInt(19)) {
            // Version 1 Hellos carry no link token (they decode, to be refused by version); 2 and 3 have the
            // same fields; 4 adds the serverId; 5 the run, its sequence and the ids per tree; 6 to 8 the same as 5.
            case 0 -> {
                int version = 1 + rnd.nextInt(FrameCodec.PROTOCOL_VERSION);
                List<Message.TreeIds> ids = new ArrayList<>();
                for (int i = rnd.nextInt(4); i > 0; i--) {
                    int high = rnd.nextInt(Integer.MAX_VALUE);
                    ids.add(new Message.TreeIds(str(rnd), high, rnd.nextBoolean() ? 0 : rnd.nextInt(high + 1)));
                }
                yield new Message.Hello(version, str(rnd), uuid(rnd), str(rnd), rnd.nextLong(0, Long.MAX_VALUE),
                    List.of(str(rnd), str(rnd)), List.of(new Message.Claim(str(rnd), 1 + rnd.nextInt(1000))), bytes(rnd),
                    version == 1 ? Message.NONE : uuid(rnd), version < 4 ? Message.NONE : uuid(rnd),
                    version < 5 ? Message.NONE : uuid(rnd), version < 5 ? 0 : rnd.nextLong(0, Long.MAX_VALUE),
                    version < 5 ? List.of() : ids);
            }
            case 1 -> {
                int version = 2 + rnd.nextInt(FrameCodec.PROTOCOL_VERSION - 1);
                yield new Message.Welcome(version, uuid(rnd), rnd.nextLong(), uuid(rnd), version < 5 ? Message.NONE : uuid(rnd));
            }
            case 13 -> new Message.LinkStored(uuid(rnd));
            case 15 -> new Message.Ping();
            case 16 -> new Message.Pong();
            case 17 -> {
                long seq = rnd.nextLong(0, Long.MAX_VALUE);
                yield new Message.CaughtUpTo(seq, rnd.nextBoolean() ? seq : rnd.nextLong(seq, Long.MAX_VALUE));
            }
            case 18 -> new Message.Group(2 + rnd.nextInt(Limits.GROUP_CHANGES_MAX_V8 - 1));
            case 2 -> new Message.Error(rnd.nextInt(100), str(rnd));
            case 3 -> new Message.SchemaDef(str(rnd), rnd.nextBoolean(), rnd.nextLong(), bytes(rnd));
            case 4 -> new Message.Change(rnd.nextLong(), key, Message.Kind.CHANGED, rnd.nextLong(), nonEmpty(rnd),
                rnd.nextBoolean() ? Message.Change.NO_BASE : rnd.nextLong(0, Limits.ITERATION_MAX + 1));
            case 5 -> new Message.Ack(rnd.nextLong(), key, rnd.nextLong());
            case 6 -> new Message.Refused(rnd.nextLong(), 20, str(rnd), new Message.Pushed(5, key, 9, bytes(rnd)));
            case 7 -> new Message.Pushed(rnd.nextLong(0, Long.MAX_VALUE), key, rnd.nextLong(), bytes(rnd));
            case 8 -> new Message.CaughtUp(rnd.nextLong());
            case 9 -> new Message.NeedKeys(str(rnd));
            case 10 -> new Message.Keys(str(rnd), 10, 20 + rnd.nextInt(100));
            case 11 -> new Message.CheckOut(key);
            case 12 -> new Message.CheckIn(key);
            default -> new Message.Borrow(key, rnd.nextBoolean(), uuid(rnd), str(rnd), List.of(uuid(rnd), uuid(rnd)));
        };
    }

    static String str(Random rnd) {
        String[] pool = {"Part", "Doc", "ä-ü", "日本", "x", "tree with spaces", "\uD83D\uDE00"};
        return pool[rnd.nextInt(pool.length)] + rnd.nextInt(100);
    }

    static UUID uuid(Random rnd) {
        return new UUID(rnd.nextLong(), rnd.nextLong());
    }

    static byte[] bytes(Random rnd) {
        byte[] b = new byte[rnd.nextInt(300)];
        rnd.nextBytes(b);
        return b;
    }

    static byte[] nonEmpty(Random rnd) {
        byte[] b = new byte[1 + rnd.nextInt(300)];
        rnd.nextBytes(b);
        return b;
    }

    /**
     * The frames as a second decoder written from the spec's message table alone reads them
     * ({@link SpecFrameDecoder}): every field where the table puts it, nothing left over; the
     * message it reads encodes to the same bytes.
     */
    @Property(tries = 500)
    void aDecoderWrittenFromTheSpecReadsEveryFrame(@ForAll long seed) {
        Random rnd = new Random(seed);
        Message m = randomMessage(rnd);
        if (m instanceof Message.Change c && rnd.nextBoolean()) {
            boolean removed = rnd.nextBoolean();
            m = new Message.Change(c.outboxSeq(), c.key(), removed ? Message.Kind.REMOVED : Message.Kind.CREATED,
                removed ? 0 : c.fingerprint(), removed ? new byte[0] : c.value());
        }
        byte[] frame = FrameCodec.encode(m);
        Message read = SpecFrameDecoder.decode(frame);
        assertEquals(m.getClass(), read.getClass());
        assertArrayEquals(frame, FrameCodec.encode(read), m.getClass().getSimpleName());
    }

    @Property(tries = 300)
    void anySplitPointDecodesTheSame(@ForAll long seed) {
        Random rnd = new Random(seed);
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        List<byte[]> frames = new ArrayList<>();
        int count = 1 + rnd.nextInt(8);
        for (int i = 0; i < count; i++) {
            byte[] frame = FrameCodec.encode(randomMessage(rnd));
            frames.add(frame);
            stream.writeBytes(frame);
        }
        byte[] all = stream.toByteArray();
        FrameCodec.Decoder d = new FrameCodec.Decoder();
        List<Message> out = new ArrayList<>();
        int at = 0;
        while (at < all.length) {
            int n = Math.min(all.length - at, 1 + rnd.nextInt(Math.max(1, all.length / 3)));
            d.feed(ByteBuffer.wrap(all, at, n), out);
            at += n;
        }
        assertTrue(d.idle());
        assertEquals(frames.size(), out.size());
        for (int i = 0; i < frames.size(); i++) assertArrayEquals(frames.get(i), FrameCodec.encode(out.get(i)));
    }

    /** What a node writes (a Change's value not copied into its frame) is byte for byte the frame. */
    @Property(tries = 300)
    void encodePartsGivesTheBytesOfEncode(@ForAll long seed) {
        Message m = randomMessage(new Random(seed));
        ByteArrayOutputStream parts = new ByteArrayOutputStream();
        for (ByteBuffer b : FrameCodec.encodeParts(m)) {
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            parts.writeBytes(bytes);
        }
        assertArrayEquals(FrameCodec.encode(m), parts.toByteArray(), m.toString());
    }

    @Test
    void encodePartsOfAChangeHoldsItsValueOnceAndRefusesOneOverTheFrameLimit() {
        Key<?> key = new Key<>("Part", 7, 0);
        byte[] value = new byte[1 << 20];
        ByteBuffer[] parts = FrameCodec.encodeParts(new Message.Change(3, key, Message.Kind.CHANGED, 9, value));
        assertEquals(2, parts.length);
        assertSame(value, parts[1].array(), "the value's own bytes follow the head, not a copy");
        assertEquals(value.length, parts[1].remaining());
        assertEquals(value.length + parts[0].remaining() - 4, parts[0].getInt(0), "the length field counts the value");
        byte[] tooBig = new byte[Limits.FRAME_BYTES_MAX];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> FrameCodec.encodeParts(new Message.Change(3, key, Message.Kind.CHANGED, 9, tooBig)));
        assertTrue(e.getMessage().contains("expected: <= FRAME_BYTES_MAX"), e.getMessage());
    }

    @Property(tries = 300)
    void truncatedMessagesAreProtocolErrors(@ForAll long seed) {
        Random rnd = new Random(seed);
        byte[] frame = FrameCodec.encode(randomMessage(rnd));
        int bodyBytes = frame.length - 4;
        int cut = 1 + rnd.nextInt(bodyBytes - 1 > 0 ? bodyBytes - 1 : 1);
        if (cut >= bodyBytes) return;
        ByteBuffer body = ByteBuffer.wrap(frame, 4, cut).slice();
        assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(body));
    }

    @Property(tries = 500)
    void garbageGivesProtocolExceptionsOrMessagesNeverOtherErrors(@ForAll long seed,
                                                                 @ForAll @IntRange(min = 1, max = 600) int size) {
        Random rnd = new Random(seed);
        byte[] garbage = new byte[size];
        rnd.nextBytes(garbage);
        if (size >= 5 && rnd.nextBoolean()) {
            // a plausible length and tag, then garbage: reaches the field decoders
            ByteBuffer.wrap(garbage).putInt(Math.max(1, size - 4));
            garbage[4] = (byte) (1 + rnd.nextInt(19));
        }
        FrameCodec.Decoder d = new FrameCodec.Decoder(4096);
        try {
            d.feed(ByteBuffer.wrap(garbage), new ArrayList<>());
        } catch (ProtocolException expected) {
            // the only failure allowed
        }
    }

    @Property(tries = 200)
    void flippedBytesGiveProtocolExceptionsOrMessages(@ForAll long seed) {
        Random rnd = new Random(seed);
        byte[] frame = FrameCodec.encode(randomMessage(rnd));
        for (int i = 0; i < 3; i++) frame[4 + rnd.nextInt(frame.length - 4)] ^= (byte) (1 << rnd.nextInt(8));
        try {
            FrameCodec.decodeBody(ByteBuffer.wrap(frame, 4, frame.length - 4).slice());
        } catch (ProtocolException expected) {
            // allowed
        }
    }

    @Test
    void oversizedFrameIsRefusedBeforeAnyAllocation() {
        FrameCodec.Decoder d = new FrameCodec.Decoder();
        ByteBuffer header = ByteBuffer.allocate(4).putInt(Limits.FRAME_BYTES_MAX + 1).flip();
        ProtocolException e = assertThrows(ProtocolException.class, () -> d.feed(header, new ArrayList<>()));
        assertTrue(e.getMessage().contains("frame length"), e.getMessage());
        ByteBuffer negative = ByteBuffer.allocate(4).putInt(-1).flip();
        assertThrows(ProtocolException.class, () -> new FrameCodec.Decoder().feed(negative, new ArrayList<>()));
        ByteBuffer zero = ByteBuffer.allocate(4).putInt(0).flip();
        assertThrows(ProtocolException.class, () -> new FrameCodec.Decoder().feed(zero, new ArrayList<>()));
    }

    @Test
    void unknownTagAndTrailingBytesAreRefused() {
        assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(ByteBuffer.wrap(new byte[] {99})));
        byte[] caughtUp = FrameCodec.encode(new Message.CaughtUp(7));
        byte[] longer = java.util.Arrays.copyOfRange(caughtUp, 4, caughtUp.length + 1);
        ProtocolException e = assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(ByteBuffer.wrap(longer)));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    }

    @Test
    void aCountLargerThanTheBytesLeftIsRefusedWithoutAllocating() {
        ByteBuffer b = ByteBuffer.allocate(64);
        b.put((byte) 14).putShort((short) 1).put((byte) 'T').putInt(1).putInt(0).put((byte) 0)
            .putLong(0).putLong(0).putShort((short) 0).putShort((short) 0xFFFF);
        b.flip();
        ProtocolException e = assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(b));
        assertTrue(e.getMessage().contains("count"), e.getMessage());
    }

    /**
     * Version 5's fields travel in version 5 only: a Hello or Welcome of an older version decodes
     * naming no run and no ids, whatever the sender's record held; every version round-trips what
     * it carries. Ids that break their rule (poolHigh above idHigh, a negative one) are refused.
     */
    @Property(tries = 200)
    void version5FieldsRoundTripAndOlderVersionsCarryNone(@ForAll long seed) {
        Random rnd = new Random(seed);
        List<Message.TreeIds> ids = List.of(new Message.TreeIds(str(rnd), 1000 + rnd.nextInt(1000), 1000),
            new Message.TreeIds(str(rnd), rnd.nextInt(1000), 0));
        UUID epoch = uuid(rnd);
        long epochSeq = rnd.nextLong(0, Long.MAX_VALUE);
        for (int v = 2; v <= 6; v++) {
            Message.Hello h = new Message.Hello(v, "app", uuid(rnd), "n", 3, List.of(), List.of(), new byte[0], uuid(rnd),
                uuid(rnd), epoch, epochSeq, ids);
            Message.Hello back = (Message.Hello) decode(FrameCodec.encode(h));
            assertEquals(v >= 5 ? epoch : Message.NONE, back.epoch(), "version " + v);
            assertEquals(v >= 5 ? epochSeq : 0, back.epochSeq());
            assertEquals(v >= 5 ? ids : List.of(), back.ids());
            Message.Welcome w = new Message.Welcome(v, uuid(rnd), 9, uuid(rnd), epoch);
            assertEquals(v >= 5 ? epoch : Message.NONE, ((Message.Welcome) decode(FrameCodec.encode(w))).epoch());
        }
        byte[] frame = FrameCodec.encode(new Message.Hello(5, "app", uuid(rnd), "n", 3, List.of(), List.of(), new byte[0],
            uuid(rnd), uuid(rnd), epoch, epochSeq, List.of(new Message.TreeIds("T", 10, 10))));
        // The last 8 bytes are idHigh 10 and poolHigh 10: make poolHigh 11, then idHigh -1.
        ByteBuffer.wrap(frame).putInt(frame.length - 4, 11);
        assertThrows(ProtocolException.class, () -> decode(frame));
        ByteBuffer.wrap(frame).putInt(frame.length - 4, 0).putInt(frame.length - 8, -1);
        assertThrows(ProtocolException.class, () -> decode(frame));
        ByteBuffer.wrap(frame).putInt(frame.length - 8, 10);
        assertEquals(List.of(new Message.TreeIds("T", 10, 0)), ((Message.Hello) decode(frame)).ids());
    }

    private static Message decode(byte[] frame) {
        return FrameCodec.decodeBody(ByteBuffer.wrap(frame, 4, frame.length - 4).slice());
    }

    @Test
    void goldenCaughtUpFrame() {
        assertArrayEquals(new byte[] {0, 0, 0, 9, 9, 0, 0, 0, 0, 0, 0, 0, 42}, FrameCodec.encode(new Message.CaughtUp(42)));
    }

    /** Version 3's heartbeat: a tag without payload each way (sync-protocol.md §3, §4.3). */
    @Test
    void goldenPingAndPongFramesAndPayloadIsRefused() {
        assertArrayEquals(new byte[] {0, 0, 0, 1, 16}, FrameCodec.encode(new Message.Ping()));
        assertArrayEquals(new byte[] {0, 0, 0, 1, 17}, FrameCodec.encode(new Message.Pong()));
        assertEquals(new Message.Ping(), FrameCodec.decodeBody(ByteBuffer.wrap(new byte[] {16})));
        assertEquals(new Message.Pong(), FrameCodec.decodeBody(ByteBuffer.wrap(new byte[] {17})));
        ProtocolException e = assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(ByteBuffer.wrap(new byte[] {16, 0})));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
        e = assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(ByteBuffer.wrap(new byte[] {21})));
        assertEquals("unknown message tag 21 (expected: 1..20)", e.getMessage());
    }

    /**
     * Version 6's catch-up mark (sync-protocol.md §3): tag 18, {@code seq} then {@code serverSeq};
     * a mark whose seq is negative or above its serverSeq, a short one and one with trailing
     * bytes are refused.
     */
    @Test
    void goldenCaughtUpToFrameAndItsRule() {
        byte[] frame = FrameCodec.encode(new Message.CaughtUpTo(42, 300));
        assertArrayEquals(new byte[] {0, 0, 0, 17, 18, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 1, 44}, frame);
        assertEquals(new Message.CaughtUpTo(42, 300), decode(frame));
        assertEquals(new Message.CaughtUpTo(0, 0), decode(FrameCodec.encode(new Message.CaughtUpTo(0, 0))));
        ByteBuffer.wrap(frame).putLong(5, 301);
        ProtocolException e = assertThrows(ProtocolException.class, () -> decode(frame));
        assertEquals("message tag 18: CaughtUpTo seq 301, serverSeq 300 (expected: 0 <= seq <= serverSeq)", e.getMessage());
        ByteBuffer.wrap(frame).putLong(5, -1);
        assertThrows(ProtocolException.class, () -> decode(frame));
        assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(ByteBuffer.wrap(frame, 4, 12).slice()));
        byte[] longer = java.util.Arrays.copyOfRange(FrameCodec.encode(new Message.CaughtUpTo(1, 2)), 4, 22);
        e = assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(ByteBuffer.wrap(longer)));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    }

    /**
     * Version 7's Group (sync-protocol.md §3): tag 19, {@code count:u16}; a count of 0, 1 or above
     * GROUP_CHANGES_MAX_V8 (4,096, version 8's bound; the connection's version bounds it further,
     * ServerGroupTest, ClientGroupTest), a short one and one with trailing bytes are refused.
     */
    @Test
    void goldenGroupFrameAndItsBounds() {
        byte[] frame = FrameCodec.encode(new Message.Group(3));
        assertArrayEquals(new byte[] {0, 0, 0, 3, 19, 0, 3}, frame);
        assertEquals(new Message.Group(3), decode(frame));
        assertEquals(new Message.Group(256), decode(FrameCodec.encode(new Message.Group(256))));
        assertArrayEquals(new byte[] {0, 0, 0, 3, 19, 0x10, 0}, FrameCodec.encode(new Message.Group(4096)));
        assertEquals(new Message.Group(4096), decode(FrameCodec.encode(new Message.Group(4096))));
        assertEquals(new Message.Group(257), decode(FrameCodec.encode(new Message.Group(257))));
        for (int count : new int[] {0, 1, 4097, 0xFFFF}) {
            ByteBuffer.wrap(frame).putShort(5, (short) count);
            ProtocolException e = assertThrows(ProtocolException.class, () -> decode(frame));
            assertEquals("message tag 19: Group of " + count + " (expected: 2 to 4096)", e.getMessage());
        }
        assertThrows(ProtocolException.class, () -> FrameCodec.decodeBody(ByteBuffer.wrap(new byte[] {19, 0})));
        ProtocolException e = assertThrows(ProtocolException.class,
            () -> FrameCodec.decodeBody(ByteBuffer.wrap(new byte[] {19, 0, 2, 0})));
        assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    }

    /**
     * Every count a Group's u16 can carry: 2 to GROUP_CHANGES_MAX_V8 (4,096) decodes to that
     * Group and encodes back to the same bytes, any other is a ProtocolException naming it (the
     * decoder knows no connection version: a version 7 connection's 256 is the session's and the
     * server's check).
     */
    @Property(tries = 1000)
    void aGroupCountDecodesExactlyFromTwoToTheVersion8Bound(@ForAll @IntRange(min = 0, max = 0xFFFF) int count) {
        byte[] frame = {0, 0, 0, 3, 19, (byte) (count >> 8), (byte) count};
        if (count >= 2 && count <= Limits.GROUP_CHANGES_MAX_V8) {
            assertEquals(new Message.Group(count), decode(frame));
            assertArrayEquals(frame, FrameCodec.encode(new Message.Group(count)));
        } else {
            ProtocolException e = assertThrows(ProtocolException.class, () -> decode(frame));
            assertEquals("message tag 19: Group of " + count + " (expected: 2 to 4096)", e.getMessage());
        }
    }
}
