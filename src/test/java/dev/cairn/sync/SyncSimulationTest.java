package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Key;
import dev.cairn.NoIdsLeftException;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.index.DuplicateNameException;
import dev.cairn.index.UniqueNameIndex;
import dev.cairn.testing.Fixtures.Doc;
import dev.cairn.testing.Fixtures.Part;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tag;

/**
 * The session state machines without sockets: {@link ClientSession}s of real local databases
 * and one {@link ServerCore}, joined by a seeded simulated network that delays frames, splits
 * them at random points, and cuts connections (TCP allows nothing worse: no reordering, no
 * loss without a disconnect). Random local changes and check-outs run meanwhile; at the end
 * every link comes back and all replicas must hold identical data. Names come from a small pool
 * under a unique index, so nodes apart make duplicates: every index must end equal to one
 * rebuilt from its replica, and equal on all nodes.
 */
class SyncSimulationTest {

    /**
     * Found by CI: a node's insert whose Ack was lost, changed on another node meanwhile, was
     * sent again; the Ack of it came, the Pushed of the newer version after it was cut off, and
     * the node kept its inserted version for good (RetransmissionTest has the case alone).
     */
    @org.junit.jupiter.api.Test
    void anInsertSentAgainIsSettledByOneAnswer() throws IOException {
        simulate(4020445975678994058L, 3, 500);
    }

    @Property(tries = 8)
    void replicasConvergeUnderDelaysAndDisconnects(@ForAll long seed) throws IOException {
        simulate(seed, 3, 500);
    }

    /**
     * Found by the long run: a node removed (and, in other runs, changed) a record while its
     * CREATED was in flight; the removal was dropped from the outbox as "never seen by the
     * server", so the record lived on everywhere else.
     */
    @org.junit.jupiter.api.Test
    void changesOfARecordWhoseCreationIsInFlightReachTheServer() throws IOException {
        simulate(9058, 4, 1500);
    }

    /**
     * The first node makes a standalone history first (inserts, check-outs, updates, check-ins,
     * removals: no outbox entries while never linked); its link writes one CREATED per record,
     * and every replica must end equal as before.
     */
    @Property(tries = 6)
    void aStandaloneHistoryLinkedFirstConverges(@ForAll long seed) throws IOException {
        simulate(seed, 3, 400, new Mix(200, false, false, false, false, false));
    }

    @Tag("long")
    @Property(tries = 20)
    void replicasConvergeInLongRuns(@ForAll long seed) throws IOException {
        simulate(seed, 4, 1500);
    }

    /**
     * With a versioned tree beside: releases, state numbers and new revisions, which need no
     * check-out, so nodes apart make them at once (the server refuses the later of two
     * revisions, and a change of the state made on a version replaced since), yet every
     * replica ends equal.
     */
    @Property(tries = 6)
    void versionedRecordsConverge(@ForAll long seed) throws IOException {
        simulate(seed, 3, 600, new Mix(0, true, false, false, false, false));
    }

    @Tag("long")
    @Property(tries = 20)
    void versionedRecordsConvergeInLongRuns(@ForAll long seed) throws IOException {
        simulate(seed, 4, 1500, new Mix(0, true, false, false, false, false));
    }

    /**
     * The server stops at random moments, the round it was in not committed (what it had not
     * released yet is lost, as in a crash: no reply of that round left it), and starts again on
     * its folder; every link is cut then, and every replica still ends equal.
     */
    @Property(tries = 6)
    void replicasConvergeAcrossServerRestarts(@ForAll long seed) throws IOException {
        simulate(seed, 3, 600, new Mix(0, true, true, false, false, false));
    }

    @Tag("long")
    @Property(tries = 20)
    void replicasConvergeAcrossServerRestartsInLongRuns(@ForAll long seed) throws IOException {
        simulate(seed, 4, 1500, new Mix(0, true, true, false, false, false));
    }

    /**
     * Each connection replicates Part, Doc or both, at random: changes of a tree the connection
     * leaves out wait in the outbox for a later one, and a connection that adds a tree catches
     * it up in full (sync-protocol.md §5.6). At the end every node connects with every tree.
     */
    @Property(tries = 6)
    void replicasConvergeWithSelectiveConnections(@ForAll long seed) throws IOException {
        simulate(seed, 3, 600, new Mix(0, true, false, true, false, false));
    }

