package dev.cairn.testing;

import dev.cairn.Cairn;
import dev.cairn.Key;
import dev.cairn.Tree;
import dev.cairn.TreeSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Another program's view of a database, run only in a child JVM so that the test process never
 * loads these record classes: {@code write DIR} creates a "Widget" tree; {@code print DIR}
 * prints every record with its key as {@code toString()}.
 */
public final class WidgetProgram {
    private WidgetProgram() { }

    public enum Color { RED, GREEN, BLUE }

    public record Dims(int width, int height) { }

    @TreeSpec(name = "Widget")
    public record Widget(String name, Color color, Dims dims, List<String> labels, Map<String, Integer> counts,
                         Optional<String> note, long serial) { }

    public static void main(String[] args) {
        try (Cairn db = Cairn.open(Path.of(args[1]))) {
            Tree<Widget> widgets = db.tree(Widget.class);
            switch (args[0]) {
                case "write" -> {
                    widgets.insert(new Widget("blue-widget", Color.BLUE, new Dims(3, 4), List.of("a", "b"),
                        Map.of("x", 1), Optional.of("first"), 9_007_199_254_740_993L));
                    widgets.insert(new Widget("green-widget", Color.GREEN, new Dims(5, 6), List.of(),
                        Map.of(), Optional.empty(), 2));
                }
                case "print" -> widgets.forEach((Key<Widget> k, Widget w) -> System.out.println(k + " " + w));
                default -> throw new IllegalArgumentException(args[0]);
            }
        }
    }
}
