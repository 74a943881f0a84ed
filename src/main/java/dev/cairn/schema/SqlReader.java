package dev.cairn.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the {@code INSERT} statements that {@link SqlForm} writes: a small tokenizer over SQL
 * text with quoted identifiers, string literals ({@code ''} escapes), {@code X'hex'},
 * {@code DATE '...'}, numbers, {@code TRUE}/{@code FALSE}/{@code NULL}, {@code --} and block
 * comments ({@code /*} to {@code *}{@code /}).
 * Errors name the line and column. Every step consumes input, so no text can make it loop.
 */
final class SqlReader {
    enum LiteralKind { NULL, BOOLEAN, NUMBER, STRING, BINARY }

    /** A value's literal: its kind, its text (a string's without quotes), where it starts and ends in the statement. */
    record Literal(LiteralKind kind, String text, int start, int end) {
        int intValue(SqlReader reader, String column) {
            try {
                if (kind == LiteralKind.NUMBER) return Integer.parseInt(text);
            } catch (NumberFormatException e) {
                // falls through to the error below
            }
            throw reader.fail("column " + column + " holds " + text + " (expected: an integer >= 0)");
        }
    }

    private final String sql;
    private int at;
    /** Where {@code sql} starts in the text it was cut from ({@link SqlStatements}): 1, 1 for the whole text. */
    private final int firstLine;
    private final int firstColumn;
    /** Offset, line and column {@link #place} reached last: rows ask in order, so it counts each character once. */
    private int placeAt;
    private int placeLine;
    private int placeColumn;

    SqlReader(String sql) {
        this(sql, 1, 1);
    }

    /** A reader of one statement cut from a longer text at {@code firstLine}, {@code firstColumn}: errors name places in that text. */
    SqlReader(String sql, int firstLine, int firstColumn) {
        this.sql = sql;
        this.firstLine = firstLine;
        this.firstColumn = firstColumn;
    }

    /**
     * Statements skipped, by their first word: none of them adds or changes a row (a dump's
     * schema, transaction and session statements). Any other statement (REPLACE, UPDATE, DELETE,
     * MERGE, COPY, WITH, ...) might, so it is refused rather than skipped (record-format.md §10).
     */
    static final java.util.Set<String> SKIPPED = java.util.Set.of("CREATE", "DROP", "ALTER", "BEGIN", "COMMIT", "END",
        "ROLLBACK", "START", "SAVEPOINT", "RELEASE", "SET", "PRAGMA", "ANALYZE", "VACUUM", "USE", "LOCK", "UNLOCK",
        "GRANT", "REVOKE", "COMMENT");

    /** Whether a {@code CREATE TABLE} of the table {@link #skipToInsert} was given has been passed. */
    private boolean createdTable;

    /**
     * Moves past the next {@code INSERT INTO} at the start of a statement; false at the end.
     * Statements of {@link #SKIPPED} are passed over (noting a {@code CREATE TABLE} of {@code
     * table}); any other is refused, naming it.
     */
    boolean skipToInsert(String table) {
        while (true) {
            space();
            if (at >= sql.length()) return false;
            if (sql.charAt(at) == ';') {
                at++;
                continue;
            }
            if (startsWithWord("INSERT")) {
                int start = at;
                at += "INSERT".length();
                space();
                if (startsWithWord("OR")) {
                    at += "OR".length();
                    String what = identifierOrWord().toUpperCase(Locale.ROOT);
                    at = start;
                    throw fail("statement INSERT OR " + what + " (expected: INSERT INTO): it may replace rows, which an"
                        + " import that adds records cannot do, so nothing is imported");
                }
                keyword("INTO");
                return true;
            }
            int start = at;
            String word = at < sql.length() && Character.isLetter(sql.charAt(at)) ? identifierOrWord() : "";
            if (!SKIPPED.contains(word.toUpperCase(Locale.ROOT))) {
                at = start;
                throw fail("statement " + (word.isEmpty() ? "'" + snippet() + "'" : word) + " (expected: INSERT INTO, or one that holds no row and is skipped: "
                    + new java.util.TreeSet<>(SKIPPED) + "); it may add or change rows, which import would miss, so"
                    + " nothing is imported");
            }
            if (word.equalsIgnoreCase("CREATE")) {
                space();
                if (startsWithWord("TABLE")) {
                    at += "TABLE".length();
                    space();
                    if (at < sql.length() && (sql.charAt(at) == '"' || Character.isLetter(sql.charAt(at)))
                        && identifierOrWord().equals(table)) {
                        createdTable = true;
                    }
                }
            }
            skipStatement();
        }
    }

    /**
     * Up to 12 characters from here, not past the statement's {@code ;}: the same whether the
     * reader has the whole text or only this statement ({@link SqlStatements}).
     */
    private String snippet() {
        String text = sql.substring(at, Math.min(sql.length(), at + 12));
        int end = text.indexOf(';');
        return end < 0 ? text : text.substring(0, end + 1);
    }

    boolean createdTable() {
        return createdTable;
    }

    /** Moves past the rest of the statement (to its ;). */
    void skipRest() {
        skipStatement();
    }

    private void skipStatement() {
        while (at < sql.length()) {
            char c = sql.charAt(at);
            if (c == '\'' || c == '"') {
                quoted(c);
            } else if (Character.isWhitespace(c) || c == '-' || c == '/') {
                int before = at;
                space();                       // comments: a quote or ; in one is no token
                if (at == before) at++;
            } else {
                at++;
                if (c == ';') return;
            }
        }
    }

    void keyword(String word) {
        space();
        if (!startsWithWord(word)) throw fail("expected " + word);
        at += word.length();
    }

    String identifierOrWord() {
        space();
        if (at < sql.length() && sql.charAt(at) == '"') return quoted('"');
        int start = at;
        while (at < sql.length() && (Character.isLetterOrDigit(sql.charAt(at)) || sql.charAt(at) == '_')) at++;
        if (start == at) throw fail("expected a name");
        return sql.substring(start, at);
    }

    List<String> columnList() {
        space();
        if (startsWithWord("VALUES") || startsWithWord("SELECT") || startsWithWord("DEFAULT")) {
            throw fail("INSERT without a column list (expected: INSERT INTO table (\"id\", \"revision\", ...) VALUES"
                + " ..., as export writes it): import matches values to components by column name, and guesses no order"
                + " (sqlite3's .dump writes no column list; import reads such a table from its database with --jdbc URL)");
        }
        expect('(');
        List<String> columns = new ArrayList<>();
        do {
            columns.add(identifierOrWord());
        } while (comma());
        expect(')');
        return columns;
    }

    /** Line and column in the whole text where the next token starts (a row's {@code (}, for errors naming the row). */
    int[] nextPlace() {
        space();
        return place(at);
    }

    List<Literal> valueList() {
        expect('(');
        List<Literal> values = new ArrayList<>();
        do {
            values.add(literal());
        } while (comma());
        expect(')');
        return values;
    }

    boolean comma() {
        space();
        if (at < sql.length() && sql.charAt(at) == ',') {
            at++;
            return true;
        }
        return false;
    }

    void statementEnd() {
        space();
        if (at < sql.length()) expect(';');
    }

    private Literal literal() {
        space();
        int start = at;
        Token l = token();
        return new Literal(l.kind(), l.text(), start, at);
    }

    /** A literal's kind and text, before {@link #literal} knows where it ends. */
    private record Token(LiteralKind kind, String text) { }

    private Token token() {
        if (at >= sql.length()) throw fail("expected a value");
        char c = sql.charAt(at);
        if (c == '\'') return new Token(LiteralKind.STRING, quoted('\''));
        if ((c == 'X' || c == 'x') && at + 1 < sql.length() && sql.charAt(at + 1) == '\'') {
            at++;
            String hex = quoted('\'');
            if (!hex.matches("([0-9a-fA-F]{2})*")) throw fail("X'" + hex + "' is not hex");
            return new Token(LiteralKind.BINARY, hex);
        }
        if (startsWithWord("DATE")) {
            at += 4;
            space();
            if (at >= sql.length() || sql.charAt(at) != '\'') throw fail("expected DATE 'yyyy-mm-dd'");
            return new Token(LiteralKind.STRING, quoted('\''));
        }
        for (String word : new String[] {"NULL", "TRUE", "FALSE"}) {
            if (startsWithWord(word)) {
                at += word.length();
                return new Token(word.equals("NULL") ? LiteralKind.NULL : LiteralKind.BOOLEAN,
                    word.toLowerCase(Locale.ROOT));
            }
        }
        int start = at;
        while (at < sql.length() && "+-.0123456789eE".indexOf(sql.charAt(at)) >= 0) at++;
        if (start == at) throw fail("expected a value");
        String number = sql.substring(start, at);
        if (!number.matches("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?")) throw fail("'" + number + "' is not a number");
        return new Token(LiteralKind.NUMBER, number);
    }

    /** Reads a literal or identifier quoted by {@code q}, with doubled quotes as escapes. */
    private String quoted(char q) {
        int open = at++;
        StringBuilder text = new StringBuilder();
        while (true) {
            if (at >= sql.length()) {
                at = open;
                throw fail("unterminated " + (q == '\'' ? "string" : "identifier"));
            }
            char c = sql.charAt(at++);
            if (c == q) {
                if (at < sql.length() && sql.charAt(at) == q) {
                    text.append(q);
                    at++;
                } else {
                    return text.toString();
                }
            } else {
                text.append(c);
            }
        }
    }

    private void expect(char c) {
        space();
        if (at >= sql.length() || sql.charAt(at) != c) throw fail("expected '" + c + "'");
        at++;
    }

    private boolean startsWithWord(String word) {
        int end = at + word.length();
        return sql.regionMatches(true, at, word, 0, word.length())
            && (end >= sql.length() || !Character.isLetterOrDigit(sql.charAt(end)));
    }

    private void space() {
        while (at < sql.length()) {
            char c = sql.charAt(at);
            if (Character.isWhitespace(c)) {
                at++;
            } else if (c == '-' && at + 1 < sql.length() && sql.charAt(at + 1) == '-') {
                while (at < sql.length() && sql.charAt(at) != '\n' && sql.charAt(at) != '\r') at++;
            } else if (c == '/' && at + 1 < sql.length() && sql.charAt(at + 1) == '*') {
                int end = sql.indexOf("*/", at + 2);
                if (end < 0) throw fail("a /* comment that does not end (expected: */)");
                at = end + 2;
            } else {
                return;
            }
        }
    }

    IllegalArgumentException fail(String what) {
        int[] place = place(at);
        return new IllegalArgumentException("SQL line " + place[0] + " column " + place[1] + ": " + what);
    }

    /** Line and column in the whole text of the statement's character at {@code offset}, counted at {@code \n}. */
    int[] place(int offset) {
        offset = Math.min(offset, sql.length());
        if (placeLine == 0 || offset < placeAt) {
            placeAt = 0;
            placeLine = firstLine;
            placeColumn = firstColumn;
        }
        for (; placeAt < offset; placeAt++) {
            if (sql.charAt(placeAt) == '\n') {
                placeLine++;
                placeColumn = 1;
            } else {
                placeColumn++;
            }
        }
        return new int[] {placeLine, placeColumn};
    }

    /** The literal as the text has it, shortened to 40 characters. */
    String source(Literal literal) {
        String text = sql.substring(literal.start(), literal.end());
        return text.length() <= 40 ? text : text.substring(0, 37) + "...";
    }
}
