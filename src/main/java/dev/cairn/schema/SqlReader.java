package dev.cairn.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the {@code INSERT} statements that {@link SqlForm} writes: a small tokenizer over SQL
 * text with quoted identifiers, string literals ({@code ''} escapes), {@code X'hex'},
 * {@code DATE '...'}, numbers, {@code TRUE}/{@code FALSE}/{@code NULL}, and {@code --} comments.
 * Errors name the line and column. Every step consumes input, so no text can make it loop.
 */
final class SqlReader {
    enum LiteralKind { NULL, BOOLEAN, NUMBER, STRING, BINARY }

    record Literal(LiteralKind kind, String text) {
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

    SqlReader(String sql) {
        this.sql = sql;
    }

    /** Moves past the next {@code INSERT INTO} at the start of a statement; false at the end. */
    boolean skipToInsert() {
        while (true) {
            space();
            if (at >= sql.length()) return false;
            if (startsWithWord("INSERT")) {
                at += "INSERT".length();
                keyword("INTO");
                return true;
            }
            skipStatement();
        }
    }

    private void skipStatement() {
        while (at < sql.length()) {
            char c = sql.charAt(at);
            if (c == '\'' || c == '"') {
                quoted(c);
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
        expect('(');
        List<String> columns = new ArrayList<>();
        do {
            columns.add(identifierOrWord());
        } while (comma());
        expect(')');
        return columns;
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
        if (at >= sql.length()) throw fail("expected a value");
        char c = sql.charAt(at);
        if (c == '\'') return new Literal(LiteralKind.STRING, quoted('\''));
        if ((c == 'X' || c == 'x') && at + 1 < sql.length() && sql.charAt(at + 1) == '\'') {
            at++;
            String hex = quoted('\'');
            if (!hex.matches("([0-9a-fA-F]{2})*")) throw fail("X'" + hex + "' is not hex");
            return new Literal(LiteralKind.BINARY, hex);
        }
        if (startsWithWord("DATE")) {
            at += 4;
            space();
            if (at >= sql.length() || sql.charAt(at) != '\'') throw fail("expected DATE 'yyyy-mm-dd'");
            return new Literal(LiteralKind.STRING, quoted('\''));
        }
        for (String word : new String[] {"NULL", "TRUE", "FALSE"}) {
            if (startsWithWord(word)) {
                at += word.length();
                return new Literal(word.equals("NULL") ? LiteralKind.NULL : LiteralKind.BOOLEAN,
                    word.toLowerCase(Locale.ROOT));
            }
        }
        int start = at;
        while (at < sql.length() && "+-.0123456789eE".indexOf(sql.charAt(at)) >= 0) at++;
        if (start == at) throw fail("expected a value");
        String number = sql.substring(start, at);
        if (!number.matches("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?")) throw fail("'" + number + "' is not a number");
        return new Literal(LiteralKind.NUMBER, number);
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
                while (at < sql.length() && sql.charAt(at) != '\n') at++;
            } else {
                return;
            }
        }
    }

    IllegalArgumentException fail(String what) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < Math.min(at, sql.length()); i++) {
            if (sql.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new IllegalArgumentException("SQL line " + line + " column " + column + ": " + what);
    }
}
