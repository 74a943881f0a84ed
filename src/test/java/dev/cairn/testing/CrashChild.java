package dev.cairn.testing;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.index.UniqueNameIndex;
import dev.cairn.testing.Fixtures.Part;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The child of {@code TreeCrashTest}: inserts, checks out and updates parts until killed.
 * Writes to the log file {@code args[2]}. Before each operation it prints its intent ({@code I - stock name}, {@code U id stock name},
 * {@code O id}), and after the operation returned {@code OK} (with the id for inserts).
 */
public final class CrashChild {
    private CrashChild() { }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        SplittableRandom rnd = new SplittableRandom(seed);
        // A log file rather than stdout: a pipe's last bytes can be lost to the reader when the
        // JDK drains it after the kill ("Stream closed"); a write() to a file survives the kill.
        PrintStream out;
        try {
            out = new PrintStream(new java.io.FileOutputStream(args[2], true), false,
                java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            parts.register(new UniqueNameIndex<>("Part.name", Part::name));
            List<Key<Part>> mine = new ArrayList<>();
            for (Key<Part> k : parts.keys()) {
                if (parts.borrowState(k) instanceof dev.cairn.BorrowState.Mine) mine.add(k);
            }
            out.println("READY");
            out.flush();
            for (int op = 0; op < 1_000_000; op++) {
                String name = "C-" + seed + "-" + op;
                int stock = rnd.nextInt(1_000_000);
                Part p = new Part(name, "crash", stock, stock, List.of());
                if (mine.isEmpty() || rnd.nextInt(3) == 0) {
                    out.println("I - " + stock + " " + name);
                    out.flush();
                    Key<Part> k = parts.insert(p);
                    out.println("OK " + k.id());
                    out.println("O " + k.id());
                    out.flush();
                    parts.checkOut(k).join();
                    out.println("OK");
                    mine.add(k);
                } else {
                    Key<Part> k = mine.get(rnd.nextInt(mine.size()));
                    out.println("U " + k.id() + " " + stock + " " + name);
                    out.flush();
                    parts.update(k, p);
                    out.println("OK");
                }
                out.flush();
            }
        }
    }
}
