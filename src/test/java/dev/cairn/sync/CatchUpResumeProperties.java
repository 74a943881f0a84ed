package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.BorrowState;
import dev.cairn.Key;
import dev.cairn.db.Database;
import dev.cairn.db.SyncReplica;
import dev.cairn.db.TreeImpl;
import dev.cairn.sync.CatchUpMarkTest.Note;
import dev.cairn.testing.Fixtures.Part;
import dev.cairn.testing.TestFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tag;

/**
 * Catch-ups cut at random points resume after their last mark (CaughtUpTo, sync-protocol.md
 * §4.1 step 4) and lose nothing: a target node catches up (fresh, or back after a long time
 * offline) over a simulated network (frames encoded and split, delivered in batches) while a
 * writer inserts, changes and removes records of two trees, hands check-outs over to the
 * target while it catches up (the stored record sent out of order before the Borrow), and the
 * target asks for check-outs of records removed meanwhile (their tombstones sent out of order),
 * changes what it holds (Acks during the catch-up) and reconnects with another tree set (§5.6:
 * a full catch-up when the set grows). Every reconnection resumes at or after the last mark the
 * node applied; at the end the target holds exactly what the server holds (a fresh node that
 * caught up in one go), no record lost, none brought back.
 */
class CatchUpResumeProperties {

    @Property(tries = 6)
    void catchUpsCutAtRandomResumeAndConverge(@ForAll long seed) throws IOException {
        simulate(seed, 150);
    }

    @Tag("long")
    @Property(tries = 40)
    void catchUpsCutAtRandomResumeAndConvergeInLongRuns(@ForAll long seed) throws IOException {
        simulate(seed, 1000);
    }

    /** One node: its database, two typed trees and (while connected) its link. */
    static final class Node {
        final Database db;
        final SyncReplica replica;
        final TreeImpl<Part> parts;
        final TreeImpl<Note> notes;
        ClientSession session;
        ServerCore.Peer peer;
        Set<String> trees = Set.of();
        final ArrayDeque<byte[]> up = new ArrayDeque<>();
        final ArrayDeque<byte[]> down = new ArrayDeque<>();
        FrameCodec.Decoder downDecoder;
        /** The last mark applied on the current connection, or null. */
        Message.CaughtUpTo mark;
        /** The last mark of the connection before, when it was cut while catching up; null otherwise. */
        Message.CaughtUpTo markAtCut;
        /** Hellos sent, and of those the ones that resumed a catch-up cut short after its mark. */
        int hellos;
        int resumed;
        /** Marks below the syncSeq stored before them: a full catch-up's (§5.6), stored lower. */
        int marksBelow;

        Node(Database db) {
            this.db = db;
            this.replica = SyncReplica.install(db);
            this.parts = TreeImpl.open(db, Part.class, null);
            this.notes = TreeImpl.open(db, Note.class, null);
        }

        boolean connected() {
            return session != null;
        }
    }

    private static final List<Set<String>> SETS = List.of(Set.of(), Set.of("Part"), Set.of("Part", "Note"));

