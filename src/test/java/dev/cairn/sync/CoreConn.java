package dev.cairn.sync;

import java.util.ArrayList;
import java.util.List;

/** One connection to a {@link ServerCore}, without sockets: what the server sent it, in order. */
final class CoreConn {
    final ServerCore core;
    final ServerCore.Peer peer;
    final List<Message> received = new ArrayList<>();

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

    /** The last message of {@code type} among {@code messages}. */
    static <M extends Message> M last(Class<M> type, List<Message> messages) {
        return type.cast(messages.reversed().stream().filter(type::isInstance).findFirst()
            .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " in " + messages)));
    }
}
