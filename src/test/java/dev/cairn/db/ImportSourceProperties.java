package dev.cairn.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cairn.schema.JsonOrigin;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * JSON lines read a line at a time ({@link ImportSource}, what {@code cairn import} does, so that
 * a file is never held whole) read as the whole text split into lines did before (String.lines,
 * strip): the same rows and empty tree's mark, or the same error, from text or from a UTF-8 file
 * (with or without a byte order mark), whatever the line ends and wherever the reader's buffers
 * end (long lines and runs of blanks cross them, and multi-byte characters straddle them).
 */
class ImportSourceProperties {
    private static final String[] PIECES = {
        "{\"key\":\"T/1.0\",\"value\":{\"s\":\"a\"}}", "{\"key\":\"T/2.1\",\"state\":\"Released(2)\",\"value\":{\"s\":\"b\"}}",
        " { \"value\" : {\"s\":\"c\"} , \"key\" : \"T/3.0\" } ", "{\"s\":\"bare\"}", "{\"s\":\"\u2028\u2029\u0085 \u00e9\u4e2d\ud83d\ude00\"}",
        "{\"tree\":\"T\",\"records\":0}", "{\"tree\":\"U\",\"records\":0}", "{\"tree\":\"T\",\"records\":1}",
        " { \"records\" : 0 , \"tree\" : \"T\" } ", "{\"cairn-export-end\":{\"tree\":\"T\",\"records\":0}}",
        " { \"cairn-export-end\" : { \"records\" : 1 , \"tree\" : \"T\" } } ", "{\"cairn-export-end\":{\"tree\":\"U\",\"records\":0}}",
        "{\"cairn-export-end\":{\"tree\":\"T\",\"records\":2},\"x\":1}", "{\"cairn-export-end\":{\"tree\":\"T\",\"records\":-1}}",
        "{\"s\":\"cairn-export-end\"}", "{\"cairn\\u002dexport-end\":{\"tree\":\"T\",\"records\":1}}",
        "{\"key\":\"U/1.0\",\"value\":{\"s\":\"a\"}}", "{\"key\":\"T/1.0\",\"value\":{\"s\":\"a\"},\"x\":1}",
        "{\"key\":\"T/x.0\",\"value\":{}}", "{\"key\":\"T/1.0\",\"value\":[1]}", "not json", "[1,2]", "\"text\"", "{",
        "\n", "\r", "\r\n", "\n\n", " ", "\t", "\u001c", "\u2028", "\u0085", "\uFEFF",
        " ".repeat(40_000), "x".repeat(100) + "{\"s\":1}", "{\"s\":\"" + "\u00e9".repeat(70_000) + "\"}",
        "{\"s\":\"" + "a".repeat(65_530) + "\"}\r\n",
    };

    @Property(tries = 400)
    void aLineAtATimeReadsAsTheWholeText(@ForAll long seed) throws IOException {
        Random random = new Random(seed);
        StringBuilder text = new StringBuilder();
        for (int i = random.nextInt(8); i > 0; i--) {
            text.append(PIECES[random.nextInt(PIECES.length)]);
            if (random.nextBoolean()) text.append(random.nextBoolean() ? "\n" : "\r\n");
        }
        String t = text.toString();
        Object expected = wholeText(t);
        assertEquals(expected, read(ImportSource.jsonLines(t, "T")), shown(t));
        Path file = Files.createTempFile("cairn-lines-", ".jsonl");
        try {
            boolean bom = random.nextBoolean();
            Files.writeString(file, (bom ? "\uFEFF" : "") + t, StandardCharsets.UTF_8);
            // one byte order mark first in a file is skipped, as cairn import did (Commands.read)
            Object fromFile = bom || !t.startsWith("\uFEFF") ? expected : wholeText(t.substring(1));
            assertEquals(fromFile, read(ImportSource.jsonLines(file, "T")), shown(t));
        } finally {
            Files.delete(file);
        }
    }

    /**
     * A line that is not JSON is read no further than its first characters; its error still shows
     * what the whole line, stripped, starts with (the cut once dropped the spaces after a byte
     * order mark when more followed them on the line).
     */
    @Example
    void aLineCutForItsErrorShowsWhatTheWholeLineStartsWith() {
        for (String t : List.of("\uFEFF" + " ".repeat(40_000) + "x", "\uFEFF" + " ".repeat(40_000), "ab" + " ".repeat(100) + "c\n{")) {
            assertEquals(wholeText(t), read(ImportSource.jsonLines(t, "T")), shown(t));
        }
    }

    /** The end line is told by its member's name, however it is written: escaped, spaced, among others (refused). */
    @Example
    void theEndLineIsToldByItsMembersNameAsJsonReadsIt() {
        String record = "{\"s\":\"cairn-export-end\"}\n";
        Object read = read(ImportSource.jsonLines(record + " { \"cairn\\u002dexport-end\" : {\"records\":1,\"tree\":\"T\"}}",
            "T"));
        assertEquals(List.of(List.of(ImportRow.ofLine(record.strip(), "record 1", JsonOrigin.at(1, 1))), true), read);
        assertEquals("IllegalArgumentException: the end line at line 2: members besides \"cairn-export-end\": [s] (expected:"
            + " the end line {\"cairn-export-end\":{\"tree\":\"T\",\"records\":N}}, N the number of records before it)",
            read(ImportSource.jsonLines(record + "{\"s\":1,\"cairn-export-end\":{\"records\":1,\"tree\":\"T\"}}", "T")));
    }

    private static String shown(String text) {
        return text.length() > 300 ? text.substring(0, 300) + "... (" + text.length() + " chars)" : text;
    }

    /**
     * As ImportRow.ofJsonLines read a text before: String.lines, strip, blank lines skipped; and
     * an end line only last, counting the records before it (record-format.md §10).
     */
    private static Object wholeText(String text) {
        try {
            List<ImportRow> rows = new ArrayList<>();
            long endCount = -1;
            String endWhere = null;
            long lineNumber = 0;
            long nonBlank = text.lines().filter(l -> !l.strip().isEmpty()).count();
            for (String line : (Iterable<String>) text.lines()::iterator) {
                lineNumber++;
                String l = line.strip();
                if (l.isEmpty()) continue;
                String where = "record " + (rows.size() + 1);
                if (endCount >= 0) throw ImportRow.afterEndLine("line " + lineNumber, endWhere);
                // errors name the file's line, and the column counting the whitespace before the line's text
                JsonOrigin.At origin = JsonOrigin.at(lineNumber, 1 + line.length() - line.stripLeading().length());
                String endAt = "the end line at line " + lineNumber;
                long count = ImportRow.endLineCount(l, endAt, "T", origin);
                String older = nonBlank == 1 ? ImportRow.olderEmptyExportTree(l, where) : null;
                if (count >= 0) {
                    endCount = count;
                    endWhere = endAt;
                } else if (older != null) { // an older cairn's export of an empty tree: the text's only line
                    ImportRow.refuseOtherTree(older, "T", "the line of an empty tree's export at line " + lineNumber);
                    endCount = 0;
                    endWhere = "";
                } else {
                    rows.add(ImportRow.ofLine(l, where, origin));
                }
            }
            if (endCount >= 0 && endCount != rows.size()) throw ImportRow.endLineDisagrees(endWhere, endCount, rows.size());
            return List.of(rows, endCount >= 0);
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    private static Object read(ImportSource source) {
        try {
            List<ImportRow> rows = new ArrayList<>();
            try (ImportSource.Rows read = source.open()) {
                for (ImportRow row; (row = read.next()) != null; ) rows.add(row);
            }
            return List.of(rows, source.markedEmpty());
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }
}