    private void simulate(long seed, int steps) throws IOException {
        Random rnd = new Random(seed);
        parts.clear(); // jqwik may run every try on one instance
        notes.clear();
        held.clear();
        Path dir = Files.createTempDirectory("cairn-resume");
        List<Database> opened = new ArrayList<>();
        ServerCore core = ServerCore.open(dir.resolve("server"), SyncFixture.APP, 100 + rnd.nextInt(1000));
        try {
            long t0 = System.nanoTime();
            Node w = open(dir, "writer", opened);
            Node t = open(dir, "target", opened);
            connect(core, w, Set.of());
            flush(core, w);
            write(core, w, rnd, 300 + rnd.nextInt(300));
            if (rnd.nextBoolean()) {
                // Back after a long time offline: caught up once, then much changed meanwhile.
                connect(core, t, SETS.get(rnd.nextInt(SETS.size())));
                settle(core, List.of(w, t));
                cut(core, t);
                write(core, w, rnd, 200 + rnd.nextInt(300));
                for (int i = 0; i < 20; i++) changeOrRemove(core, w, rnd);
            }
            // One cut after a mark, for sure (a catch-up of one batch has none: then more records); then anything.
            for (int attempt = 0; attempt < 5 && t.mark == null; attempt++) {
                if (t.connected()) {
                    cut(core, t);
                    write(core, w, rnd, 500);
                }
                connect(core, t, SETS.get(rnd.nextInt(SETS.size())));
                for (int i = 0; i < 200 && t.mark == null && t.session.state() != ClientSession.State.LIVE; i++) {
                    deliverUp(core, t);
                    core.endRound();
                    deliverDown(t, rnd, 1 + rnd.nextInt(300), true);
                }
            }
            assertTrue(t.mark != null, "seed " + seed + ": no catch-up mark arrived");
            cut(core, t);
            connect(core, t, t.trees);
            assertEquals(1, t.resumed, "seed " + seed + ": the reconnection resumed after the mark");

            for (int step = 0; step < steps; step++) {
                int r = rnd.nextInt(100);
                if (r < 25) {
                    deliverDown(t, rnd, 1 + rnd.nextInt(rnd.nextBoolean() ? 10 : 100));
                } else if (r < 32) {
                    if (t.connected()) deliverUp(core, t);
                    core.endRound();
                } else if (r < 40) {
                    write(core, w, rnd, 1 + rnd.nextInt(20));
                } else if (r < 58) {
                    changeOrRemove(core, w, rnd);
                } else if (r < 66) {
                    handOver(core, w, rnd);
                } else if (r < 78) {
                    targetChange(t, rnd);
                } else if (r < 85) {
                    if (t.connected()) cut(core, t);
                } else if (r < 95) {
                    if (!t.connected()) connect(core, t, SETS.get(rnd.nextInt(SETS.size())));
                } else {
                    core.endRound();
                }
            }

            if (t.connected() && !t.trees.isEmpty()) cut(core, t);
            if (!t.connected()) connect(core, t, Set.of());
            settle(core, List.of(w, t));
            Node fresh = open(dir, "fresh", opened);
            connect(core, fresh, Set.of());
            settle(core, List.of(w, t, fresh));
            for (Node n : List.of(w, t)) {
                assertEquals("", diff(contents(fresh.parts), contents(n.parts)), "seed " + seed + ": Part of " + n.db.nodeName());
                assertEquals("", diff(contents(fresh.notes), contents(n.notes)), "seed " + seed + ": Note of " + n.db.nodeName());
                for (Key<Part> k : n.parts.keys()) {
                    assertEquals(fresh.parts.meta(k), n.parts.meta(k), "seed " + seed + ": meta of " + k);
                }
                assertEquals(List.of(), n.db.read(dev.cairn.db.LayoutCheck::problems), "seed " + seed + ": layout");
            }
            assertTrue(t.resumed >= 1 && t.hellos > 2, "seed " + seed + ": " + t.hellos + " connections");
            System.out.printf("catch-up resume seed %d: %d ms; %d connections, %d resumed after a mark, %d marks below the "
                + "sequence stored before (a full catch-up)%n", seed, (System.nanoTime() - t0) / 1_000_000, t.hellos, t.resumed,
                t.marksBelow);
        } finally {
            for (Database d : opened) d.close();
            core.close();
            TestFiles.deleteTree(dir);
        }
    }

    private static Node open(Path dir, String name, List<Database> opened) {
        Database db = Database.open(dir.resolve(name), name, name, SyncFixture.APP, 1 << 16);
        opened.add(db);
        return new Node(db);
    }

    /** What {@code actual} lacks, has too many or has otherwise than {@code expected}: the first few records and the counts; "" when equal. */
    private static String diff(Map<String, String> expected, Map<String, String> actual) {
        List<String> lost = expected.keySet().stream().filter(k -> !actual.containsKey(k)).toList();
        List<String> extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
        List<String> other = expected.keySet().stream().filter(k -> actual.containsKey(k) && !expected.get(k).equals(actual.get(k)))
            .map(k -> k + " " + actual.get(k) + " (expected: " + expected.get(k) + ")").toList();
        if (lost.isEmpty() && extra.isEmpty() && other.isEmpty()) return "";
        return lost.size() + " lost " + lost.stream().limit(5).toList() + ", " + extra.size() + " brought back or made up "
            + extra.stream().limit(5).toList() + ", " + other.size() + " differ " + other.stream().limit(3).toList();
    }

    private static <V extends Record> Map<String, String> contents(TreeImpl<V> t) {
        Map<String, String> m = new TreeMap<>();
        t.forEach((k, v) -> m.put(k.toString(), v.toString()));
        return m;
    }

    // ------------------------------------------------------------------ what the writer does

    /** The writer's records (removed ones leave), and the Parts it holds checked out. */
    private final List<Key<Part>> parts = new ArrayList<>();
    private final List<Key<Note>> notes = new ArrayList<>();
    private final List<Key<Part>> held = new ArrayList<>();

    /** Inserts {@code count} records, Parts and Notes, in batches (its link fetches ids between them). */
    private void write(ServerCore core, Node w, Random rnd, int count) {
        for (int done = 0; done < count; ) {
            int n = Math.min(count - done, 1 + rnd.nextInt(200));
            if (rnd.nextInt(3) == 0) {
                List<Note> batch = new ArrayList<>();
                for (int i = 0; i < n; i++) batch.add(new Note("note " + rnd.nextInt(1_000_000), rnd.nextInt()));
                notes.addAll(w.notes.insertAll(batch));
            } else {
                List<Part> batch = new ArrayList<>();
                for (int i = 0; i < n; i++) batch.add(part(rnd.nextInt(1_000_000)));
                parts.addAll(w.parts.insertAll(batch));
            }
            done += n;
            flush(core, w);
        }
    }

