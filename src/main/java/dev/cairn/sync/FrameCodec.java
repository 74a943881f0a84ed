package dev.cairn.sync;

import dev.cairn.Key;
import dev.cairn.internal.Limits;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Frames and messages to bytes and back (spec/sync-protocol.md §2-§3).
 *
 * <ul>
 *   <li>A frame is {@code length:u32, tag:u8, payload}; {@code length} counts tag and payload
 *       and is at most {@link Limits#FRAME_BYTES_MAX}. Big-endian throughout.
 *   <li>Decoding checks every length against the bytes left before it allocates, so a hostile
 *       frame costs at most its own (bounded) size; any violation is a {@link ProtocolException}.
 *   <li>{@link Decoder} is incremental: bytes may arrive split at any point.
 * </ul>
 */
public final class FrameCodec {
    /**
     * The protocol version this build speaks. 2 added link tokens (Hello, Welcome, LinkStored); a
     * version 1 Hello still decodes, so that it is refused by its version. 3 added the heartbeat
     * (Ping, Pong; sync-protocol.md §4.3) and nothing else: its frames are those of 2. 4 added the
     * Hello's {@code serverId} (the server the node is linked to) and Error code WRONG_SERVER, and
     * nothing else. 5 added the server's run ({@code epoch}) to the Welcome, and to the Hello the
     * run and sequence the node last synced in and the highest ids it holds per tree, so that a
     * server restored from a backup refuses the nodes that synced after it (sync-protocol.md §4.4).
     * 6 added CaughtUpTo (tag 18), the server's mark of a catch-up's progress, so that a catch-up
     * cut short resumes where it stopped (sync-protocol.md §4.1 step 4, §4.2 step 2), and nothing
     * else: a server sends it on version 6 connections only. 7 added Group (tag 19, both ways):
     * the Changes of one node transaction are taken by the server in one round and applied by the
     * other nodes in one transaction (sync-protocol.md §4.1 step 3, §4.2, §5.3), and nothing else.
     * 8 raised a Group's bound and the node's send window from 256 changes to 4,096 ({@link
     * #groupChangesMax}), so that larger write batches reach other nodes whole, and nothing
     * else: its frames are those of 7 (this decoder takes a Group of up to 4,096 on any
     * connection; the session and the server hold a version 7 one to 256). 9 added Change with a
     * base (tag 20): the server version a node's change of a record was made on, so that the
     * server takes a change of the state alone from a node without the check-out only on that
     * version (sync-protocol.md §5.1), and nothing else.
     */
    public static final int PROTOCOL_VERSION = 9;
    /**
     * The oldest version a server accepts: a version 2 connection runs as before version 3 (no
     * Ping, Pong or idle close). A client that a server refuses by version offers the version
     * below the one refused, down to this one (sync-protocol.md §4.3).
     */
    public static final int PROTOCOL_VERSION_MIN = 2;
    static final int LENGTH_BYTES = 4;

    /**
     * The send window and Group bound of a connection of {@code protocolVersion} (sync-protocol.md
     * §3, §4.1 step 3): {@link Limits#GROUP_CHANGES_MAX_V8} from version 8, else {@link
     * Limits#GROUP_CHANGES_MAX_V7} (the window of every older version too).
     */
    public static int groupChangesMax(int protocolVersion) {
        return protocolVersion >= 8 ? Limits.GROUP_CHANGES_MAX_V8 : Limits.GROUP_CHANGES_MAX_V7;
    }

    private FrameCodec() { }

    /** The whole frame of {@code m}, length field included. */
    public static byte[] encode(Message m) {
        Writer w = new Writer();
        w.u8(m.tag());
        switch (m) {
            case Message.Hello h -> {
                w.u16(h.protocolVersion()).str(h.appId()).uuid(h.clientId()).str(h.clientName()).i64(h.lastSeq());
                w.u16(h.trees().size());
                for (String t : h.trees()) w.str(t);
                w.u16(h.claims().size());
                for (Message.Claim c : h.claims()) w.str(c.tree()).i32(c.toExclusive());
                w.bytes(h.auth());
                if (h.protocolVersion() >= 2) w.uuid(h.linkToken());
                if (h.protocolVersion() >= 4) w.uuid(h.serverId());
                if (h.protocolVersion() >= 5) {
                    w.uuid(h.epoch()).i64(h.epochSeq()).u16(h.ids().size());
                    for (Message.TreeIds t : h.ids()) w.str(t.tree()).i32(t.idHigh()).i32(t.poolHigh());
                }
            }
            case Message.Welcome x -> {
                w.u16(x.protocolVersion()).uuid(x.serverId()).i64(x.serverSeq()).uuid(x.linkToken());
                if (x.protocolVersion() >= 5) w.uuid(x.epoch());
            }
            case Message.Error x -> w.u16(x.code()).str(x.text());
            case Message.SchemaDef x -> w.str(x.tree()).u8(x.versioned() ? 1 : 0).i64(x.fingerprint()).bytes(x.schema());
            case Message.Change x -> changeHead(w, x).raw(x.value());
            case Message.Ack x -> w.i64(x.outboxSeq()).key(x.key()).i64(x.serverSeq());
            case Message.Refused x -> {
                w.i64(x.outboxSeq()).u16(x.code()).str(x.reason());
                pushed(w, x.current());
            }
            case Message.Pushed x -> pushed(w, x);
            case Message.CaughtUp x -> w.i64(x.serverSeq());
            case Message.CaughtUpTo x -> w.i64(x.seq()).i64(x.serverSeq());
            case Message.Group x -> w.u16(x.count());
            case Message.NeedKeys x -> w.str(x.tree());
            case Message.Keys x -> w.str(x.tree()).i32(x.from()).i32(x.toExclusive());
            case Message.CheckOut x -> w.key(x.key());
            case Message.CheckIn x -> w.key(x.key());
            case Message.Borrow x -> {
                w.key(x.key()).u8(x.snapshot() ? 1 : 0).uuid(x.holder()).str(x.holderName()).u16(x.queue().size());
                for (UUID u : x.queue()) w.uuid(u);
            }
            case Message.LinkStored x -> w.uuid(x.linkToken());
            case Message.Ping x -> { }
            case Message.Pong x -> { }
        }
        return w.frame();
    }

    /**
     * The frame of {@code m} as buffers to write in this order. For a Change with a value: the
     * frame's bytes up to the value, then the value's own bytes (not copied: a large record is
     * held once, not again as its frame); for any other message the one buffer of {@link #encode}.
     * The bytes are those of {@link #encode}.
     */
    public static ByteBuffer[] encodeParts(Message m) {
        if (!(m instanceof Message.Change c) || c.value().length == 0) {
            return new ByteBuffer[] {ByteBuffer.wrap(encode(m))};
        }
        Writer w = new Writer();
        w.u8(c.tag());
        byte[] head = changeHead(w, c).frame(c.value().length);
        return new ByteBuffer[] {ByteBuffer.wrap(head), ByteBuffer.wrap(c.value())};
    }

    /**
     * A Change's fields up to its value's bytes: those follow (spec/sync-protocol.md §3, tag 5;
     * tag 20 has the base metaIteration before the value's length).
     */
    private static Writer changeHead(Writer w, Message.Change c) {
        w.i64(c.outboxSeq()).key(c.key()).u8(c.kind().ordinal()).i64(c.fingerprint());
        if (c.baseMeta() != Message.Change.NO_BASE) w.i64(c.baseMeta());
        return w.i32(c.value().length);
    }

    /** Tag 20: a Change with its base metaIteration (version 9). */
    private static Message.Change changeWithBase(Reader r) {
        long outboxSeq = r.i64();
        Key<?> key = r.key();
        Message.Kind kind = r.kind();
        long fingerprint = r.i64();
        long base = r.i64();
        if (base == Message.Change.NO_BASE) throw new ProtocolException("Change (tag 20) of " + key + " with base metaIteration -1");
        return new Message.Change(outboxSeq, key, kind, fingerprint, r.bytes(), base);
    }

    private static void pushed(Writer w, Message.Pushed p) {
        w.i64(p.serverSeq()).key(p.key()).i64(p.fingerprint()).bytes(p.value());
    }

    /** Decodes one frame body ({@code tag, payload}, without the length field). */
    public static Message decodeBody(ByteBuffer body) {
        Reader r = new Reader(body);
        int tag = r.u8();
        try {
            Message m = switch (tag) {
                case 1 -> hello(r);
                case 2 -> welcome(r);
                case 3 -> new Message.Error(r.u16(), r.str());
                case 4 -> new Message.SchemaDef(r.str(), r.bool(), r.i64(), r.bytes());
                case 5 -> new Message.Change(r.i64(), r.key(), r.kind(), r.i64(), r.bytes());
                case 20 -> changeWithBase(r);
                case 6 -> new Message.Ack(r.i64(), r.key(), r.i64());
                case 7 -> new Message.Refused(r.i64(), r.u16(), r.str(), pushed(r));
                case 8 -> pushed(r);
                case 9 -> new Message.CaughtUp(r.i64());
                case 10 -> new Message.NeedKeys(r.str());
                case 11 -> new Message.Keys(r.str(), r.i32(), r.i32());
                case 12 -> new Message.CheckOut(r.key());
                case 13 -> new Message.CheckIn(r.key());
                case 14 -> borrow(r);
                case 15 -> new Message.LinkStored(r.uuid());
                case 16 -> new Message.Ping();
                case 17 -> new Message.Pong();
                case 18 -> new Message.CaughtUpTo(r.i64(), r.i64());
                case 19 -> new Message.Group(r.u16());
                default -> throw new ProtocolException("unknown message tag " + tag + " (expected: 1..20)");
            };
            if (body.hasRemaining()) {
                throw new ProtocolException("message tag " + tag + " has " + body.remaining() + " trailing bytes");
            }
            return m;
        } catch (BufferUnderflowException e) {
            throw new ProtocolException("message tag " + tag + " is truncated", e);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ProtocolException("message tag " + tag + ": " + e.getMessage(), e);
        }
    }

    private static Message.Hello hello(Reader r) {
        int version = r.u16();
        String appId = r.str();
        UUID client = r.uuid();
        String name = r.str();
        long lastSeq = r.i64();
        int treeCount = r.count(3);
        List<String> trees = new ArrayList<>(treeCount);
        for (int i = 0; i < treeCount; i++) trees.add(r.str());
        int claimCount = r.count(7);
        List<Message.Claim> claims = new ArrayList<>(claimCount);
        for (int i = 0; i < claimCount; i++) claims.add(new Message.Claim(r.str(), r.i32()));
        byte[] auth = r.bytes();
        UUID linkToken = version >= 2 ? r.uuid() : Message.NONE;
        UUID serverId = version >= 4 ? r.uuid() : Message.NONE;
        if (version < 5) {
            return new Message.Hello(version, appId, client, name, lastSeq, trees, claims, auth, linkToken, serverId);
        }
        UUID epoch = r.uuid();
        long epochSeq = r.i64();
        int idCount = r.count(10);
        List<Message.TreeIds> ids = new ArrayList<>(idCount);
        for (int i = 0; i < idCount; i++) ids.add(new Message.TreeIds(r.str(), r.i32(), r.i32()));
        return new Message.Hello(version, appId, client, name, lastSeq, trees, claims, auth, linkToken, serverId, epoch,
            epochSeq, ids);
    }

    private static Message.Welcome welcome(Reader r) {
        int version = r.u16();
        UUID serverId = r.uuid();
        long serverSeq = r.i64();
        UUID linkToken = r.uuid();
        return new Message.Welcome(version, serverId, serverSeq, linkToken, version >= 5 ? r.uuid() : Message.NONE);
    }

    private static Message.Pushed pushed(Reader r) {
        return new Message.Pushed(r.i64(), r.key(), r.i64(), r.bytes());
    }

    private static Message.Borrow borrow(Reader r) {
        Key<?> key = r.key();
        boolean snapshot = r.bool();
        UUID holder = r.uuid();
        String name = r.str();
        int n = r.count(16);
        List<UUID> queue = new ArrayList<>(n);
        for (int i = 0; i < n; i++) queue.add(r.uuid());
        return new Message.Borrow(key, snapshot, holder, name, queue);
    }

    /**
     * Reassembles frames from bytes that arrive in pieces. Holds at most one partial frame. Its
     * buffer grows with the bytes that arrive (from {@link #FIRST_BUFFER_BYTES}, doubling), not
     * with the length a frame announces: a peer that announces large frames and sends little
     * makes the receiver hold little ({@link #bufferedBytes()} is at most twice what arrived).
     */
    public static final class Decoder {
        static final int FIRST_BUFFER_BYTES = 64 * 1024;
        private int frameBytesMax;
        private final byte[] lengthBytes = new byte[LENGTH_BYTES];
        private int lengthFilled;
        /** The announced length of the frame being received; 0 when none is. */
        private int frameLength;
        private byte[] body;
        private int bodyFilled;

        public Decoder() {
            this(Limits.FRAME_BYTES_MAX);
        }

        public Decoder(int frameBytesMax) {
            limit(frameBytesMax);
        }

        /** The largest frame the following frames may announce (a frame being received keeps its length). */
        public void limit(int frameBytesMax) {
            if (frameBytesMax < 1 || frameBytesMax > Limits.FRAME_BYTES_MAX) {
                throw new IllegalArgumentException("frameBytesMax " + frameBytesMax + " (expected: 1.." + Limits.FRAME_BYTES_MAX + ")");
            }
            this.frameBytesMax = frameBytesMax;
        }

        /** Consumes all of {@code in}; adds every completed message to {@code out}. */
        public void feed(ByteBuffer in, List<Message> out) {
            while (in.hasRemaining()) {
                if (frameLength == 0) {
                    lengthBytes[lengthFilled++] = in.get();
                    if (lengthFilled < LENGTH_BYTES) continue;
                    lengthFilled = 0;
                    int length = ByteBuffer.wrap(lengthBytes).getInt();
                    if (length < 1 || length > frameBytesMax) {
                        throw new ProtocolException("frame length " + Integer.toUnsignedString(length)
                            + " (expected: 1.." + frameBytesMax + ")");
                    }
                    frameLength = length;
                    body = new byte[Math.min(length, FIRST_BUFFER_BYTES)];
                    bodyFilled = 0;
                }
                if (bodyFilled == body.length) body = Arrays.copyOf(body, (int) Math.min(frameLength, 2L * body.length));
                int n = Math.min(in.remaining(), body.length - bodyFilled);
                in.get(body, bodyFilled, n);
                bodyFilled += n;
                if (bodyFilled == frameLength) {
                    byte[] done = body;
                    body = null;
                    frameLength = 0;
                    out.add(decodeBody(ByteBuffer.wrap(done)));
                }
            }
        }

        /** True when no partial frame is held. */
        public boolean idle() {
            return frameLength == 0 && lengthFilled == 0;
        }

        /** Bytes held for the frame being received. */
        public long bufferedBytes() {
            return body == null ? 0 : body.length;
        }

        /** Bytes of the frame being received that have arrived (of its tag and payload); 0 when none is. */
        public long receivedBytes() {
            return body == null ? 0 : bodyFilled;
        }

        /** Drops the frame being received (its connection is closing). */
        public void discard() {
            body = null;
            frameLength = 0;
            lengthFilled = 0;
        }
    }

    private static final class Writer {
        private ByteBuffer b = ByteBuffer.allocate(256).position(LENGTH_BYTES);

        private void room(int n) {
            if (b.remaining() >= n) return;
            long want = Math.max((long) b.capacity() * 2, (long) b.position() + n);
            if (want - LENGTH_BYTES > Limits.FRAME_BYTES_MAX) {
                throw new IllegalArgumentException("message of more than " + Limits.FRAME_BYTES_MAX
                    + " bytes (expected: <= FRAME_BYTES_MAX)");
            }
            b = ByteBuffer.allocate((int) want).put(b.flip());
        }

        Writer u8(int v) {
            room(1);
            b.put((byte) v);
            return this;
        }

        Writer u16(int v) {
            if (v < 0 || v > 0xFFFF) throw new IllegalArgumentException("u16 " + v);
            room(2);
            b.putShort((short) v);
            return this;
        }

        Writer i32(int v) {
            room(4);
            b.putInt(v);
            return this;
        }

        Writer i64(long v) {
            room(8);
            b.putLong(v);
            return this;
        }

        Writer uuid(UUID u) {
            return i64(u.getMostSignificantBits()).i64(u.getLeastSignificantBits());
        }

        Writer str(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u16(bytes.length);
            room(bytes.length);
            b.put(bytes);
            return this;
        }

        Writer bytes(byte[] v) {
            return i32(v.length).raw(v);
        }

        /** {@code v} without its length (written before it). */
        Writer raw(byte[] v) {
            room(v.length);
            b.put(v);
            return this;
        }

        Writer key(Key<?> k) {
            return str(k.tree()).i32(k.id()).i32(k.revision());
        }

        byte[] frame() {
            return frame(0);
        }

        /** The frame's bytes so far, its length field counting {@code laterBytes} that follow them. */
        byte[] frame(int laterBytes) {
            long length = (long) b.position() - LENGTH_BYTES + laterBytes;
            if (length > Limits.FRAME_BYTES_MAX) {
                throw new IllegalArgumentException("frame of " + length + " bytes (expected: <= FRAME_BYTES_MAX)");
            }
            b.putInt(0, (int) length);
            return Arrays.copyOf(b.array(), b.position());
        }
    }

    private static final class Reader {
        private final ByteBuffer b;

        Reader(ByteBuffer b) {
            this.b = b;
        }

        int u8() {
            return b.get() & 0xFF;
        }

        boolean bool() {
            int v = u8();
            if (v > 1) throw new ProtocolException("flag byte " + v + " (expected: 0 or 1)");
            return v == 1;
        }

        int u16() {
            return b.getShort() & 0xFFFF;
        }

        int i32() {
            return b.getInt();
        }

        long i64() {
            return b.getLong();
        }

        UUID uuid() {
            return new UUID(b.getLong(), b.getLong());
        }

        /** A count of elements of at least {@code minBytes} each, checked against the bytes left. */
        int count(int minBytes) {
            int n = u16();
            if ((long) n * minBytes > b.remaining()) {
                throw new ProtocolException("count " + n + " needs more than the " + b.remaining() + " bytes left");
            }
            return n;
        }

        String str() {
            int n = u16();
            if (n > b.remaining()) throw new ProtocolException("string of " + n + " bytes, " + b.remaining() + " left");
            ByteBuffer slice = b.slice(b.position(), n);
            b.position(b.position() + n);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(slice).toString();
            } catch (CharacterCodingException e) {
                throw new ProtocolException("string is not UTF-8", e);
            }
        }

        byte[] bytes() {
            int n = b.getInt();
            if (n < 0 || n > b.remaining()) {
                throw new ProtocolException("byte string of " + n + " bytes, " + b.remaining() + " left");
            }
            byte[] out = new byte[n];
            b.get(out);
            return out;
        }

        Key<?> key() {
            return new Key<>(str(), i32(), i32());
        }

        Message.Kind kind() {
            int k = u8();
            if (k >= Message.Kind.values().length) throw new ProtocolException("change kind " + k + " (expected: 0..2)");
            return Message.Kind.values()[k];
        }
    }
}
