package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.SchemaMismatchException;
import dev.cairn.schema.UpdateMergeTest.N;
import dev.cairn.schema.UpdateMergeTest.O;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;

/**
 * Random values of the newer class of {@link UpdateMergeTest}, random edits by the older class:
 * the update is either refused (where the edit may be ambiguous, and always where it must be) or
 * the newer class reads back everything it had except what the older class changed, each change
 * applied as the older class meant it (record-format.md §6.4).
 */
class UpdateMergeProperties {
    private static final String[] EXTRAS = {"", "X1", "X2"};

    /** One test case: the edit by the older class, and what the newer class must read after it. */
    private static final class Case {
        final Random random;
        int fresh;
        boolean mayRefuse;
        boolean mustRefuse;
        final List<String> edits = new ArrayList<>();

        Case(long seed) {
            random = new Random(seed);
        }

        String freshName() {
            return "z" + fresh++;
        }

        boolean coin() {
            return random.nextBoolean();
        }

        int below(int n) {
            return random.nextInt(n);
        }
    }

    @Property(tries = 2000)
    void anUpdateKeepsWhatTheOlderClassDidNotChangeOrIsRefused(@ForAll long seed) {
        Case c = new Case(seed);
        N.Rec stored = newer(c);
        MemorySegment bytes = MemorySegment.ofArray(UpdateMergeTest.NEW.encode(stored));
        O.Rec seen = UpdateMergeTest.OLD.decode(bytes);

        String title = seen.title();
        List<O.Item> items = new ArrayList<>(seen.items());
        List<N.Item> expItems = new ArrayList<>(stored.items());
        if (c.coin()) {
            title = "t2";
            c.edits.add("title");
        }
        if (c.coin()) editItems(c, items, expItems);
        Map<String, O.Item> byName = new LinkedHashMap<>(seen.byName());
        Map<String, N.Item> expByName = new LinkedHashMap<>(stored.byName());
        if (c.coin() && !byName.isEmpty() || c.coin()) {
            List<String> keys = new ArrayList<>(byName.keySet());
            int op = c.below(3);
            if (op == 0 && !keys.isEmpty()) {
                String k = keys.get(c.below(keys.size()));
                String name = c.freshName();
                byName.put(k, new O.Item(name));
                expByName.put(k, new N.Item(name, expByName.get(k).extra()));
                c.edits.add("byName: change " + k);
            } else if (op == 1 && !keys.isEmpty()) {
                String k = keys.get(c.below(keys.size()));
                byName.remove(k);
                expByName.remove(k);
                c.edits.add("byName: remove " + k);
            } else {
                String k = "new" + c.below(3);
                String name = c.freshName();
                byName.put(k, new O.Item(name));
                expByName.put(k, new N.Item(name, expByName.containsKey(k) ? expByName.get(k).extra() : ""));
                c.edits.add("byName: put " + k);
            }
        }
        Optional<O.Item> maybe = seen.maybe();
        Optional<N.Item> expMaybe = stored.maybe();
        if (c.coin()) {
            if (maybe.isPresent() && c.coin()) {
                maybe = Optional.empty();
                expMaybe = Optional.empty();
            } else {
                String name = c.freshName();
                maybe = Optional.of(new O.Item(name));
                expMaybe = Optional.of(new N.Item(name, expMaybe.map(N.Item::extra).orElse("")));
            }
            c.edits.add("maybe");
        }
        Set<O.Item> bag = new LinkedHashSet<>(seen.bag());
        Set<N.Item> expBag = new LinkedHashSet<>(stored.bag());
        if (c.coin()) {
            boolean remove = !bag.isEmpty() && c.coin();
            boolean add = !remove || c.coin();
            if (remove) {
                O.Item gone = new ArrayList<>(bag).get(c.below(bag.size()));
                bag.remove(gone);
                expBag.removeIf(i -> i.name().equals(gone.name()));
            }
            if (add) {
                String name = c.freshName();
                bag.add(new O.Item(name));
                expBag.add(new N.Item(name, ""));
            }
            c.mayRefuse |= remove && add;
            c.edits.add("bag: " + (remove ? "remove " : "") + (add ? "add" : ""));
        }
        List<O.Color> colors = new ArrayList<>(seen.colors());
        List<N.Color> expColors = new ArrayList<>(stored.colors());
        if (c.coin()) editColors(c, colors, expColors);
        Set<O.Color> colorSet = new LinkedHashSet<>(seen.colorSet());
        Set<N.Color> expColorSet = new LinkedHashSet<>(stored.colorSet());
        if (c.coin()) {
            O.Color color = c.coin() ? O.Color.RED : O.Color.OTHER;
            if (c.coin()) {
                colorSet.remove(color);
                expColorSet.removeIf(k -> view(k) == color);
                c.edits.add("colorSet: remove " + color);
            } else {
                colorSet.add(color);
                if (expColorSet.stream().noneMatch(k -> view(k) == color)) expColorSet.add(newer(color));
                c.edits.add("colorSet: add " + color);
            }
        }
        Map<O.Color, Integer> byColor = new LinkedHashMap<>(seen.byColor());
        Map<N.Color, Integer> expByColor = new LinkedHashMap<>(stored.byColor());
        if (c.coin()) {
            O.Color color = c.coin() ? O.Color.RED : O.Color.OTHER;
            List<N.Color> group = expByColor.keySet().stream().filter(k -> view(k) == color).toList();
            if (c.coin()) {
                byColor.remove(color);
                group.forEach(expByColor::remove);
                c.edits.add("byColor: remove " + color);
            } else {
                int v = c.below(4);
                boolean unchanged = byColor.containsKey(color) && byColor.get(color) == v;
                byColor.put(color, v);
                if (group.isEmpty()) {
                    expByColor.put(newer(color), v);
                } else if (group.size() == 1) {
                    expByColor.put(group.get(0), v);
                } else if (!unchanged) {
                    c.mayRefuse = true;
                }
                c.edits.add("byColor: put " + color + "=" + v);
            }
        }
        O.Shape shape = seen.shape();
        N.Shape expShape = stored.shape();
        if (c.coin()) {
            if (c.coin() || !(shape instanceof O.Unknown)) {
                double r = c.below(3);
                shape = new O.Circle(r);
                expShape = new N.Circle(r);
                c.edits.add("shape: circle");
            } else {
                O.Unknown u = (O.Unknown) shape;
                shape = new O.Unknown(u.name(), u.w() + 1);
                if (stored.shape() instanceof N.Rect) c.mustRefuse = true;
                expShape = new N.Unknown(u.name(), u.w() + 1);
                c.edits.add("shape: w+1");
            }
        }
        List<O.Shape> shapes = new ArrayList<>(seen.shapes());
        List<N.Shape> expShapes = new ArrayList<>(stored.shapes());
        if (c.coin()) {
            if (shapes.isEmpty() || c.coin()) {
                shapes.add(new O.Circle(7));
                expShapes.add(new N.Circle(7));
                c.edits.add("shapes: append");
            } else {
                int i = c.below(shapes.size());
                if (shapes.get(i) instanceof O.Unknown u) {
                    shapes.set(i, new O.Unknown(u.name(), u.w() + 1));
                    expShapes.set(i, new N.Unknown(u.name(), u.w() + 1));
                    if (stored.shapes().get(i) instanceof N.Rect) c.mustRefuse = true;
                    else if (stored.shapes().stream().anyMatch(s -> s instanceof N.Rect)) c.mayRefuse = true;
                } else {
                    shapes.set(i, new O.Circle(8));
                    expShapes.set(i, new N.Circle(8));
                }
                c.edits.add("shapes: set " + i);
            }
        }

        O.Rec changed = new O.Rec(title, items, byName, maybe, bag, colors, colorSet, byColor, shape, shapes);
        N.Rec expected = new N.Rec(title, expItems, expByName, expMaybe, expBag, expColors, expColorSet, expByColor,
            expShape, expShapes);
        byte[] updated;
        try {
            updated = UpdateMergeTest.OLD.encodeUpdate(changed, bytes);
        } catch (SchemaMismatchException e) {
            Statistics.label("outcome").collect(c.mustRefuse ? "refused, as it must" : "refused, as it may");
            assertTrue(c.mayRefuse || c.mustRefuse, "refused although unambiguous: " + c.edits + " of " + stored
                + ": " + e.getMessage());
            return;
        }
        Statistics.label("outcome").collect(c.edits.isEmpty() ? "no edit" : c.mayRefuse ? "written, may have been refused"
            : "written");
        if (c.mustRefuse) fail("a change through the fallback was written: " + c.edits + " of " + stored);
        assertEquals(changed, UpdateMergeTest.OLD.decode(MemorySegment.ofArray(updated)), "the older class's view");
        assertEquals(expected, UpdateMergeTest.NEW.decode(MemorySegment.ofArray(updated)), c.edits + " of " + stored);
    }

