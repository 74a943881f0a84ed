package dev.cairn.sync;

import dev.cairn.schema.RecordCodec;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SchemaVersions;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** One connection to a {@link ServerCore}, without sockets: what the server sent it, in order. */
final class CoreConn {
    final ServerCore core;
    final ServerCore.Peer peer;
    final List<Message> received = new ArrayList<>();
    /** The reason the server gave when it closed this connection, or null while it is open. */
    String closedFor;

    CoreConn(ServerCore core) {
        this.core = core;
        peer = core.connect(new ServerCore.Outbound() {
            @Override
            public void send(Message m) {
                received.add(m);
            }

            @Override
            public long pendingBytes() {
                return 0;
            }

            @Override
            public void close(String reason) {
                closedFor = reason;
            }
        });
    }

    /** Hands the messages to the server in one round and returns what it sent back in that round. */
    List<Message> send(Message... messages) {
        int from = received.size();
        for (Message m : messages) core.onMessage(peer, m);
        core.endRound();
        return List.copyOf(received.subList(from, received.size()));
    }

    /** A Hello from a client that never linked, and the server's answer. */
    List<Message> hello(UUID clientId, String name) {
        return send(new Message.Hello(FrameCodec.PROTOCOL_VERSION, SyncFixture.APP, clientId, name, 0, List.of(), List.of(),
            new byte[0], Message.NONE));
    }

    /** A record value (database-layout.md §3) made on {@code node}: header, then the record bytes. */
    static byte[] recordValue(int stateKind, long metaIteration, long dataIteration, UUID node, byte[] recordBytes) {
        return ByteBuffer.allocate(ChangeChecks.RECORD_HEADER_BYTES + recordBytes.length).put((byte) 1).put((byte) stateKind)
            .putShort((short) 0).putInt(stateKind == 0 ? 0 : 1).putLong(1).putLong(1).putLong(metaIteration)
            .putLong(dataIteration).putLong(node.getMostSignificantBits()).putLong(node.getLeastSignificantBits())
            .put(recordBytes).array();
    }

    /** The codec of {@code type} with its schema as version 1 of {@code tree}. */
    static <V extends Record> RecordCodec<V> codec(Class<V> type, String tree) {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(type));
        return RecordCodec.of(type, tree, versions);
    }

    /** The last message of {@code type} among {@code messages}. */
    static <M extends Message> M last(Class<M> type, List<Message> messages) {
        return type.cast(messages.reversed().stream().filter(type::isInstance).findFirst()
            .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " in " + messages)));
    }
}
