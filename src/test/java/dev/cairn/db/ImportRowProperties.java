package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.cairn.RecordState;
import dev.cairn.schema.JsonForm;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.Chars;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

/**
 * An exported JSON line reads back as written ({@link ImportRow#exportedLine}, {@link
 * ImportRow#ofJsonLines}): any tree name (quotes, backslashes, slashes, dots, line and paragraph
 * separators, NEL, other unicode), any id, revision and state, and a value holding the same
 * characters, also with whitespace between the tokens and the members in another order.
 */
class ImportRowProperties {
    @Property(tries = 500)
    void anExportedLineReadsBackAsWritten(
            @ForAll @StringLength(min = 1, max = 12) @Chars({'"', '\\', '/', '.', ' ', '\u2028', '\u2029', '\u0085', '\n', '\r'})
            @CharRange(from = 'a', to = 'e') @CharRange(from = '\u00e0', to = '\u00ff') @CharRange(from = '\u4e00', to = '\u4e10')
            String tree,
            @ForAll @StringLength(max = 12) @Chars({'"', '\\', '\u2028', '\u2029', '\u0085', '\n', '\r', '\t', '}', '{'})
            @CharRange(from = 'a', to = 'e') String text,
            @ForAll @IntRange(min = 0) int id, @ForAll @IntRange(min = 0) int revision,
            @ForAll @IntRange(min = -1, max = 2) int stateKind, @ForAll boolean spaced) {
        RecordState state = switch (stateKind) {
            case 0 -> new RecordState.Draft(revision % 7);
            case 1 -> new RecordState.Released(id % 5);
            default -> null;
        };
        String value = "{\"s\":" + JsonForm.quote(text) + "}";
        String line = ImportRow.exportedLine(tree, id, revision, state, value);
        if (spaced) {
            // the same members, reordered and spaced as another JSON writer may lay them out
            String key = JsonForm.quote(tree + "/" + id + "." + revision);
            line = "{ \"value\" : " + value + " ,\t" + (state == null ? "" : "\"state\": \"" + ImportRow.stateText(state) + "\", ")
                + "\"key\": " + key + " }\r\n";
        }
        List<ImportRow> rows = ImportRow.ofJsonLines(line + "\n" + line, tree);
        assertEquals(2, rows.size());
        ImportRow row = rows.getFirst();
        assertEquals(tree, row.tree());
        assertEquals(id, row.id());
        assertEquals(revision, row.revision());
        assertEquals(state, row.state());
        assertEquals(text, JsonForm.stringValue(JsonForm.members(row.json(), "value").get("s"), "s"));
        if (state == null) assertNull(row.state());
    }
}