    /** The writer checks out a random record and, if it gets it, changes or removes it (it keeps holding a changed Part). */
    private void changeOrRemove(ServerCore core, Node w, Random rnd) {
        if (rnd.nextInt(4) == 0) {
            if (notes.isEmpty()) return;
            int i = rnd.nextInt(notes.size());
            Key<Note> k = notes.get(i);
            if (!(w.notes.borrowState(k) instanceof BorrowState.Mine)) {
                w.notes.checkOut(k);
                w.session.checkOut(k);
                flush(core, w);
            }
            if (!(w.notes.borrowState(k) instanceof BorrowState.Mine)) return;
            if (rnd.nextInt(3) == 0) {
                w.notes.remove(k);
                notes.set(i, notes.getLast());
                notes.removeLast();
            } else {
                w.notes.update(k, new Note("changed " + rnd.nextInt(1000), rnd.nextInt()));
            }
        } else {
            if (parts.isEmpty()) return;
            int i = rnd.nextInt(parts.size());
            Key<Part> k = parts.get(i);
            if (!(w.parts.borrowState(k) instanceof BorrowState.Mine)) {
                w.parts.checkOut(k);
                w.session.checkOut(k);
                flush(core, w);
            }
            if (!(w.parts.borrowState(k) instanceof BorrowState.Mine)) return;
            if (rnd.nextInt(4) == 0) {
                w.parts.remove(k);
                parts.set(i, parts.getLast());
                parts.removeLast();
                held.remove(k);
            } else {
                w.parts.update(k, part(rnd.nextInt(1_000_000)));
                if (!held.contains(k)) held.add(k);
            }
        }
        flush(core, w);
    }

    /** The writer changes a Part it holds and checks it in: the next in line (the target, often) gets it. */
    private void handOver(ServerCore core, Node w, Random rnd) {
        if (held.isEmpty()) return;
        Key<Part> k = held.remove(rnd.nextInt(held.size()));
        if (rnd.nextBoolean()) {
            w.parts.update(k, part(rnd.nextInt(1_000_000)));
            flush(core, w);
        }
        w.parts.checkIn(k);
        w.session.checkIn(k);
        flush(core, w);
    }

    // ------------------------------------------------------------------ what the target does

    /** Asks for a check-out of a Part it has (held by the writer, or removed meanwhile), changes one it holds, or gives one back. */
    private void targetChange(Node t, Random rnd) {
        if (parts.isEmpty()) return;
        Key<Part> k = rnd.nextInt(4) == 0 && !held.isEmpty() ? held.get(rnd.nextInt(held.size())) : parts.get(rnd.nextInt(parts.size()));
        if (!t.parts.contains(k)) return;
        BorrowState state = t.parts.borrowState(k);
        if (!(state instanceof BorrowState.Mine)) {
            t.parts.checkOut(k);
            if (t.connected()) t.session.checkOut(k);
        } else if (rnd.nextInt(3) > 0) {
            t.parts.update(k, part(2_000_000 + rnd.nextInt(1000)));
        } else {
            t.parts.checkIn(k);
            if (t.connected()) t.session.checkIn(k);
        }
        if (t.connected()) {
            t.session.outboxChanged();
            t.session.pump();
        }
    }

    // ------------------------------------------------------------------ the simulated network

