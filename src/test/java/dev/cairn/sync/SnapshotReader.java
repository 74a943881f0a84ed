package dev.cairn.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cairn.Tree;
import dev.cairn.testing.Fixtures.Part;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Polls {@code tree} on a thread of its own, each poll one read snapshot (forEach), and counts
 * the polls whose stocks, in key order, {@code whole} does not accept.
 */
final class SnapshotReader {
    private final Tree<Part> tree;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong polls = new AtomicLong();
    private final AtomicLong torn = new AtomicLong();
    private final List<String> firstTorn = new CopyOnWriteArrayList<>();
    private final Thread thread;

    SnapshotReader(Tree<Part> tree, Function<List<Integer>, Boolean> whole) {
        this.tree = tree;
        thread = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                List<Integer> stocks = stocks();
                polls.incrementAndGet();
                if (!whole.apply(stocks) && torn.incrementAndGet() == 1) firstTorn.add(summary(stocks));
            }
        });
    }

    List<Integer> stocks() {
        return stocksOf(tree);
    }

    /** The stocks of {@code tree} in key order, read in one snapshot. */
    static List<Integer> stocksOf(Tree<Part> tree) {
        List<Integer> stocks = new ArrayList<>();
        tree.forEach((k, v) -> stocks.add(v.stock()));
        return stocks;
    }

    void stop() throws InterruptedException {
        running.set(false);
        thread.join(60_000);
        assertEquals(0, torn.get(), torn.get() + " of " + polls.get() + " reads saw part of a batch, first " + firstTorn);
        assertTrue(polls.get() >= 100, polls.get() + " reads");
    }

    /** How many records hold each stock. */
    private static String summary(List<Integer> stocks) {
        java.util.Map<Integer, Integer> counts = new java.util.TreeMap<>();
        for (int s : stocks) counts.merge(s, 1, Integer::sum);
        return stocks.size() + " records, count by stock " + counts;
    }
}