    private static void editItems(Case c, List<O.Item> items, List<N.Item> exp) {
        int n = items.size();
        int op = c.below(6);
        String name = c.freshName();
        if (op == 0 || n == 0) {
            int at = c.below(n + 1);
            items.add(at, new O.Item(name));
            exp.add(at, new N.Item(name, ""));
            c.edits.add("items: insert at " + at);
        } else if (op == 1) {
            int i = c.below(n);
            items.remove(i);
            exp.remove(i);
            c.edits.add("items: remove " + i);
        } else if (op == 2) {
            int i = c.below(n);
            items.set(i, new O.Item(name));
            exp.set(i, new N.Item(name, exp.get(i).extra()));
            c.edits.add("items: set " + i);
        } else if (op == 3 && n >= 2) {
            int i = c.below(n);
            int j = (i + 1 + c.below(n - 1)) % n;
            items.set(i, items.set(j, items.get(i)));
            exp.set(i, exp.set(j, exp.get(i)));
            c.mayRefuse = true;
            c.edits.add("items: swap " + i + " " + j);
        } else {
            // an element changed and the length changed: may be refused; if written, that element had nothing unknown
            int i = c.below(n);
            items.set(i, new O.Item(name));
            exp.set(i, new N.Item(name, ""));
            String more = c.freshName();
            items.add(new O.Item(more));
            exp.add(new N.Item(more, ""));
            c.mayRefuse = true;
            c.edits.add("items: set " + i + " and append");
        }
    }

