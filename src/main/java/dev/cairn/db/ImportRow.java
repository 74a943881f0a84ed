package dev.cairn.db;

import dev.cairn.RecordState;
import dev.cairn.TransferRefusedException;
import dev.cairn.schema.JsonForm;
import dev.cairn.schema.JsonOrigin;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One record to import: the key it was exported with ({@link #NO_KEY} for a bare JSON object;
 * {@code tree} null where the source names no tree, as SQL rows), its JSON value, and the state
 * of a record of a versioned tree (null: a new record's). Also writes the exported line it
 * reads ({@link #exportedLine}), so the two stay one format (record-format.md §10). {@code
 * origin} is where {@code json} is in the file, for errors that name the file's places (null:
 * nowhere, as a JDBC table's row).
 */
record ImportRow(String tree, int id, int revision, String json, String where, RecordState state, JsonOrigin origin) {
    static final int NO_KEY = -1;

    /** The members of an exported line. */
    private static final Set<String> ENVELOPE = Set.of("key", "state", "value");
    private static final String EXPECTED = "expected: {\"key\":\"TREE/id.revision\",[\"state\":\"Draft(n)\" or"
        + " \"Released(n)\",]\"value\":{..}}, or one record object";

    /** The form of {@code state} in an exported line. */
    static String stateText(RecordState state) {
        return switch (state) {
            case RecordState.Draft d -> d.toString();
            case RecordState.Released r -> r.toString();
            case RecordState.NonVersioned n -> throw new IllegalArgumentException("a record of a tree without versions has no state to export");
        };
    }

    /**
     * One exported line, whole, with its newline: {@code {"key":"TREE/id.revision",["state":..,]
     * "value":{..}}}. The key is a JSON string (a tree name may hold {@code "} or {@code \}).
     */
    static String exportedLine(String tree, int id, int revision, RecordState state, String valueJson) {
        StringBuilder line = new StringBuilder(valueJson.length() + tree.length() + 48);
        line.append("{\"key\":").append(JsonForm.quote(tree + "/" + id + "." + revision)).append(',');
        if (state != null) line.append("\"state\":\"").append(stateText(state)).append("\",");
        return line.append("\"value\":").append(valueJson).append("}\n").toString();
    }

    /**
     * The end line every JSON-lines export writes after its last record, {@code
     * {"tree":"TREE","records":N}} with N the number of records before it (record-format.md §10):
     * a file that lacks it, or whose count disagrees, was cut short or changed. An empty tree's
     * export is this line alone, so an empty file (what an export that failed leaves behind a
     * shell redirect) is never an export.
     */
    static String endLine(String tree, long records) {
        return "{\"tree\":" + JsonForm.quote(tree) + ",\"records\":" + records + "}\n";
    }

    boolean keyed() {
        return id != NO_KEY;
    }

    /**
     * The records of JSON-lines text: lines as {@code exportJsonLines} writes them (members in
     * any order, with any whitespace between tokens), or bare record objects. Lines end at
     * {@code \n}, {@code \r} or {@code \r\n} only: U+2028, U+2029 and U+0085 are characters of a
     * value here, as JSON has them. The end line, when there is one, must come last, name {@code
     * tree}, the tree imported into, as a key must ({@link TreeImport}), and count the records.
     */
    static List<ImportRow> ofJsonLines(String text, String tree) {
        List<ImportRow> rows = new ArrayList<>();
        try (ImportSource.Rows read = ImportSource.jsonLines(text, tree).open()) {
            for (ImportRow row; (row = read.next()) != null; ) rows.add(row);
        }
        return List.copyOf(rows);
    }

    /** A line after the end line: the end line comes last. */
    static IllegalArgumentException afterEndLine(String where, String endWhere) {
        return new IllegalArgumentException(where + ": a line after the end line {\"tree\":..,\"records\":..} of " + endWhere
            + " (expected: the end line last; two exports joined into one file?)");
    }

    /** The end line's count ({@code endWhere}) is not the number of records before it. */
    static IllegalArgumentException endLineDisagrees(String endWhere, long said, long held) {
        return new IllegalArgumentException(endWhere + ": the end line says " + said + " record" + (said == 1 ? "" : "s")
            + ", but " + held + (held == 1 ? " is" : " are") + " before it: lines were lost or added since the export"
            + " wrote it (nothing imported)");
    }

    /**
     * The count of {@code line}, at {@code origin} in the file, when it is the end line of an
     * export of {@code tree} ({@link #endLine}); -1 when it is no end line (other members).
     *
     * @throws TransferRefusedException the end line of an export of another tree
     */
    static long endLineCount(String line, String where, String tree, JsonOrigin origin) {
        Map<String, String> members = texts(line, JsonForm.membersAt(line, where, origin));
        if (!members.keySet().equals(Set.of("tree", "records"))) return -1;
        String count = members.get("records");
        if (count.isEmpty() || count.length() > 18 || !count.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException(where + ": \"records\":" + abbreviated(count) + " (expected: the number of"
                + " records before this end line, 0 or more)");
        }
        String named = text(members.get("tree"), where, "tree");
        if (!named.equals(tree)) {
            throw new TransferRefusedException(where + ": the end line of an export of the tree " + JsonForm.quote(named)
                + ", not of " + JsonForm.quote(tree) + " (an export of another tree? nothing imported)");
        }
        return Long.parseLong(count);
    }

    /** The row of one line of JSON lines, whose first character is at {@code origin} in the file. */
    static ImportRow ofLine(String line, String where, JsonOrigin.At origin) {
        Map<String, int[]> at;
        try {
            at = JsonForm.membersAt(line, where, origin);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage() + " (" + EXPECTED + ")", e);
        }
        Map<String, String> members = texts(line, at);
        // A record whose components are only some of key, state, value is taken for an exported line.
        if (!members.containsKey("key") || !members.containsKey("value") || !ENVELOPE.containsAll(members.keySet())) {
            if (members.containsKey("key") && members.containsKey("value")) {
                List<String> other = members.keySet().stream().filter(n -> !ENVELOPE.contains(n)).toList();
                throw new IllegalArgumentException(where + ": an exported line with the member" + (other.size() == 1 ? " " : "s ")
                    + other + " besides key, state and value (" + EXPECTED + ")");
            }
            return new ImportRow(null, NO_KEY, NO_KEY, line, where, null, origin);
        }
        String key = text(members.get("key"), where, "key");
        int slash = key.lastIndexOf('/');
        int dot = key.lastIndexOf('.');
        if (slash <= 0 || dot < slash) {
            throw new IllegalArgumentException(where + ": key \"" + key + "\" (expected: \"TREE/id.revision\")");
        }
        int id = number(key.substring(slash + 1, dot), where, key);
        int revision = number(key.substring(dot + 1), where, key);
        RecordState state = members.containsKey("state") ? state(text(members.get("state"), where, "state"), where) : null;
        String value = members.get("value");
        if (!value.startsWith("{")) {
            throw new IllegalArgumentException(where + ": \"value\" is " + abbreviated(value) + " (expected: the record's object)");
        }
        return new ImportRow(key.substring(0, slash), id, revision, value, where, state,
            origin.shifted(line, at.get("value")[0]));
    }

    /** Each member's value text, from where {@link JsonForm#membersAt} found it in {@code line}. */
    private static Map<String, String> texts(String line, Map<String, int[]> at) {
        Map<String, String> texts = new java.util.LinkedHashMap<>();
        at.forEach((name, range) -> texts.put(name, line.substring(range[0], range[1])));
        return texts;
    }

    private static String text(String json, String where, String member) {
        if (!json.startsWith("\"")) {
            throw new IllegalArgumentException(where + ": \"" + member + "\" is " + abbreviated(json) + " (expected: a string)");
        }
        return JsonForm.stringValue(json, where + " " + member);
    }

    private static int number(String digits, String where, String key) {
        if (!digits.isEmpty() && digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            try {
                return Integer.parseInt(digits);
            } catch (NumberFormatException e) {
                // beyond an int: said below
            }
        }
        throw new IllegalArgumentException(where + ": key \"" + key + "\" (expected: \"TREE/id.revision\", id and"
            + " revision each 0.." + Integer.MAX_VALUE + ")");
    }

    private static RecordState state(String text, String where) {
        int open = text.indexOf('(');
        if (open > 0 && text.endsWith(")")) {
            String name = text.substring(0, open);
            String n = text.substring(open + 1, text.length() - 1);
            if ((name.equals("Draft") || name.equals("Released")) && n.matches("-?[0-9]{1,10}")) {
                try {
                    int number = Integer.parseInt(n);
                    return name.equals("Draft") ? new RecordState.Draft(number) : new RecordState.Released(number);
                } catch (NumberFormatException e) {
                    // beyond an int: said below
                }
            }
        }
        throw new IllegalArgumentException(where + ": state \"" + text + "\" (expected: \"Draft(n)\" or \"Released(n)\")");
    }

    private static String abbreviated(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }
}
