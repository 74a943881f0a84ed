package dev.cairn.bench;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.CairnServer;
import dev.cairn.ChangeKind;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import dev.cairn.bench.TypedBench.Part;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * S1–S5 of shared/bench/WORKLOAD.md on loopback: one {@link CairnServer} and Cairn nodes in this
 * JVM, each in its own folder with its own link thread, all durable. {@code main [N] [S5 seconds]}
 * (defaults 100,000 and 30): the server gets its N parts through sync first (a node loads them
 * standalone and links), which for 1,000,000 takes minutes. Not part of the tests.
 *
 * <p>Every node shares this machine's cores and its one disk: each durable commit of each node
 * (a node stores every change and check-out it receives) is a force on the same device, which
 * machines of their own would do in parallel. The more nodes a workload involves (S2 with K = 50,
 * S5), the more this weighs.
 *
 * <ul>
 *   <li>S1: a new node connects until caught up (Cairn.connect completes), then reads every part.
 *   <li>S2: one node changes one record; the time until each of K nodes (K = 1, 10, 50; they
 *       replicate only that record's tree) holds the new value as a record, seen from a listener
 *       of its RecordChanged event that reads it back.
 *   <li>S3: random point reads into records on a node's replica.
 *   <li>S4 (two nodes connected): check-out of a free record until granted, then check-in until
 *       the other node's BorrowChanged says free; and the hand-over: from the holder's check-in
 *       until the waiting node's check-out completes.
 *   <li>S5: 10 writers change their own records as fast as they can while 50 readers listen;
 *       each change carries its System.nanoTime, so a reader's listener measures its delay.
 * </ul>
 */
public final class SyncBench {
    private SyncBench() { }

    static final String APP = "bench";

    /** The record S2, S4 and S5 change: the Part's shape in a small tree of its own. */
    @TreeSpec(name = "LivePart")
    public record LivePart(String name, String manufacturer, int stock, long priceCents, List<String> tags) {
        LivePart with(int s, long p) {
            return new LivePart(name, manufacturer, s, p, tags);
        }
    }

    static final Set<String> LIVE = Set.of("LivePart");
    static volatile long sink;

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int s5Seconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        Path dir = Files.createTempDirectory("cairn-sync-bench");
        try {
            run(n, s5Seconds, dir);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    static Cairn node(Path dir, String name) {
        return Cairn.open(dir.resolve(name), Cairn.Options.defaults().withAppId(APP).withNodeName(name));
    }

    static void run(int n, int s5Seconds, Path dir) throws Exception {
        Part[] data = TypedBench.data(n);
        List<Cairn> nodes = new ArrayList<>();
        try (CairnServer server = CairnServer.start(dir.resolve("server"), 0, APP)) {
            int port = server.port();
            Cairn writer = node(dir, "writer");
            nodes.add(writer);
            Tree<Part> parts = writer.tree(Part.class);
            long t0 = System.nanoTime();
            for (int from = 0; from < n; from += 1000) {
                parts.insertAll(Arrays.asList(data).subList(from, Math.min(n, from + 1000)));
            }
            double standalone = TypedBench.seconds(t0);
            t0 = System.nanoTime();
            writer.connect("127.0.0.1", port).get(30, TimeUnit.MINUTES);
            System.out.printf("load: %,d parts standalone %.2f s, then link and push to the server %.2f s%n",
                n, standalone, TypedBench.seconds(t0));

            // ---------------------------------------------------------------- S1
            t0 = System.nanoTime();
            Cairn fresh = node(dir, "s1");
            nodes.add(fresh);
            fresh.connect("127.0.0.1", port).get(30, TimeUnit.MINUTES);
            double caughtUp = TypedBench.seconds(t0);
            Tree<Part> replica = fresh.tree(Part.class);
            List<Key<Part>> keys = replica.keys();
            if (keys.size() != n) throw new AssertionError("S1: the new node holds " + keys.size() + " parts, not " + n);
            long sum = 0;
            for (Key<Part> k : keys) sum += replica.get(k).stock();
            double all = TypedBench.seconds(t0);
            sink += sum;
            System.out.printf("S1 new node       %,12.0f records/s  (caught up with %,d parts in %.2f s; %.2f s with reading each as a record)%n",
                n / caughtUp, n, caughtUp, all);

            // ---------------------------------------------------------------- S3
            s3(replica, keys);
            fresh.disconnect(); // it replicates every tree: it would add to the fan-out below

            // ---------------------------------------------------------------- S4 (before the readers join)
            Tree<LivePart> live = writer.tree(LivePart.class);
            Cairn other = node(dir, "s4");
            nodes.add(other);
            other.connect("127.0.0.1", port, LIVE).get(2, TimeUnit.MINUTES);
            Key<LivePart> free = live.insert(new LivePart("LIVE-FREE", "Maker", 0, 0, List.of()));
            Tree<LivePart> otherLive = other.tree(LivePart.class);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!otherLive.contains(free)) { // on the server, so either node may check it out
                if (System.nanoTime() > deadline) throw new AssertionError("S4: the record never reached the other node");
                Thread.sleep(1);
            }
            s4(live, other, otherLive, free, 1_000);
            other.disconnect();

            // ---------------------------------------------------------------- S2
            Key<LivePart> changed = live.insert(new LivePart("LIVE-000000", "Maker", 0, 0, List.of("a", "b", "c")));
            live.checkOut(changed).get(10, TimeUnit.SECONDS);
            List<Cairn> readers = new ArrayList<>();
            for (int k : new int[] {1, 10, 50}) {
                while (readers.size() < k) { // only K readers are connected: the server pushes to K nodes
                    Cairn r = node(dir, "reader-" + readers.size());
                    nodes.add(r);
                    r.connect("127.0.0.1", port, LIVE).get(2, TimeUnit.MINUTES);
                    readers.add(r);
                }
                s2(live, changed, readers, 2_000);
            }

            // ---------------------------------------------------------------- S5
            s5(dir, port, readers, s5Seconds, nodes);
        } finally {
            for (Cairn c : nodes) c.close();
        }
    }

    static void s3(Tree<Part> replica, List<Key<Part>> keys) {
        SplittableRandom rnd = new SplittableRandom(Data.READ_SEED);
        int reads = 1_000_000;
        long sum = 0;
        for (int i = 0; i < 200_000; i++) sum += replica.get(keys.get(rnd.nextInt(keys.size()))).stock();
        long[] nanos = new long[reads];
        long t0 = System.nanoTime();
        for (int i = 0; i < reads; i++) {
            long s = System.nanoTime();
            sum += replica.get(keys.get(rnd.nextInt(keys.size()))).stock();
            nanos[i] = System.nanoTime() - s;
        }
        double secs = TypedBench.seconds(t0);
        sink += sum;
        Arrays.sort(nanos);
        System.out.printf("S3 local get      %,12.0f ops/s      p50 %.1f µs, p99 %.1f µs (random part on the replica, as a record)%n",
            reads / secs, nanos[reads / 2] / 1e3, nanos[reads * 99 / 100] / 1e3);
    }

    /** One change at a time; each waits until all K readers read it back from their replicas. */
    static void s2(Tree<LivePart> live, Key<LivePart> key, List<Cairn> readers, int changes) throws Exception {
        AtomicLong expected = new AtomicLong(-1);
        AtomicLong lastSeen = new AtomicLong();
        AtomicReference<CountDownLatch> latch = new AtomicReference<>(new CountDownLatch(0));
        List<AutoCloseable> subscriptions = new ArrayList<>();
        for (Cairn r : readers) {
            Tree<LivePart> t = r.tree(LivePart.class);
            subscriptions.add(r.subscribe(e -> {
                if (e instanceof Event.RecordChanged c && c.remote() && c.key().equals(key) && c.kind() == ChangeKind.CHANGED
                        && t.get(key).stock() == expected.get()) {
                    lastSeen.accumulateAndGet(System.nanoTime(), Math::max);
                    latch.get().countDown();
                }
            }));
        }
        long[] micros = new long[changes];
        LivePart base = live.get(key);
        for (int i = 0; i < changes; i++) {
            CountDownLatch l = new CountDownLatch(readers.size());
            expected.set(i + 1);
            lastSeen.set(0);
            latch.set(l);
            long start = System.nanoTime();
            live.update(key, base.with(i + 1, start));
            if (!l.await(10, TimeUnit.SECONDS)) throw new AssertionError("S2: change " + i + " did not reach every reader in 10 s");
            micros[i] = (lastSeen.get() - start) / 1_000;
        }
        for (AutoCloseable s : subscriptions) s.close();
        Arrays.sort(micros);
        System.out.printf("S2 K=%-2d           p50 %,7d µs, p99 %,7d µs, max %,7d µs (%d changes, until the last reader holds it)%n",
            readers.size(), micros[changes / 2], micros[changes * 99 / 100], micros[changes - 1], changes);
    }

    /** Round trips of check-out and check-in of a free record, then hand-overs between two nodes. */
    static void s4(Tree<LivePart> ta, Cairn b, Tree<LivePart> tb, Key<LivePart> key, int rounds) throws Exception {
        AtomicReference<CountDownLatch> freed = new AtomicReference<>(new CountDownLatch(1));
        // The server's answer to a check-in goes to every node: the other node seeing the record
        // free is that answer (the checking-in node frees it locally at once).
        try (AutoCloseable sub = b.subscribe(e -> {
            if (e instanceof Event.BorrowChanged c && c.key().equals(key) && c.state() instanceof BorrowState.Free) freed.get().countDown();
        })) {
            long[] out = new long[rounds];
            long[] both = new long[rounds];
            for (int i = 0; i < rounds; i++) {
                freed.set(new CountDownLatch(1));
                long t0 = System.nanoTime();
                ta.checkOut(key).get(10, TimeUnit.SECONDS);
                long t1 = System.nanoTime();
                ta.checkIn(key);
                if (!freed.get().await(10, TimeUnit.SECONDS)) throw new AssertionError("S4: check-in " + i + " not seen by the other node in 10 s");
                long t2 = System.nanoTime();
                out[i] = (t1 - t0) / 1_000;
                both[i] = (t2 - t0) / 1_000;
            }
            Arrays.sort(out);
            Arrays.sort(both);
            System.out.printf("S4 check-out      p50 %,7d µs, p99 %,7d µs; then check-in until another node sees it free: p50 %,7d µs, p99 %,7d µs in all (%d rounds)%n",
                out[rounds / 2], out[rounds * 99 / 100], both[rounds / 2], both[rounds * 99 / 100], rounds);
        }
        int handOvers = rounds / 2;
        long[] micros = new long[handOvers];
        Tree<LivePart> holder = ta;
        Tree<LivePart> next = tb;
        holder.checkOut(key).get(10, TimeUnit.SECONDS);
        for (int i = 0; i < handOvers; i++) {
            CompletableFuture<Void> waiting = next.checkOut(key);
            // The request must be queued on the server before the check-in, or it is a plain check-out.
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!(next.borrowState(key) instanceof BorrowState.Waiting)) {
                if (System.nanoTime() > deadline) throw new AssertionError("S4: hand-over " + i + ": the waiting node never queued");
                Thread.sleep(0, 100_000);
            }
            long t0 = System.nanoTime();
            holder.checkIn(key);
            waiting.get(10, TimeUnit.SECONDS);
            micros[i] = (System.nanoTime() - t0) / 1_000;
            Tree<LivePart> t = holder;
            holder = next;
            next = t;
        }
        holder.checkIn(key);
        Arrays.sort(micros);
        System.out.printf("S4 hand-over      p50 %,7d µs, p99 %,7d µs (%d: from the holder's check-in until the waiting node holds it)%n",
            micros[handOvers / 2], micros[handOvers * 99 / 100], handOvers);
    }

    /** 10 writers change their own records without pause for the given time; 50 readers listen. */
    static void s5(Path dir, int port, List<Cairn> readers, int seconds, List<Cairn> nodes) throws Exception {
        int writerCount = 10;
        List<Tree<LivePart>> trees = new ArrayList<>();
        List<Key<LivePart>> keys = new ArrayList<>();
        for (int w = 0; w < writerCount; w++) {
            Cairn c = node(dir, "s5-writer-" + w);
            nodes.add(c);
            c.connect("127.0.0.1", port, LIVE).get(2, TimeUnit.MINUTES);
            Tree<LivePart> t = c.tree(LivePart.class);
            Key<LivePart> k = t.insert(new LivePart("S5-" + w, "Maker", 0, 0, List.of("x")));
            t.checkOut(k).get(10, TimeUnit.SECONDS);
            trees.add(t);
            keys.add(k);
        }
        Set<Key<LivePart>> watched = Set.copyOf(keys);
        int perReaderMax = 1 << 18;
        long[][] delays = new long[readers.size()][perReaderMax];
        int[] counts = new int[readers.size()];
        AtomicBoolean measuring = new AtomicBoolean();
        List<AutoCloseable> subscriptions = new ArrayList<>();
        for (int r = 0; r < readers.size(); r++) {
            int ri = r;
            Tree<LivePart> t = readers.get(r).tree(LivePart.class);
            subscriptions.add(readers.get(r).subscribe(e -> {
                if (e instanceof Event.RecordChanged c && c.remote() && watched.contains(c.key()) && measuring.get()) {
                    @SuppressWarnings("unchecked") Key<LivePart> k = (Key<LivePart>) c.key();
                    long sent = t.get(k).priceCents();
                    long now = System.nanoTime();
                    if (sent > 0 && counts[ri] < perReaderMax) delays[ri][counts[ri]++] = now - sent;
                }
            }));
        }
        AtomicLong changes = new AtomicLong();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        measuring.set(true);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writerCount; w++) {
            Tree<LivePart> t = trees.get(w);
            Key<LivePart> k = keys.get(w);
            threads.add(Thread.ofPlatform().name("s5-writer-" + w).start(() -> {
                LivePart v = t.get(k);
                for (int i = 1; System.nanoTime() < end; i++) {
                    t.update(k, v.with(i, System.nanoTime()));
                    changes.incrementAndGet();
                }
            }));
        }
        for (Thread th : threads) th.join();
        Thread.sleep(2_000); // the last changes arrive
        measuring.set(false);
        for (AutoCloseable s : subscriptions) s.close();
        long delivered = 0;
        for (int c : counts) delivered += c;
        long[] all = new long[(int) Math.min(delivered, Integer.MAX_VALUE - 8)];
        int at = 0;
        for (int r = 0; r < readers.size(); r++) {
            int take = Math.min(counts[r], all.length - at);
            System.arraycopy(delays[r], 0, all, at, take);
            at += take;
        }
        Arrays.sort(all, 0, at);
        System.out.printf("S5 10 writers     %,12.0f changes/s committed, %,.0f deliveries/s to 50 readers; delay p50 %,d µs, p99 %,d µs, max %,d µs (%d s)%n",
            changes.get() / (double) seconds, delivered / (double) seconds,
            at == 0 ? 0 : all[at / 2] / 1_000, at == 0 ? 0 : all[(int) (at * 0.99)] / 1_000, at == 0 ? 0 : all[at - 1] / 1_000, seconds);
        for (int w = 0; w < writerCount; w++) trees.get(w).checkIn(keys.get(w));
    }
}
