package dev.cairn.db;

import dev.cairn.RecordState;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One record to import: the key it was exported with ({@link #NO_KEY} for a bare JSON object),
 * its JSON value, and the state of a record of a versioned tree (null: a new record's).
 */
record ImportRow(int id, int revision, String json, String where, RecordState state) {
    static final int NO_KEY = -1;

    /** An exported line: {@code {"key":"TREE/id.revision"[,"state":"Draft(n)"|"Released(n)"],"value":{..}}}. */
    private static final Pattern EXPORTED = Pattern.compile(
        "^\\{\"key\":\"[^\"]*/(\\d+)\\.(\\d+)\",(?:\"state\":\"(Draft|Released)\\((-?\\d+)\\)\",)?\"value\":(\\{.*\\})\\}$");

    /** The form of {@code state} in an exported line. */
    static String stateText(RecordState state) {
        return switch (state) {
            case RecordState.Draft d -> "Draft(" + d.number() + ")";
            case RecordState.Released r -> "Released(" + r.number() + ")";
            case RecordState.NonVersioned n -> throw new IllegalArgumentException("a record of a tree without versions has no state to export");
        };
    }

    boolean keyed() {
        return id != NO_KEY;
    }

    /** The records of JSON-lines text: lines as {@code exportJsonLines} writes them, or bare record objects. */
    static List<ImportRow> ofJsonLines(String text) {
        List<String> lines = text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        return java.util.stream.IntStream.range(0, lines.size()).mapToObj(i -> ofLine(lines.get(i), "record " + (i + 1)))
            .toList();
    }

    private static ImportRow ofLine(String line, String where) {
        if (!line.startsWith("{\"key\":\"")) return new ImportRow(NO_KEY, NO_KEY, line, where, null);
        Matcher m = EXPORTED.matcher(line);
        if (!m.matches()) {
            throw new IllegalArgumentException(where + ": line '" + (line.length() <= 60 ? line : line.substring(0, 57) + "...")
                + "' (expected: {\"key\":\"TREE/id.revision\",[\"state\":\"Draft(n)\" or \"Released(n)\",]\"value\":{..}})");
        }
        try {
            RecordState state = m.group(3) == null ? null : m.group(3).equals("Released")
                ? new RecordState.Released(Integer.parseInt(m.group(4))) : new RecordState.Draft(Integer.parseInt(m.group(4)));
            return new ImportRow(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(5), where, state);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": key " + m.group(1) + "." + m.group(2) + " (expected: int id and revision)");
        }
    }
}
