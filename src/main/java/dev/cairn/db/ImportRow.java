package dev.cairn.db;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One record to import: the key it was exported with ({@link #NO_KEY} for a bare JSON object)
 * and its JSON value.
 */
record ImportRow(int id, int revision, String json, String where) {
    static final int NO_KEY = -1;

    /** An exported line: {@code {"key":"TREE/id.revision","value":{..}}}. */
    private static final Pattern EXPORTED = Pattern.compile("^\\{\"key\":\"[^\"]*/(\\d+)\\.(\\d+)\",\"value\":(\\{.*\\})\\}$");

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
        if (!line.startsWith("{\"key\":\"")) return new ImportRow(NO_KEY, NO_KEY, line, where);
        Matcher m = EXPORTED.matcher(line);
        if (!m.matches()) {
            throw new IllegalArgumentException(where + ": line '" + (line.length() <= 60 ? line : line.substring(0, 57) + "...")
                + "' (expected: {\"key\":\"TREE/id.revision\",\"value\":{..}})");
        }
        try {
            return new ImportRow(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), m.group(3), where);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + ": key " + m.group(1) + "." + m.group(2) + " (expected: int id and revision)");
        }
    }
}
