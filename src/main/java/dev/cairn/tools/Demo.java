package dev.cairn.tools;

import dev.cairn.BorrowState;
import dev.cairn.Cairn;
import dev.cairn.FieldHandle;
import dev.cairn.Key;
import dev.cairn.RecordMeta;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import dev.cairn.index.Hit;
import dev.cairn.index.MultiNameIndex;
import dev.cairn.index.UniqueNameIndex;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * A small parts inventory through the typed API: insert, index lookup, search, check-out,
 * update, release and a new revision, printing what happened. Run by {@code ./build.sh run}.
 */
public final class Demo {
    private Demo() { }

    /** A part of the inventory; revisions are kept (a released part never changes). */
    @TreeSpec(name = "DemoPart", versioned = true)
    public record Part(String number, String description, int stock, long priceCents, List<String> aliases) { }

    public static void run(Path dir, PrintStream out) {
        try (Cairn db = Cairn.open(dir, Cairn.Options.defaults().withUser("demo"))) {
            out.println("opened " + dir.toAbsolutePath() + " as node " + db.nodeId());
            Tree<Part> parts = db.tree(Part.class);
            UniqueNameIndex<Part> byNumber = parts.register(new UniqueNameIndex<>("DemoPart.number", Part::number));
            MultiNameIndex<Part> search = parts.register(new MultiNameIndex<>(Part::aliases));
            out.println("tree " + parts.name() + " holds " + parts.size() + " records");

            String suffix = "-" + parts.size();
            Key<Part> resistor = parts.insert(new Part("R-10K" + suffix, "resistor 10 kOhm 0603", 500, 2,
                List.of("R10K", "resistor-10k")));
            Key<Part> capacitor = parts.insert(new Part("C-100N" + suffix, "capacitor 100 nF", 1200, 3,
                List.of("C100N", "cap-100n")));
            out.println("inserted " + resistor + " and " + capacitor);

            out.println("lookup 'r 10k" + suffix + "' -> " + byNumber.lookup("r 10k" + suffix).orElseThrow());
            for (Hit<Part> hit : search.search("r10", 3)) {
                out.println("search 'r10' -> " + hit.key() + " via '" + hit.name() + "' (" + hit.match() + ")");
            }
            try {
                parts.insert(new Part("r10k" + suffix, "duplicate", 1, 1, List.of()));
            } catch (RuntimeException e) {
                out.println("refused: " + e.getMessage());
            }

            parts.checkOut(resistor).join();
            out.println("checked out " + resistor + ": " + parts.borrowState(resistor));
            Part r = parts.get(resistor);
            parts.update(resistor, new Part(r.number(), r.description(), r.stock() - 20, r.priceCents(), r.aliases()));
            FieldHandle stock = parts.field("stock");
            out.println("took 20 from stock: " + parts.read(resistor, v -> v.getInt(stock)) + " left");

            parts.release(resistor);
            RecordMeta meta = parts.meta(resistor);
            out.println("released " + resistor + ": " + meta.state() + ", meta iteration " + meta.metaIteration()
                + ", data iteration " + meta.dataIteration() + ", by " + meta.modifiedBy());
            try {
                parts.update(resistor, r);
            } catch (RuntimeException e) {
                out.println("refused: " + e.getMessage());
            }
            Key<Part> next = parts.newRevision(resistor);
            out.println("new revision " + next + ": " + parts.meta(next).state() + ", "
                + parts.get(next).description());
            parts.checkIn(resistor);
            out.println("checked in " + resistor + ": " + (parts.borrowState(resistor) instanceof BorrowState.Free
                ? "free" : parts.borrowState(resistor)));
            out.println("keys: " + parts.keys());
        }
    }
}
