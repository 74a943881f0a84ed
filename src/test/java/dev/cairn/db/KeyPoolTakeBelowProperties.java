package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * {@link KeyPool#takeBelow} and {@link KeyPool#contains} against a model set of free ids: after
 * server-style ranges, takes of the lowest id and takes below bounds, the pool holds exactly the
 * model, survives its byte form (ascending, disjoint ranges) and hands out the model's ids in order.
 */
class KeyPoolTakeBelowProperties {
    @Property(tries = 300)
    void takeBelowRemovesExactlyTheIdsBelowTheBound(@ForAll @Size(max = 4) List<@IntRange(max = 60) Integer> rangeStarts,
                                                    @ForAll @Size(max = 3) List<@IntRange(max = 90) Integer> bounds,
                                                    @ForAll @IntRange(max = 5) int lowest) {
        KeyPool pool = KeyPool.empty();
        TreeSet<Integer> model = new TreeSet<>();
        for (int from : new TreeSet<>(rangeStarts)) {
            if (model.isEmpty() || model.last() < from) {
                pool.add(from, from + 10);
                for (int id = from; id < from + 10; id++) model.add(id);
            }
        }
        for (int i = 0; i < lowest && !model.isEmpty(); i++) assertEquals(model.pollFirst(), pool.take("T"));
        for (int bound : bounds) {
            pool.takeBelow(bound);
            model.headSet(bound).clear();
            pool = KeyPool.fromBytes(pool.toBytes(), "T"); // still a valid byte form
        }
        for (int id = -1; id < 100; id++) assertEquals(model.contains(id), pool.contains(id), "id " + id + " in " + pool);
        assertEquals(model.size(), pool.available());
        assertEquals(model.isEmpty() ? -1 : model.first(), pool.peek());
        while (!model.isEmpty()) assertEquals(model.pollFirst(), pool.take("T"));
    }
}
