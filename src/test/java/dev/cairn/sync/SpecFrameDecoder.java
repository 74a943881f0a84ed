package dev.cairn.sync;

import dev.cairn.Key;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A second decoder of the sync protocol's frames, written from spec/sync-protocol.md §1-§3
 * alone (its frame grammar and message table), using nothing of {@link FrameCodec}: it builds
 * the {@link Message} records, which are only the values. A frame it cannot read as the spec
 * says, or with bytes left over, fails with an AssertionError naming the tag and the byte.
 */
final class SpecFrameDecoder {
    private final ByteBuffer in;
    private final int tag;

    private SpecFrameDecoder(ByteBuffer in, int tag) {
        this.in = in;
        this.tag = tag;
    }

    /** The message of one whole frame, length field included. */
    static Message decode(byte[] frame) {
        ByteBuffer in = ByteBuffer.wrap(frame).order(ByteOrder.BIG_ENDIAN); // §1: big-endian everywhere
        long length = in.getInt() & 0xFFFFFFFFL;
        check(length >= 1 && length == frame.length - 4L, "length " + length + " of a frame of " + frame.length + " bytes");
        int tag = in.get() & 0xFF;
        SpecFrameDecoder d = new SpecFrameDecoder(in, tag);
        Message m = d.message();
        check(!in.hasRemaining(), "tag " + tag + ": " + in.remaining() + " bytes left over");
        return m;
    }

    private Message message() {
        return switch (tag) {
            case 1 -> hello();
            case 2 -> {
                int version = u16();
                UUID serverId = uuid();
                long serverSeq = in.getLong();
                UUID linkToken = uuid();
                yield new Message.Welcome(version, serverId, serverSeq, linkToken, version >= 5 ? uuid() : Message.NONE);
            }
            case 3 -> new Message.Error(u16(), str());
            case 4 -> new Message.SchemaDef(str(), flag(), in.getLong(), bytes());
            case 5 -> {
                long outboxSeq = in.getLong();
                Key<?> key = key();
                int kind = u8();
                check(kind <= 2, "kind " + kind);
                yield new Message.Change(outboxSeq, key, Message.Kind.values()[kind], in.getLong(), bytes());
            }
            case 6 -> new Message.Ack(in.getLong(), key(), in.getLong());
            case 7 -> new Message.Refused(in.getLong(), u16(), str(), pushed());
            case 8 -> pushed();
            case 9 -> new Message.CaughtUp(in.getLong());
            case 10 -> new Message.NeedKeys(str());
            case 11 -> new Message.Keys(str(), in.getInt(), in.getInt());
            case 12 -> new Message.CheckOut(key());
            case 13 -> new Message.CheckIn(key());
            case 14 -> {
                Key<?> key = key();
                boolean snapshot = flag();
                UUID holder = uuid();
                String holderName = str();
                List<UUID> queue = new ArrayList<>();
                for (int n = u16(); n > 0; n--) queue.add(uuid());
                yield new Message.Borrow(key, snapshot, holder, holderName, queue);
            }
            case 15 -> new Message.LinkStored(uuid());
            case 16 -> new Message.Ping();
            case 17 -> new Message.Pong();
            case 18 -> new Message.CaughtUpTo(in.getLong(), in.getLong());
            case 19 -> new Message.Group(u16());
            case 20 -> {
                long outboxSeq = in.getLong();
                Key<?> key = key();
                int kind = u8();
                check(kind == 1, "kind " + kind + " in a Change with a base (expected: 1 CHANGED)");
                long fingerprint = in.getLong();
                long base = in.getLong();
                check(base >= 0, "base " + base);
                yield new Message.Change(outboxSeq, key, Message.Kind.CHANGED, fingerprint, bytes(), base);
            }
            default -> throw new AssertionError("spec frame decoder: unknown tag " + tag);
        };
    }

    /** Tag 1, whose fields grow with its own protocolVersion (version 1: no linkToken; 4: serverId; 5: the run and ids). */
    private Message.Hello hello() {
        int version = u16();
        String appId = str();
        UUID clientId = uuid();
        String clientName = str();
        long lastSeq = in.getLong();
        List<String> trees = new ArrayList<>();
        for (int n = u16(); n > 0; n--) trees.add(str());
        List<Message.Claim> claims = new ArrayList<>();
        for (int n = u16(); n > 0; n--) claims.add(new Message.Claim(str(), in.getInt()));
        byte[] auth = bytes();
        UUID linkToken = version >= 2 ? uuid() : Message.NONE;
        UUID serverId = version >= 4 ? uuid() : Message.NONE;
        if (version < 5) {
            return new Message.Hello(version, appId, clientId, clientName, lastSeq, trees, claims, auth, linkToken, serverId);
        }
        UUID epoch = uuid();
        long epochSeq = in.getLong();
        List<Message.TreeIds> ids = new ArrayList<>();
        for (int n = u16(); n > 0; n--) ids.add(new Message.TreeIds(str(), in.getInt(), in.getInt()));
        return new Message.Hello(version, appId, clientId, clientName, lastSeq, trees, claims, auth, linkToken, serverId,
            epoch, epochSeq, ids);
    }

    /** A Pushed body: tag 8, and the end of tag 7. */
    private Message.Pushed pushed() {
        return new Message.Pushed(in.getLong(), key(), in.getLong(), bytes());
    }

    /** {@code key} = {@code tree:str, id:i32, revision:i32}. */
    private Key<?> key() {
        return new Key<>(str(), in.getInt(), in.getInt());
    }

    /** {@code str} = {@code u16 length, UTF-8}; malformed UTF-8 is refused. */
    private String str() {
        byte[] b = new byte[u16()];
        in.get(b);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("spec frame decoder: tag " + tag + ": malformed UTF-8", e);
        }
    }

    /** {@code bytes} = {@code i32 length, bytes}. */
    private byte[] bytes() {
        int n = in.getInt();
        check(n >= 0 && n <= in.remaining(), "tag " + tag + ": bytes of length " + n + " with " + in.remaining() + " left");
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private UUID uuid() {
        return new UUID(in.getLong(), in.getLong());
    }

    private boolean flag() {
        int b = u8();
        check(b == 0 || b == 1, "tag " + tag + ": flag byte " + b);
        return b == 1;
    }

    private int u8() {
        return in.get() & 0xFF;
    }

    private int u16() {
        return in.getShort() & 0xFFFF;
    }

    private static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError("spec frame decoder: " + what);
    }
}