    /**
     * Found so (the long variant): a revision refused here (NOT_YOUR_ID) and made later by the id's
     * owner arrived and left this node's note that the revision was removed (RefusedRemovalTest).
     */
    @org.junit.jupiter.api.Test
    void aRevisionRefusedHereAndMadeByItsOwnerConverges() throws IOException {
        simulate(-233L, 4, 1500, new Mix(0, true, true, false, false, false));
    }

    /** Found so: a removal refused after a break left its note that the revision was removed (RefusedRemovalTest). */
    @org.junit.jupiter.api.Test
    void aRefusedRemovalConverges() throws IOException {
        simulate(18791201261360L, 3, 600, new Mix(0, true, false, false, true, false));
    }

    /**
     * An administrator breaks random check-outs: the holder's changes made under a broken
     * check-out are refused (NOT_CHECKED_OUT) and rolled back when they reach the server, and
     * every replica still ends equal.
     */
    @Property(tries = 6)
    void replicasConvergeWhenCheckOutsAreBroken(@ForAll long seed) throws IOException {
        simulate(seed, 3, 600, new Mix(0, true, false, false, true, false));
    }

    @Tag("long")
    @Property(tries = 20)
    void replicasConvergeWhenCheckOutsAreBrokenInLongRuns(@ForAll long seed) throws IOException {
        simulate(seed, 4, 1500, new Mix(0, true, true, true, true, false));
    }

    /**
     * An administrator releases random nodes, connected or not, beside breaks: a connected one is
     * closed (NODE_RELEASED) and connects again, asking again for what it waited for; the
     * replicas still end equal.
     */
    @Property(tries = 4)
    void replicasConvergeWhenNodesAreReleased(@ForAll long seed) throws IOException {
        simulate(seed, 3, 600, new Mix(0, true, false, false, true, true));
    }

    @Tag("long")
    @Property(tries = 20)
    void replicasConvergeWhenNodesAreReleasedInLongRuns(@ForAll long seed) throws IOException {
        simulate(seed, 4, 1500, new Mix(0, true, true, true, true, true));
    }

    @Tag("long")
    @Property(tries = 20)
    void replicasConvergeWithSelectiveConnectionsInLongRuns(@ForAll long seed) throws IOException {
        simulate(seed, 4, 1500, new Mix(0, true, true, true, false, false));
    }

    /** One client: its database, typed tree and (while connected) its link. */
    static final class Node {
        final Database db;
        final SyncReplica replica;
        final TreeImpl<Part> tree;
        final TreeImpl<Doc> docs;
        final UniqueNameIndex<Part> names;
        ClientSession session;
        /** The trees the connection replicates (empty: all). */
        Set<String> trees = Set.of();
        ServerCore.Peer peer;
        final ArrayDeque<byte[]> up = new ArrayDeque<>();
        final ArrayDeque<byte[]> down = new ArrayDeque<>();
        FrameCodec.Decoder upDecoder;
        FrameCodec.Decoder downDecoder;
        boolean closing;
        /** Refusals expected of any record in this run (breaks: a change made under a broken check-out). */
        Set<Integer> alsoExpected = Set.of();
        /** Changes the server refused, but for REMOVED and SUPERSEDED (see deliverDown): none are expected. */
        final List<Message.Refused> refused = new ArrayList<>();

        Node(Database db) {
            this.db = db;
            this.replica = SyncReplica.install(db);
            this.tree = TreeImpl.open(db, Part.class, null);
            this.docs = TreeImpl.open(db, Doc.class, null);
            this.names = tree.register(new UniqueNameIndex<>("Part.name", Part::name));
        }

        boolean connected() {
            return session != null;
        }
    }

    /**
     * What the server refuses of a versioned record's changes that nodes make apart without a
     * check-out: the later of two new revisions, a change of the state made on a version
     * replaced since, a data change of a record another node released meanwhile, and a new
     * revision of a record whose release was refused so (NOT_YOUR_ID: the server holds the
     * record below it not released).
     */
    private static final Set<Integer> APART = Set.of(ErrorCode.REVISION_TAKEN, ErrorCode.CHANGED_SINCE,
        ErrorCode.RELEASED, ErrorCode.NOT_YOUR_ID);

