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
     * The one member of a JSON-lines end line: a name that is no Java identifier, so no record
     * component, and so no member of a record object, can have it (record-format.md §10).
     */
    static final String END_MEMBER = "cairn-export-end";

    /**
     * The end line every JSON-lines export writes after its last record, {@code
     * {"cairn-export-end":{"tree":"TREE","records":N}}} with N the number of records before it
     * (record-format.md §10): a file that lacks it, or whose count disagrees, was cut short or
     * changed. An empty tree's export is this line alone, so an empty file (what an export that
     * failed leaves behind a shell redirect) is never an export.
     */
    static String endLine(String tree, long records) {
        return "{\"" + END_MEMBER + "\":{\"tree\":" + JsonForm.quote(tree) + ",\"records\":" + records + "}}\n";
    }

    /** The form of {@link #endLine} for messages, the tree given and its count as N. */
    static String endLineForm(String tree) {
        return "{\"" + END_MEMBER + "\":{\"tree\":" + JsonForm.quote(tree) + ",\"records\":N}}";
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

    /** A line ({@code where}) after the end line ({@code endWhere}): the end line comes last. */
    static IllegalArgumentException afterEndLine(String where, String endWhere) {
        return new IllegalArgumentException(where + ": a line after " + endWhere + " (expected: the end line last; two"
            + " exports joined into one file?)");
    }

    /** The end line ({@code endWhere}, as "the end line at line L") counts other than the records before it. */
    static IllegalArgumentException endLineDisagrees(String endWhere, long said, long held) {
        return new IllegalArgumentException(endWhere + " says " + said + " record" + (said == 1 ? "" : "s") + ", but "
            + held + (held == 1 ? " is" : " are") + " before it: lines were lost or added since the export wrote it"
            + " (nothing imported)");
    }

    /**
     * The count of {@code line}, at {@code origin} in the file, when it is the end line of an
     * export of {@code tree} ({@link #endLine}: an object whose one member is {@link #END_MEMBER},
     * in any layout); -1 when it is no end line (no such member, or no JSON object: {@link
     * #ofLine} says what is wrong with it). {@code where} names the end line in errors.
     *
     * @throws IllegalArgumentException a line with that member that is not of the end line's form
     * @throws TransferRefusedException the end line of an export of another tree
     */
    static long endLineCount(String line, String where, String tree, JsonOrigin.At origin) {
        // A line without the name, written plain or escaped, cannot have the member: not parsed twice.
        // Its letters and '-' escape only as a backslash-u sequence, so a record line whose strings
        // hold other escapes (a line break, a quote) is not parsed for it either.
        if (!line.contains(END_MEMBER) && !line.contains("\\u")) return -1;
        Map<String, int[]> at;
        try {
            at = JsonForm.membersAt(line, where, origin);
        } catch (IllegalArgumentException e) {
            return -1;
        }
        if (!at.containsKey(END_MEMBER)) return -1;
        String expected = " (expected: the end line " + endLineForm(tree) + ", N the number of records before it)";
        if (at.size() != 1) {
            throw new IllegalArgumentException(where + ": members besides \"" + END_MEMBER + "\": "
                + at.keySet().stream().filter(n -> !n.equals(END_MEMBER)).toList() + expected);
        }
        int[] range = at.get(END_MEMBER);
        String inner = line.substring(range[0], range[1]);
        if (!inner.startsWith("{")) {
            throw new IllegalArgumentException(where + ": \"" + END_MEMBER + "\" is " + abbreviated(inner) + expected);
        }
        Map<String, String> members = texts(inner, JsonForm.membersAt(inner, where, origin.shifted(line, range[0])));
        if (!members.keySet().equals(Set.of("tree", "records"))) {
            throw new IllegalArgumentException(where + ": the members " + members.keySet() + expected);
        }
        String count = members.get("records");
        if (count.isEmpty() || count.length() > 18 || !count.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException(where + ": \"records\":" + abbreviated(count) + " (expected: the number of"
                + " records before this end line, 0 or more)");
        }
        refuseOtherTree(text(members.get("tree"), where, "tree"), tree, where);
        return Long.parseLong(count);
    }

    /**
     * The tree {@code line} names when it is the line an older cairn exported an empty tree as,
     * {@code {"tree":"TREE","records":0}} (members in any layout), else null. It is read so only
     * as a file's only line (record-format.md §10): among other lines it is a record object.
     */
    static String olderEmptyExportTree(String line, String where) {
        if (!line.contains("\"records\"")) return null;
        Map<String, String> members;
        try {
            members = texts(line, JsonForm.membersAt(line, where, null));
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (!members.keySet().equals(Set.of("tree", "records")) || !members.get("records").equals("0")
            || !members.get("tree").startsWith("\"")) {
            return null;
        }
        return text(members.get("tree"), where, "tree");
    }

    /** Refuses an end line ({@code where}) that names {@code named}, another tree than {@code tree}. */
    static void refuseOtherTree(String named, String tree, String where) {
        if (!named.equals(tree)) {
            throw new TransferRefusedException(where + " names the tree " + JsonForm.quote(named) + ", not "
                + JsonForm.quote(tree) + " (an export of another tree? nothing imported)");
        }
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
