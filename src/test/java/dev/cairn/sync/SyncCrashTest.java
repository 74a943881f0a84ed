package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.NoIdsLeftException;
import dev.cairn.Tree;
import dev.cairn.store.Store;
import dev.cairn.testing.ChildJvm;
import dev.cairn.testing.Fixtures.Part;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sync server as users run it ({@code cairn server}, a child JVM), killed with SIGKILL at
 * random moments while two nodes keep inserting, updating and removing records, then restarted
 * on its folder. Every change must arrive everywhere exactly as the nodes made it: the nodes
 * converge to the model of what they did, a node that connects afterwards receives the same,
 * nothing is refused, and the server's store verifies. {@code CAIRN_LONG=1} runs more rounds.
 */
@Timeout(600)
class SyncCrashTest {
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

    @TempDir Path dir;
    private Process server;
    private int port;
    private final List<Cairn> nodes = new ArrayList<>();
    private final List<Event> refusals = new CopyOnWriteArrayList<>();
    /** Every node's events, for the message of a failure. */
    private final List<String> history = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        for (Cairn n : nodes) n.close();
        if (server != null) server.destroyForcibly();
    }

    @Test
    void aServerKilledAtRandomMomentsLosesNoChangeAndNodesConverge() throws Exception {
        int rounds = "1".equals(System.getenv("CAIRN_LONG")) ? 40 : 6;
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        startServer();
        Cairn a = node("a");
        Cairn b = node("b");
        List<Tree<Part>> trees = List.of(a.tree(Part.class), b.tree(Part.class));
        Map<Key<Part>, Part> model = new HashMap<>();
        List<List<Key<Part>>> held = List.of(new ArrayList<>(), new ArrayList<>());
        // Each node creates records and checks them out while the server is up; from then on it
        // may change them whether the server is up or not.
        for (int n = 0; n < 2; n++) {
            for (int i = 0; i < 15; i++) {
                Part p = part(100 * n + i);
                Key<Part> k = trees.get(n).insert(p);
                model.put(k, p);
                held.get(n).add(k);
            }
        }
        SyncFixture.await("both nodes have all 30 records", () -> trees.stream().allMatch(t -> t.size() == 30), 60_000);
        for (int n = 0; n < 2; n++) {
            for (Key<Part> k : held.get(n)) trees.get(n).checkOut(k).get(30, TimeUnit.SECONDS);
        }

        Thread killer = killServer(rounds, 200, rnd);
        Random ops = new Random(seed + 1);
        int changes = 0;
        int noIdsLeft = 0;
        while (killer.isAlive()) {
            int n = ops.nextInt(2);
            Tree<Part> t = trees.get(n);
            List<Key<Part>> mine = held.get(n);
            int r = ops.nextInt(100);
            if (r < 40 || mine.isEmpty()) {
                Part p = part(ops.nextInt(1_000_000));
                try {
                    model.put(t.insert(p), p);
                } catch (NoIdsLeftException noIds) {
                    // Its pool ran dry while the server was down (sync-protocol.md §5.2): nothing stored.
                    assertTrue(noIds.getMessage().startsWith("no ids left"), noIds.getMessage());
                    noIdsLeft++;
                }
            } else if (r < 95) {
                Key<Part> k = mine.get(ops.nextInt(mine.size()));
                Part p = model.get(k).withStock(ops.nextInt(1_000_000));
                t.update(k, p);
                model.put(k, p);
            } else {
                Key<Part> k = mine.remove(ops.nextInt(mine.size()));
                t.remove(k);
                model.remove(k);
            }
            changes++;
            Thread.sleep(1 + ops.nextInt(8));
        }
        killer.join();
        String context = "seed " + seed + ", " + rounds + " kills, " + changes + " changes (" + noIdsLeft
            + " inserts without ids)";
        Map<String, String> expected = contents(model);
        for (Tree<Part> t : trees) {
            SyncFixture.await("node converges (" + context + ")", () -> contents(t).equals(expected), 90_000,
                () -> "\n  expected " + expected.size() + " records, node has " + t.size());
        }

        // What the nodes received went through the server's store: after one more kill, a new
        // node receives exactly the same from it.
        server.destroyForcibly().waitFor();
        startServer();
        Tree<Part> fresh = node("c").tree(Part.class);
        SyncFixture.await("a new node receives every record (" + context + ")",
            () -> contents(fresh).equals(expected), 90_000, () -> "\n  it has " + fresh.size() + " of " + expected.size());
        assertEquals(List.of(), refusals, "no change was refused (" + context + ")");

        for (Cairn node : nodes) node.close();
        nodes.clear();
        server.destroy();
        assertTrue(server.waitFor(30, TimeUnit.SECONDS), "the server stops on SIGTERM");
        try (Store store = Store.open(dir.resolve("server"))) {
            assertEquals(List.of(), store.verify().problems(), "the server's store verifies (" + context + ")");
        }
        System.out.println("sync crash: " + context + ", " + expected.size() + " records at the end");
    }

    /**
     * Two nodes pass a few shared records back and forth (check out, change, check in) while the
     * server is killed at random moments. A change made while holding a record is never refused,
     * whatever the kills did to the check-out messages; the nodes and a node that connects
     * afterwards converge; every record's value is the last change its last writer made.
     */
    @Test
    void checkOutsPassBetweenNodesWhileTheServerIsKilled() throws Exception {
        int rounds = "1".equals(System.getenv("CAIRN_LONG")) ? 30 : 5;
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        startServer();
        Cairn a = node("a");
        Cairn b = node("b");
        List<Tree<Part>> trees = List.of(a.tree(Part.class), b.tree(Part.class));
        List<Key<Part>> shared = new ArrayList<>();
        for (int i = 0; i < 8; i++) shared.add(trees.get(i % 2).insert(part(i)));
        SyncFixture.await("both nodes have the shared records", () -> trees.stream().allMatch(t -> t.size() == 8), 60_000);
        // node -> key -> the stock of its last change to it
        List<Map<Key<Part>, Integer>> written = List.of(new HashMap<>(), new HashMap<>());

        Thread killer = killServer(rounds, 300, rnd);
        Random ops = new Random(seed + 1);
        int changes = 0;
        while (killer.isAlive()) {
            int n = ops.nextInt(2);
            Tree<Part> t = trees.get(n);
            Key<Part> k = shared.get(ops.nextInt(shared.size()));
            if (t.borrowState(k) instanceof dev.cairn.BorrowState.Mine) {
                if (ops.nextInt(3) == 0) {
                    t.checkIn(k);
                } else {
                    int stock = 1 + ops.nextInt(1_000_000);
                    t.update(k, t.get(k).withStock(stock));
                    written.get(n).put(k, stock);
                    changes++;
                }
            } else {
                t.checkOut(k); // granted (or queued) when the server answers
            }
            Thread.sleep(1 + ops.nextInt(5));
        }
        killer.join();
        for (int n = 0; n < 2; n++) {
            for (Key<Part> k : shared) if (trees.get(n).borrowState(k) instanceof dev.cairn.BorrowState.Mine) trees.get(n).checkIn(k);
        }
        String context = "seed " + seed + ", " + rounds + " kills, " + changes + " changes";
        SyncFixture.await("the nodes converge (" + context + ")", () -> contents(trees.get(0)).equals(contents(trees.get(1))),
            90_000, () -> "\n  a " + contents(trees.get(0)) + "\n  b " + contents(trees.get(1)));
        assertEquals(List.of(), refusals, () -> "no change made while holding a record was refused (" + context + ")"
            + historyOf(refusals));
        for (Key<Part> k : shared) {
            int stock = trees.get(0).get(k).stock();
            String writer = trees.get(0).meta(k).modifiedBy();
            int n = writer.equals("a") ? 0 : 1;
            if (written.get(n).containsKey(k)) {
                assertEquals(written.get(n).get(k), stock, k + " holds its last writer's (" + writer + ") last change (" + context + ")");
            }
        }
        Tree<Part> fresh = node("c").tree(Part.class);
        Map<String, String> expected = contents(trees.get(0));
        SyncFixture.await("a new node receives the same (" + context + ")", () -> contents(fresh).equals(expected), 90_000);
        System.out.println("sync check-out crash: " + context);
    }

    /**
     * A node ({@link SyncCrashNode}, a child JVM) killed with SIGKILL at random moments while it
     * inserts, checks out, updates and removes records, and restarted on its folder. Every change
     * its API acknowledged reaches another node exactly, ids are never taken twice, nothing is
     * refused; a change under way at the kill either landed whole or not at all.
     */
    @Test
    void aNodeKilledAtRandomMomentsLosesNoChangeItAcknowledged() throws Exception {
        crashNode(false);
    }

    /**
     * The same, where the node first changes records standalone (no outbox entries) and is killed
     * while it links for the first time, which writes one CREATED entry per record and sends them,
     * or later: every record it made before and after reaches the observer exactly.
     */
    @Test
    void aNodeKilledWhileItLinksWithItsStandaloneRecordsLosesNoChange() throws Exception {
        crashNode(true);
    }

    private void crashNode(boolean standaloneFirst) throws Exception {
        int rounds = "1".equals(System.getenv("CAIRN_LONG")) ? 40 : 8;
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        try (SyncFixture f = new SyncFixture(dir.resolve("sync"))) {
            // A node that never linked can link with its records only while no other client holds
            // ids of their tree (sync-protocol.md §5.2): then the observer joins at the end.
            Tree<Part> observer = standaloneFirst ? null : f.connected("observer").tree(Part.class);
            NodeModel model = new NodeModel();
            Path nodeDir = dir.resolve("crashing");
            for (int round = 0; round <= rounds; round++) {
                boolean last = round == rounds;
                Path log = dir.resolve("round-" + round + ".log");
                String mode = last ? "idle" : standaloneFirst && round == 0 ? "standalone" : "run";
                Process child = ChildJvm.start(SyncCrashNode.class.getName(), nodeDir.toString(),
                    Integer.toString(f.port()), Long.toString(seed + round), log.toString(), mode);
                try {
                    SyncFixture.await("the node starts (round " + round + ")", () -> readLog(log).contains("READY"), 60_000);
                    if (last) {
                        // It drains its outbox: the observer ends with what the node holds.
                        model.replay(readLog(log), "seed " + seed + " round " + round);
                        Tree<Part> seen = observer != null ? observer : f.connected("observer").tree(Part.class);
                        SyncFixture.await("the observer has every acknowledged change (seed " + seed + ")",
                            () -> stocks(seen).equals(model.stock), 90_000,
                            () -> "\n  node " + model.stock + "\n  observer " + stocks(seen));
                    } else {
                        Thread.sleep(200 + rnd.nextInt(1000));
                    }
                } finally {
                    child.destroyForcibly().waitFor();
                }
                if (!last) model.replay(readLog(log), "seed " + seed + " round " + round);
            }
            System.out.println("sync node crash: seed " + seed + ", " + rounds + " kills, " + model.acknowledged
                + " acknowledged changes, " + model.stock.size() + " records at the end");
        }
    }

    /**
     * What the crashing node holds: record id -> stock, from its acknowledged changes; checked
     * against what its folder holds at each restart, where the change under way at the kill may
     * have landed whole or not at all.
     */
    private static final class NodeModel {
        Map<Integer, Integer> stock = new TreeMap<>();
        /** The change under way when the node was killed, or null. */
        String[] underWay;
        int maxId = -1;
        int acknowledged;

        void replay(List<String> lines, String context) {
            Map<Integer, Integer> have = new TreeMap<>();
            boolean ready = false;
            String[] pending = null;
            for (String line : lines) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "HAVE" -> have.put(Integer.parseInt(f[1]), Integer.parseInt(f[2]));
                    case "READY" -> {
                        checkRestart(have, context);
                        stock = have;
                        underWay = null;
                        ready = true;
                    }
                    case "TIMEOUT" -> pending = null;
                    case "REFUSED" -> throw new AssertionError(context + ": the server refused a change: " + line);
                    case "I", "U", "R", "C" -> pending = f;
                    case "OK" -> {
                        apply(pending, f, context);
                        pending = null;
                        acknowledged++;
                    }
                    default -> throw new AssertionError(context + ": unexpected line " + line);
                }
            }
            if (ready) underWay = pending; // else it died before doing anything: all stays as it was
        }

        /** The folder holds every acknowledged change, and the one under way whole or not at all. */
        private void checkRestart(Map<Integer, Integer> have, String context) {
            Map<Integer, Integer> expected = new TreeMap<>(stock);
            if (underWay != null) {
                switch (underWay[0]) {
                    case "I" -> {
                        for (Map.Entry<Integer, Integer> e : have.entrySet()) {
                            if (e.getKey() > maxId && e.getValue() == Integer.parseInt(underWay[1])) {
                                expected.put(e.getKey(), e.getValue());
                                maxId = e.getKey();
                            }
                        }
                    }
                    case "U" -> {
                        int id = Integer.parseInt(underWay[1]);
                        if (java.util.Objects.equals(have.get(id), Integer.parseInt(underWay[2]))) {
                            expected.put(id, Integer.parseInt(underWay[2]));
                        }
                    }
                    case "R" -> {
                        if (!have.containsKey(Integer.parseInt(underWay[1]))) expected.remove(Integer.parseInt(underWay[1]));
                    }
                    default -> { }
                }
            }
            assertEquals(expected, have, context + ": the restarted node's records (change under way at the kill: "
                + (underWay == null ? "none" : String.join(" ", underWay)) + ")");
        }

        private void apply(String[] op, String[] ok, String context) {
            switch (op[0]) {
                case "I" -> {
                    int id = Integer.parseInt(ok[2]);
                    assertTrue(id > maxId, context + ": id " + id + " taken again (highest so far " + maxId + ")");
                    maxId = id;
                    stock.put(id, Integer.parseInt(op[1]));
                }
                case "U" -> stock.put(Integer.parseInt(op[1]), Integer.parseInt(op[2]));
                case "R" -> stock.remove(Integer.parseInt(op[1]));
                default -> { }
            }
        }
    }

    private static Map<Integer, Integer> stocks(Tree<Part> t) {
        Map<Integer, Integer> m = new TreeMap<>();
        for (Key<Part> k : t.keys()) m.put(k.id(), t.get(k).stock());
        return m;
    }

    /** The complete lines of a child's log (a line being written at the kill is left out). */
    private static List<String> readLog(Path log) {
        try {
            if (!java.nio.file.Files.exists(log)) return List.of();
            String text = java.nio.file.Files.readString(log, StandardCharsets.UTF_8);
            int end = text.lastIndexOf('\n');
            return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A thread that kills the server with SIGKILL {@code rounds} times, each after it ran
     * {@code upMillis} plus up to a second, and starts it again after up to 0.4 s.
     */
    private Thread killServer(int rounds, int upMillis, Random rnd) {
        return Thread.ofPlatform().name("server-killer").start(() -> {
            try {
                for (int r = 0; r < rounds; r++) {
                    Thread.sleep(upMillis + rnd.nextInt(1000));
                    server.destroyForcibly().waitFor();
                    Thread.sleep(rnd.nextInt(400));
                    startServer();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The events of every node about the records of {@code refused} and the connections, in order. */
    private String historyOf(List<Event> refused) {
        StringBuilder b = new StringBuilder();
        for (Event e : refused) {
            String key = ((Event.ChangeRefused) e).key().toString();
            b.append("\n  history of ").append(key).append(':');
            for (String h : history) {
                if (h.contains("key=" + key + ",") || h.contains("Connected") || h.contains("Disconnected")) b.append("\n    ").append(h);
            }
        }
        return b.toString();
    }

    private Cairn node(String name) throws Exception {
        Cairn c = Cairn.open(dir.resolve(name), Cairn.Options.defaults().withNodeName(name).withUser(name)
            .withAppId(SyncFixture.APP));
        nodes.add(c);
        c.subscribe(e -> {
            if (e instanceof Event.ChangeRefused) refusals.add(e);
            history.add(System.nanoTime() / 1000 % 100_000_000 + " " + name + " " + e);
        });
        c.connect("127.0.0.1", port).get(60, TimeUnit.SECONDS);
        return c;
    }

    /** Starts {@code cairn server} on the folder (the same port after the first start) and waits until it listens. */
    private void startServer() throws Exception {
        Process p = ChildJvm.start("dev.cairn.tools.Main", "server", "--data", dir.resolve("server").toString(),
            "--port", Integer.toString(port), "--app-id", SyncFixture.APP);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String line = first.get(60, TimeUnit.SECONDS);
        Matcher m = line == null ? null : LISTENING.matcher(line);
        if (m == null || !m.find()) {
            p.destroyForcibly();
            throw new AssertionError("cairn server did not start: " + line + (p.isAlive() ? "" : ", exit " + p.waitFor()));
        }
        port = Integer.parseInt(m.group(1));
        server = p;
    }

    private static Map<String, String> contents(Map<Key<Part>, Part> model) {
        Map<String, String> m = new TreeMap<>();
        model.forEach((k, v) -> m.put(k.toString(), v.toString()));
        return m;
    }

    private static Map<String, String> contents(Tree<Part> t) {
        Map<String, String> m = new TreeMap<>();
        for (Key<Part> k : t.keys()) m.put(k.toString(), t.get(k).toString());
        return m;
    }
}
