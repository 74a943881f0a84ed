package dev.cairn.sync;

import static dev.cairn.testing.Fixtures.part;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.Event;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A node in a child JVM for {@link SyncCrashTest}: logs what its folder holds ("HAVE id stock"),
 * connects to the server and changes records of tree Part until it is killed, appending each
 * change to the log before it starts ("I stock", "U id stock", "R id", "C id") and after it
 * returned ("OK ..."). Arguments: folder, port, seed, log file, and "idle" to only connect and
 * wait, or "standalone" to change records the same way before it connects (a database that
 * never linked: the connect is its first link, which sends them).
 */
public final class SyncCrashNode {
    private SyncCrashNode() { }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        Random rnd = new Random(Long.parseLong(args[2]));
        boolean idle = args.length > 4 && args[4].equals("idle");
        boolean standalone = args.length > 4 && args[4].equals("standalone");
        try (PrintStream log = new PrintStream(new FileOutputStream(args[3], true), true, StandardCharsets.UTF_8);
             Cairn db = Cairn.open(dir, Cairn.Options.defaults().withNodeName("crashing").withUser("crashing")
                 .withAppId(SyncFixture.APP))) {
            db.subscribe(e -> {
                if (e instanceof Event.ChangeRefused r) line(log, "REFUSED " + r.key() + " " + r.reason().replace('\n', ' '));
            });
            Tree<Part> parts = db.tree(Part.class);
            for (Key<Part> k : parts.keys()) line(log, "HAVE " + k.id() + " " + parts.get(k).stock());
            if (standalone) {
                line(log, "READY");
                for (int op = 0; op < 100; op++) change(parts, rnd, log);
            }
            var linked = db.connect("127.0.0.1", port);
            if (parts.size() == 0) linked.get(60, TimeUnit.SECONDS); // the first link brings the ids
            if (!standalone) line(log, "READY");
            if (idle) {
                Thread.sleep(TimeUnit.MINUTES.toMillis(10));
                return;
            }
            for (int op = 0; op < 1_000_000; op++) {
                change(parts, rnd, log);
                Thread.sleep(rnd.nextInt(5));
            }
        }
    }

    /** One random change of a record, logged before it starts and after it returned. */
    private static void change(Tree<Part> parts, Random rnd, PrintStream log) throws Exception {
        List<Key<Part>> keys = parts.keys();
        List<Key<Part>> mine = new ArrayList<>();
        for (Key<Part> k : keys) if (parts.borrowState(k) instanceof BorrowState.Mine) mine.add(k);
        int r = rnd.nextInt(100);
        int stock = rnd.nextInt(1_000_000);
        if (r < 35 || keys.isEmpty()) {
            Part p = part(stock);
            line(log, "I " + p.stock());
            Key<Part> k = parts.insert(p);
            line(log, "OK I " + k.id());
        } else if (r < 50 && mine.size() < keys.size()) {
            List<Key<Part>> free = new ArrayList<>(keys);
            free.removeAll(mine);
            Key<Part> k = free.get(rnd.nextInt(free.size()));
            line(log, "C " + k.id());
            try {
                parts.checkOut(k).get(2, TimeUnit.SECONDS);
                line(log, "OK C");
            } catch (java.util.concurrent.TimeoutException offline) {
                line(log, "TIMEOUT C");
            }
        } else if (!mine.isEmpty() && r < 95) {
            Key<Part> k = mine.get(rnd.nextInt(mine.size()));
            line(log, "U " + k.id() + " " + stock);
            parts.update(k, parts.get(k).withStock(stock));
            line(log, "OK U");
        } else if (!mine.isEmpty()) {
            Key<Part> k = mine.get(rnd.nextInt(mine.size()));
            line(log, "R " + k.id());
            parts.remove(k);
            line(log, "OK R");
        }
    }

    private static synchronized void line(PrintStream log, String s) {
        log.println(s);
    }
}