    private static void connect(ServerCore core, Node n, Set<String> trees) {
        n.up.clear();
        n.down.clear();
        n.downDecoder = new FrameCodec.Decoder();
        n.mark = null;
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
                throw new AssertionError("the server closed " + n.db.nodeName() + ": " + reason);
            }
        });
        long before = n.replica.lastSeq();
        boolean sameTrees = n.replica.catchUpFrom(trees) == before;
        n.trees = trees;
        n.session = new ClientSession(n.replica, trees, m -> n.up.add(FrameCodec.encode(m)));
        for (Key<?> k : n.replica.requestedCheckOuts()) n.session.checkOut(k);
        n.session.start();
        byte[] f = n.up.getFirst();
        Message.Hello h = (Message.Hello) FrameCodec.decodeBody(ByteBuffer.wrap(f, 4, f.length - 4));
        assertEquals(sameTrees ? before : 0, h.lastSeq());
        assertEquals(n.replica.epochSeq(), h.epochSeq());
        n.hellos++;
        if (n.markAtCut != null && sameTrees) {
            // The same trees, or fewer: the catch-up goes on after the mark (a grown set starts from 0, §5.6).
            assertTrue(h.lastSeq() >= n.markAtCut.seq(), "Hello " + h.lastSeq() + " below the mark " + n.markAtCut);
            n.resumed++;
        }
        n.markAtCut = null;
    }

    private static void cut(ServerCore core, Node n) {
        core.disconnected(n.peer);
        n.replica.sessionEnded();
        if (n.mark != null && n.session.state() == ClientSession.State.CATCHING_UP) {
            // Whatever comes next, the node keeps what the mark says (§4.1 step 4).
            assertTrue(n.replica.lastSeq() >= n.mark.seq(), "syncSeq " + n.replica.lastSeq() + " below the mark " + n.mark);
            assertTrue(n.replica.epochSeq() >= n.mark.serverSeq());
            n.markAtCut = n.mark;
        }
        n.mark = null;
        n.session = null;
        n.peer = null;
        n.up.clear();
        n.down.clear();
    }

    /** Hands what {@code n} sent to the server (the round is ended by the caller). */
    private static void deliverUp(ServerCore core, Node n) {
        FrameCodec.Decoder d = new FrameCodec.Decoder();
        while (!n.up.isEmpty()) {
            List<Message> out = new ArrayList<>();
            d.feed(ByteBuffer.wrap(n.up.removeFirst()), out);
            for (Message m : out) core.onMessage(n.peer, m);
        }
    }

    /** Delivers up to {@code frames} frames server → client, split at a random point, applied in one batch as a read is. */
    private static void deliverDown(Node n, Random rnd, int frames) {
        deliverDown(n, rnd, frames, false);
    }

    /** As above; {@code toMark}: stops after the first CaughtUpTo (tag 18). */
    private static void deliverDown(Node n, Random rnd, int frames, boolean toMark) {
        if (!n.connected() || n.down.isEmpty()) return;
        ByteArrayBuilder bytes = new ByteArrayBuilder();
        for (int i = 0; i < frames && !n.down.isEmpty(); i++) {
            byte[] f = n.down.removeFirst();
            bytes.add(f);
            if (toMark && f[4] == 18) break;
        }
        byte[] all = bytes.toArray();
        List<Message> out = new ArrayList<>();
        int split = rnd.nextInt(all.length + 1);
        n.downDecoder.feed(ByteBuffer.wrap(all, 0, split), out);
        n.downDecoder.feed(ByteBuffer.wrap(all, split, all.length - split), out);
        ClientSession s = n.session;
        long before = n.replica.lastSeq();
        try {
            n.replica.batch(() -> {
                for (Message m : out) s.onMessage(m);
            });
        } catch (ClientSession.Failure e) {
            throw new AssertionError(n.db.nodeName() + ": session failed: " + e.getMessage(), e);
        }
        for (Message m : out) {
            if (m instanceof Message.CaughtUpTo c) {
                n.mark = c;
                if (c.seq() < before) n.marksBelow++;
            }
            if (m instanceof Message.Refused r && r.code() != ErrorCode.REMOVED) {
                throw new AssertionError(n.db.nodeName() + ": refused " + r);
            }
        }
    }

    /** Delivers everything of the writer's, both ways, until nothing moves (its rounds pump the target's catch-up too). */
    private static void flush(ServerCore core, Node w) {
        for (int i = 0; i < 50; i++) {
            w.session.outboxChanged();
            w.session.pump();
            boolean moved = !w.up.isEmpty() || !w.down.isEmpty();
            deliverUp(core, w);
            core.endRound();
            deliverDown(w, new Random(i), Integer.MAX_VALUE);
            if (!moved && w.up.isEmpty() && w.down.isEmpty()) return;
        }
    }

    /** Delivers everything both ways until every node is live and idle (bounded). */
    private static void settle(ServerCore core, List<Node> nodes) {
        Random rnd = new Random(0);
        for (int round = 0; round < 2_000; round++) {
            boolean moved = false;
            for (Node n : nodes) {
                n.session.outboxChanged();
                n.session.pump();
                moved |= !n.up.isEmpty() || !n.down.isEmpty();
                deliverUp(core, n);
            }
            core.endRound();
            for (Node n : nodes) {
                moved |= !n.down.isEmpty();
                deliverDown(n, rnd, Integer.MAX_VALUE);
            }
            boolean quiet = !moved;
            for (Node n : nodes) {
                quiet &= n.session.state() == ClientSession.State.LIVE && n.session.idle() && n.up.isEmpty() && n.down.isEmpty();
            }
            if (quiet) return;
        }
        throw new AssertionError("did not settle");
    }

    /** Concatenates frames. */
    private static final class ByteArrayBuilder {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

        void add(byte[] b) {
            out.writeBytes(b);
        }

        byte[] toArray() {
            return out.toByteArray();
        }
    }
}