    /** Names of inserted and updated parts come from this many, so they collide. */
    private static final int NAMES = 60;

    /**
     * What a run mixes in beside Part changes, deliveries and cuts.
     *
     * @param standaloneSteps local changes the first node makes before any node links
     * @param docs            a third of the local changes go to the versioned tree Doc
     * @param restarts        the server stops now and then without ending its round, and starts again
     * @param selective       a connection replicates Part, Doc or both, at random (sync-protocol.md §5.6)
     * @param breaks          an administrator breaks a random check-out now and then (§5.4)
     * @param releases        with breaks: some of them release a random node instead (§5.4), which
     *                        also closes its connection (NODE_RELEASED)
     */
    record Mix(int standaloneSteps, boolean docs, boolean restarts, boolean selective, boolean breaks, boolean releases) {
        static final Mix PARTS = new Mix(0, false, false, false, false, false);
    }

    /** The trees a selective connection replicates: one of these (empty: all). */
    private static final List<Set<String>> TREE_SETS = List.of(Set.of(), Set.of("Part"),
        Set.of("Doc"), Set.of("Part", "Doc"));

    private void simulate(long seed, int nodeCount, int steps) throws IOException {
        simulate(seed, nodeCount, steps, Mix.PARTS);
    }

    private void simulate(long seed, int nodeCount, int steps, Mix mix) throws IOException {
        Random rnd = new Random(seed);
        Path dir = Files.createTempDirectory("cairn-sim");
        int rangeIds = 1 + rnd.nextInt(30);
        ServerCore core = ServerCore.open(dir.resolve("server"), "sim", rangeIds);
        List<Node> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < nodeCount; i++) {
                Database db = Database.open(dir.resolve("n" + i), "n" + i, "u" + i, "sim", 1 << 16);
                if (i == 0 && mix.standaloneSteps() > 0) standaloneHistory(db, rnd, mix.standaloneSteps());
                Node node = new Node(db);
                if (mix.breaks()) node.alsoExpected = Set.of(ErrorCode.NOT_CHECKED_OUT, ErrorCode.CHANGED_SINCE);
                nodes.add(node);
            }
            // Link everyone first: a first link blocks inserts until its Welcome, which this
            // single thread would only deliver later (SyncReplica.awaitIds).
            settle(core, nodes, rnd);
            long t0 = System.nanoTime();
            for (int step = 0; step < steps; step++) {
                int r = rnd.nextInt(100);
                Node n = nodes.get(rnd.nextInt(nodes.size()));
                if (r < 30) {
                    if (mix.docs() && rnd.nextInt(3) == 0) docChange(n, rnd);
                    else localChange(n, rnd);
                } else if (r < 55) {
                    deliverDown(n, rnd, 1 + rnd.nextInt(4));
                } else if (r < 80) {
                    deliverUp(core, n, rnd, 1 + rnd.nextInt(4));
                } else if (r < 84) {
                    if (n.connected()) cut(core, n);
                } else if (r < 90) {
                    if (!n.connected()) connect(core, n, mix.selective() ? TREE_SETS.get(rnd.nextInt(TREE_SETS.size())) : Set.of());
                } else if (mix.breaks() && rnd.nextInt(mix.releases() ? 3 : 10) == 0) {
                    List<ServerCore.CheckOutState> held = core.checkOuts();
                    if (mix.releases() && rnd.nextBoolean()) core.releaseNode(n.db.nodeId());
                    else if (!held.isEmpty()) core.breakCheckOut(held.get(rnd.nextInt(held.size())).key());
                } else if (mix.restarts() && rnd.nextInt(20) == 0) {
                    for (Node m : nodes) {
                        if (m.connected()) dropped(m);
                    }
                    core.close();
                    core = ServerCore.open(dir.resolve("server"), "sim", rangeIds);
                } else {
                    core.endRound();
                }
                if (step % 50 == 49) {
                    for (Node m : nodes) {
                        assertEquals(List.of(), m.db.read(dev.cairn.db.LayoutCheck::problems),
                            "seed " + seed + " step " + step + ": layout of " + m.db.nodeName());
                    }
                }
            }
            long t1 = System.nanoTime();
            int rounds = settle(core, nodes, rnd);
            System.out.printf("sim seed %d: %d steps %d ms, settled in %d rounds %d ms%n", seed, steps,
                (t1 - t0) / 1_000_000, rounds, (System.nanoTime() - t1) / 1_000_000);
            Map<String, String> first = contents(nodes.getFirst());
            for (Node n : nodes) {
                Map<String, String> mine = contents(n);
                if (!first.equals(mine)) {
                    Set<String> keys = new java.util.TreeSet<>(first.keySet());
                    keys.addAll(mine.keySet());
                    StringBuilder d = new StringBuilder();
                    for (String k : keys) {
                        if (!java.util.Objects.equals(first.get(k), mine.get(k))) {
                            d.append("\n  ").append(k).append(": n0=").append(first.get(k)).append(" vs ")
                                .append(n.db.nodeName()).append("=").append(mine.get(k));
                        }
                    }
                    throw new AssertionError("seed " + seed + ": node " + n.db.nodeName() + " differs:" + d);
                }
                assertEquals(List.of(), n.refused, "seed " + seed + ": changes refused to " + n.db.nodeName());
                assertEquals(List.of(), n.db.read(dev.cairn.db.LayoutCheck::problems), "seed " + seed + ": layout of " + n.db.nodeName());
                for (Key<Part> k : n.tree.keys()) {
                    assertEquals(nodes.getFirst().tree.meta(k), n.tree.meta(k), "seed " + seed + ": meta of " + k);
                }
                for (Key<Doc> k : n.docs.keys()) {
                    assertEquals(nodes.getFirst().docs.meta(k), n.docs.meta(k), "seed " + seed + ": meta of " + k);
                }
                UniqueNameIndex<Part> rebuilt = new UniqueNameIndex<>("Part.name", Part::name);
                java.util.LinkedHashMap<Key<Part>, Part> all = new java.util.LinkedHashMap<>();
                n.tree.forEach(all::put);
                rebuilt.rebuild(all);
                assertEquals(rebuilt.entries(), n.names.entries(), "seed " + seed + ": index of " + n.db.nodeName());
                assertEquals(nodes.getFirst().names.entries(), n.names.entries(), "seed " + seed + ": index of " + n.db.nodeName());
            }
        } finally {
            for (Node n : nodes) n.db.close();
            core.close();
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * Changes of a database that never linked and has no sync hook yet, so check-outs are
     * granted at once: inserts, updates, removals, check-ins (names may repeat: no index yet).
     */
    private static void standaloneHistory(Database db, Random rnd, int steps) {
        TreeImpl<Part> tree = TreeImpl.open(db, Part.class, null);
        for (int step = 0; step < steps; step++) {
            List<Key<Part>> keys = tree.keys();
            int r = rnd.nextInt(10);
            if (r < 4 || keys.isEmpty()) {
                tree.insert(part(rnd.nextInt(NAMES)));
                continue;
            }
            Key<Part> k = keys.get(rnd.nextInt(keys.size()));
            if (!(tree.borrowState(k) instanceof BorrowState.Mine)) {
                tree.checkOut(k).join();
            } else if (r < 7) {
                tree.update(k, part(rnd.nextInt(NAMES)));
            } else if (r < 9) {
                tree.checkIn(k);
            } else {
                tree.remove(k);
            }
        }
        long held = tree.keys().stream().filter(k -> tree.borrowState(k) instanceof BorrowState.Mine).count();
        assertTrue(tree.size() > 0 && held > 0, "a history with records and check-outs: " + tree.size() + ", " + held);
    }

    private static Map<String, String> contents(Node n) {
        Map<String, String> m = new TreeMap<>();
        n.tree.forEach((k, v) -> m.put(k.toString(), v.toString()));
        n.docs.forEach((k, v) -> m.put(k.toString(), v + " " + n.docs.meta(k).state()));
        return m;
    }

    /**
     * A change of a versioned record: as for Parts, plus release, new revision and state number,
     * which need no check-out (a refusal here names what the record's state does not allow).
     */
    private static void docChange(Node n, Random rnd) {
        List<Key<Doc>> keys = n.docs.keys();
        int r = rnd.nextInt(12);
        try {
            if (r < 3 || keys.isEmpty()) {
                n.docs.insert(new Doc("d" + rnd.nextInt(1000), rnd.nextInt(100)));
            } else {
                Key<Doc> k = keys.get(rnd.nextInt(keys.size()));
                boolean mine = n.docs.borrowState(k) instanceof BorrowState.Mine;
                if (r < 6 && !mine) {
                    n.docs.checkOut(k);
                    if (n.connected()) n.session.checkOut(k);
                } else if (r < 6) {
                    n.docs.update(k, new Doc("d" + rnd.nextInt(1000), rnd.nextInt(100)));
                } else if (r == 6 && mine) {
                    n.docs.checkIn(k);
                    if (n.connected()) n.session.checkIn(k);
                } else if (r == 7) {
                    n.docs.release(k);
                } else if (r == 8) {
                    // of a released one, if this node has any
                    int at = keys.indexOf(k);
                    Key<Doc> from = k;
                    for (int i = 1; i < keys.size() && !(n.docs.meta(from).state() instanceof dev.cairn.RecordState.Released); i++) {
                        from = keys.get((at + i) % keys.size());
                    }
                    n.docs.newRevision(from);
                } else if (r == 9) {
                    n.docs.setStateNumber(k, rnd.nextInt(5));
                } else if (r == 10 && mine) {
                    n.docs.remove(k);
                }
            }
        } catch (NoIdsLeftException | dev.cairn.ReleasedRecordException | IllegalStateException refusedHere) {
            // no ids yet; a change of a released record; a release of a released one, or a new
            // revision of one that is not released (or whose next revision exists here)
        }
        if (n.connected()) {
            n.session.outboxChanged();
            n.session.pump();
        }
    }

    private static void localChange(Node n, Random rnd) {
        List<Key<Part>> keys = n.tree.keys();
        int r = rnd.nextInt(10);
        try {
            if (r < 4 || keys.isEmpty()) {
                if (n.replica.idsAvailable("Part") > 0 || n.tree.size() >= 0) n.tree.insert(part(rnd.nextInt(NAMES)));
            } else {
                Key<Part> k = keys.get(rnd.nextInt(keys.size()));
                BorrowState state = n.tree.borrowState(k);
                if (!(state instanceof BorrowState.Mine)) {
                    if (r < 7) {
                        n.tree.checkOut(k);
                        if (n.connected()) n.session.checkOut(k);
                    }
                } else if (r < 8) {
                    n.tree.update(k, part(rnd.nextInt(NAMES)));
                } else if (r < 9) {
                    n.tree.checkIn(k);
                    if (n.connected()) n.session.checkIn(k);
                } else {
                    n.tree.remove(k);
                }
            }
        } catch (NoIdsLeftException noIds) {
            // a linked node without ids left: it asks the server and tries later
        } catch (DuplicateNameException taken) {
            // the name is held here already; nothing was stored
        }
        if (n.connected()) {
            n.session.outboxChanged();
            n.session.pump();
        }
    }

    private static void connect(ServerCore core, Node n) {
        connect(core, n, Set.of());
    }

    private static void connect(ServerCore core, Node n, Set<String> trees) {
        n.up.clear();
        n.down.clear();
        n.closing = false;
        n.upDecoder = new FrameCodec.Decoder();
        n.downDecoder = new FrameCodec.Decoder();
        n.peer = core.connect(new ServerCore.Outbound() {
            @Override
            public void send(Message m) {
                n.down.add(FrameCodec.encode(m));
            }

            @Override
            public long pendingBytes() {
                long sum = 0;
                for (byte[] b : n.down) sum += b.length;
                return sum;
            }

            @Override
            public void close(String reason) {
                n.closing = true;
            }
        });
        n.trees = trees;
        n.session = new ClientSession(n.replica, trees, m -> n.up.add(FrameCodec.encode(m)));
        for (Key<?> k : n.replica.requestedCheckOuts()) n.session.checkOut(k);
        n.session.start();
    }

    private static void cut(ServerCore core, Node n) {
        core.disconnected(n.peer);
        dropped(n);
    }

    /** The node's end of a connection that is gone, whatever was still on its way. */
    private static void dropped(Node n) {
        n.replica.sessionEnded();
        n.session = null;
        n.peer = null;
        n.up.clear();
        n.down.clear();
    }

    /** Delivers frames server → client, split at random points. */
    private static void deliverDown(Node n, Random rnd, int frames) {
        for (int i = 0; i < frames && n.connected() && !n.down.isEmpty(); i++) {
            byte[] f = n.down.removeFirst();
            List<Message> out = new ArrayList<>();
            int split = rnd.nextInt(f.length + 1);
            n.downDecoder.feed(ByteBuffer.wrap(f, 0, split), out);
            n.downDecoder.feed(ByteBuffer.wrap(f, split, f.length - split), out);
            for (Message m : out) {
                // A CREATED sent again (its Ack lost with a cut) after another node removed the
                // record is refused with REMOVED: how the node learns the removal; after another
                // node changed it, with SUPERSEDED. Anything else refused is a bug (every Part
                // change here is made by the record's holder), but for what APART lists of Docs.
                if (m instanceof Message.Refused r && r.code() != ErrorCode.REMOVED && r.code() != ErrorCode.SUPERSEDED
                        && !n.alsoExpected.contains(r.code())
                        && !(r.current().key().tree().equals("Doc") && APART.contains(r.code())
                            && (r.code() != ErrorCode.NOT_YOUR_ID || r.current().key().revision() > 0))) {
                    n.refused.add(r);
                }
            }
            try {
                ClientSession s = n.session;
                n.replica.batch(() -> {
                    for (Message m : out) s.onMessage(m);
                });
            } catch (ClientSession.Failure e) {
                if (e.serverCode() != ErrorCode.NODE_RELEASED || !n.closing) {
                    throw new AssertionError("session failed: " + e.getMessage(), e);
                }
                dropped(n); // released: the server closed the connection after its Error
                return;
            }
        }
        if (n.connected() && n.closing && n.down.isEmpty()) {
            n.replica.sessionEnded();
            n.session = null;
        }
    }

    /** Delivers frames client → server. */
    private static void deliverUp(ServerCore core, Node n, Random rnd, int frames) {
        for (int i = 0; i < frames && n.connected() && !n.up.isEmpty(); i++) {
            byte[] f = n.up.removeFirst();
            List<Message> out = new ArrayList<>();
            int split = rnd.nextInt(f.length + 1);
            n.upDecoder.feed(ByteBuffer.wrap(f, 0, split), out);
            n.upDecoder.feed(ByteBuffer.wrap(f, split, f.length - split), out);
            for (Message m : out) core.onMessage(n.peer, m);
        }
    }

    /** Reconnects everyone and delivers until nothing moves; bounded. */
    private static int settle(ServerCore core, List<Node> nodes, Random rnd) {
        for (Node n : nodes) {
            if (n.connected() && !n.trees.isEmpty()) cut(core, n); // every tree, to end equal
            if (!n.connected()) connect(core, n);
        }
        for (int round = 0; round < 10_000; round++) {
            boolean moved = false;
            for (Node n : nodes) {
                if (!n.connected()) {
                    connect(core, n);
                    moved = true;
                }
                n.session.outboxChanged();
                n.session.pump();
                moved |= !n.up.isEmpty() || !n.down.isEmpty();
                deliverUp(core, n, rnd, Integer.MAX_VALUE);
            }
            core.endRound();
            for (Node n : nodes) {
                moved |= !n.down.isEmpty();
                deliverDown(n, rnd, Integer.MAX_VALUE);
            }
            boolean quiet = !moved;
            for (Node n : nodes) {
                quiet &= n.connected() && n.session.state() == ClientSession.State.LIVE && n.session.idle() && n.up.isEmpty()
                    && n.down.isEmpty();
            }
            if (quiet) return round;
        }
        assertTrue(false, "the simulation did not settle");
        return -1;
    }
}