    private static void editColors(Case c, List<O.Color> colors, List<N.Color> exp) {
        int n = colors.size();
        int op = c.below(3);
        O.Color color = c.coin() ? O.Color.RED : O.Color.OTHER;
        if (op == 0 || n == 0) {
            colors.add(color);
            exp.add(newer(color));
            c.mayRefuse |= color == O.Color.OTHER;
            c.edits.add("colors: append " + color);
        } else if (op == 1) {
            int i = c.below(n);
            colors.remove(i);
            exp.remove(i);
            c.mayRefuse = true;
            c.edits.add("colors: remove " + i);
        } else {
            int i = c.below(n);
            if (colors.get(i) != color) exp.set(i, newer(color));
            colors.set(i, color);
            c.mayRefuse |= color == O.Color.OTHER;
            c.edits.add("colors: set " + i + " " + color);
        }
    }

    private static O.Color view(N.Color c) {
        return c == N.Color.RED ? O.Color.RED : O.Color.OTHER;
    }

    private static N.Color newer(O.Color c) {
        return c == O.Color.RED ? N.Color.RED : N.Color.OTHER;
    }

    private static N.Rec newer(Case c) {
        List<String> pool = new ArrayList<>(List.of("a", "b", "c", "d", "e"));
        java.util.Collections.shuffle(pool, c.random);
        List<N.Item> items = new ArrayList<>();
        for (int i = c.below(5); i > 0; i--) items.add(item(c, pool.get(i)));
        Map<String, N.Item> byName = new LinkedHashMap<>();
        for (int i = c.below(4); i > 0; i--) byName.put("k" + c.below(4), item(c, pool.get(c.below(pool.size()))));
        Optional<N.Item> maybe = c.coin() ? Optional.of(item(c, "o")) : Optional.empty();
        Set<N.Item> bag = new LinkedHashSet<>();
        for (int i = c.below(4); i > 0; i--) bag.add(item(c, pool.get(i)));
        N.Color[] all = N.Color.values();
        List<N.Color> colors = new ArrayList<>();
        for (int i = c.below(5); i > 0; i--) colors.add(all[c.below(all.length)]);
        Set<N.Color> colorSet = new LinkedHashSet<>();
        for (int i = c.below(4); i > 0; i--) colorSet.add(all[c.below(all.length)]);
        Map<N.Color, Integer> byColor = new LinkedHashMap<>();
        for (int i = c.below(4); i > 0; i--) byColor.put(all[c.below(all.length)], c.below(4));
        List<N.Shape> shapes = new ArrayList<>();
        for (int i = c.below(4); i > 0; i--) shapes.add(shape(c));
        return new N.Rec("t", items, byName, maybe, bag, colors, colorSet, byColor, c.coin() ? null : shape(c),
            shapes);
    }

    private static N.Item item(Case c, String name) {
        return new N.Item(name, EXTRAS[c.below(EXTRAS.length)]);
    }

    private static N.Shape shape(Case c) {
        return switch (c.below(3)) {
            case 0 -> new N.Circle(c.below(3));
            case 1 -> new N.Unknown("u" + c.below(2), c.below(3));
            default -> new N.Rect("r" + c.below(2), c.below(3), c.below(2) + 0.5);
        };
    }
}
