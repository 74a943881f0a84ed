package dev.cairn.sync;

import dev.cairn.Key;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.testing.Fixtures;
import dev.cairn.testing.Fixtures.Part;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One connection between a node's {@link ClientSession} and a {@link ServerCore}, without
 * sockets: messages wait in queues until the test delivers them, so it can cut the link at any
 * point (a lost Ack, a grant that never arrives).
 */
final class ManualLink {
    final ServerCore core;
    final SyncReplica replica;
    final ServerCore.Peer peer;
    final ClientSession session;
    final ArrayDeque<Message> down = new ArrayDeque<>();
    final ArrayDeque<Message> up = new ArrayDeque<>();
    final List<Message> sentUp = new ArrayList<>();
    final List<Message> received = new ArrayList<>();

    ManualLink(ServerCore core, SyncReplica replica) {
        this(core, replica, Set.of(), FrameCodec.PROTOCOL_VERSION);
    }

    /** A link replicating {@code trees} (empty = all) whose Hello offers {@code version}. */
    ManualLink(ServerCore core, SyncReplica replica, Set<String> trees, int version) {
        this(core, replica, replica, trees, version);
    }

    /** As above, the session seeing the database through {@code seen} (a wrapper over {@code replica}). */
    ManualLink(ServerCore core, SyncReplica replica, Replica seen, Set<String> trees, int version) {
        this.core = core;
        this.replica = replica;
        peer = core.connect(new ServerCore.Outbound() {
            @Override
            public void send(Message m) {
                down.add(m);
            }

            @Override
            public long pendingBytes() {
                return 0;
            }

            @Override
            public void close(String reason) {
            }
        });
        session = new ClientSession(seen, trees, m -> {
            up.add(m);
            sentUp.add(m);
        }, version);
        for (Key<?> k : replica.requestedCheckOuts()) session.checkOut(k);
        session.start();
    }

    /** Inserts Fixtures.part(0) to part(n - 1) into {@code tree} and checks each out over this link, settled. */
    List<Key<Part>> insertCheckedOut(TreeImpl<Part> tree, int n) {
        List<Key<Part>> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Key<Part> k = tree.insert(Fixtures.part(i));
            keys.add(k);
            tree.checkOut(k);
            session.checkOut(k);
        }
        settle();
        return keys;
    }

    void deliverUp() {
        while (!up.isEmpty()) core.onMessage(peer, up.removeFirst());
        core.endRound();
    }

    void deliverDown(int count) {
        for (int i = 0; i < count && !down.isEmpty(); i++) {
            Message m = down.removeFirst();
            received.add(m);
            session.onMessage(m);
        }
    }

    /** Delivers both ways until nothing moves (bounded). */
    void settle() {
        for (int i = 0; i < 100 && (i < 2 || !(up.isEmpty() && down.isEmpty() && session.idle())); i++) {
            session.outboxChanged();
            session.pump();
            deliverUp();
            deliverDown(Integer.MAX_VALUE);
        }
    }

    /** The connection ends, whatever is still queued either way. */
    void cut() {
        core.disconnected(peer);
        replica.sessionEnded();
    }
}
