package dev.cairn.schema;

import dev.cairn.internal.Limits;
import java.io.IOException;
import java.io.Reader;

/**
 * SQL text cut into statements as it is read, one at a time: each with the whitespace and
 * comments before it, up to and including its {@code ;} (the last: up to the end of the text),
 * and where it starts, so that the {@link SqlReader} of one names lines and columns of the whole
 * text. Quotes ({@code '…'} and {@code "…"}, the quote doubled inside) and comments ({@code --} to
 * the end of the line, {@code /*} to {@code *}{@code /}) are passed over as {@link SqlReader}
 * passes them, so a {@code ;} inside one ends no statement. Lines are counted at {@code \n} and
 * columns in characters, as {@link SqlReader#fail} counts them.
 */
final class SqlStatements {
    /** One statement and where its first character is in the text (1-based). */
    record Statement(String text, int line, int column) { }

    private enum State { CODE, QUOTED, LINE_COMMENT, BLOCK_COMMENT }

    private final Reader in;
    private final char[] buffer = new char[1 << 16];
    private int next;
    private int end;
    /** Line and column of the next character read. */
    private int line = 1;
    private int column = 1;

    SqlStatements(Reader in) {
        this.in = in;
    }

    /**
     * The next statement, null at the end of the text.
     *
     * @throws IllegalArgumentException a statement longer than {@link Limits#IMPORT_TEXT_CHARS_MAX}
     *     characters, or a quote or comment that does not end before the end of such a statement
     */
    Statement next() throws IOException {
        StringBuilder text = new StringBuilder();
        int startLine = line;
        int startColumn = column;
        State state = State.CODE;
        char quote = 0;
        int openLine = 0;
        int openColumn = 0;
        boolean tooLong = false;
        while (true) {
            int atLine = line;
            int atColumn = column;
            int c = read();
            if (c < 0) {
                if (tooLong) {
                    if (state == State.QUOTED) {
                        throw fail(openLine, openColumn, "unterminated " + (quote == '\'' ? "string" : "identifier"));
                    }
                    if (state == State.BLOCK_COMMENT) {
                        throw fail(openLine, openColumn, "a /* comment that does not end (expected: */)");
                    }
                    throw tooLong(startLine, startColumn);
                }
                return text.isEmpty() ? null : new Statement(text.toString(), startLine, startColumn);
            }
            if (!tooLong) {
                if (text.length() < Limits.IMPORT_TEXT_CHARS_MAX) {
                    text.append((char) c);
                } else {
                    tooLong = true;
                    text = new StringBuilder(); // no longer kept: only its end is looked for
                }
            }
            switch (state) {
                case CODE -> {
                    if (c == '\'' || c == '"') {
                        state = State.QUOTED;
                        quote = (char) c;
                        openLine = atLine;
                        openColumn = atColumn;
                    } else if (c == '-' && peek() == '-') {
                        state = State.LINE_COMMENT;
                    } else if (c == '/' && peek() == '*') {
                        state = State.BLOCK_COMMENT;
                        openLine = atLine;
                        openColumn = atColumn;
                        append(read(), text, tooLong); // the '*', which cannot also end the comment
                    } else if (c == ';') {
                        if (tooLong) throw tooLong(startLine, startColumn);
                        return new Statement(text.toString(), startLine, startColumn);
                    }
                }
                case QUOTED -> {
                    if (c == quote) {
                        if (peek() == quote) {
                            append(read(), text, tooLong);
                        } else {
                            state = State.CODE;
                        }
                    }
                }
                case LINE_COMMENT -> {
                    if (c == '\n' || c == '\r') state = State.CODE;
                }
                case BLOCK_COMMENT -> {
                    if (c == '*' && peek() == '/') {
                        append(read(), text, tooLong);
                        state = State.CODE;
                    }
                }
            }
        }
    }

    private static void append(int c, StringBuilder text, boolean tooLong) {
        if (!tooLong) text.append((char) c);
    }

    private static IllegalArgumentException tooLong(int line, int column) {
        return fail(line, column, String.format("a statement of more than %,d characters (expected: one record's INSERT,"
            + " far shorter)", Limits.IMPORT_TEXT_CHARS_MAX));
    }

    private static IllegalArgumentException fail(int line, int column, String what) {
        return new IllegalArgumentException("SQL line " + line + " column " + column + ": " + what);
    }

    private int read() throws IOException {
        if (next == end && !fill()) return -1;
        char c = buffer[next++];
        if (c == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
        return c;
    }

    private int peek() throws IOException {
        if (next == end && !fill()) return -1;
        return buffer[next];
    }

    private boolean fill() throws IOException {
        int n;
        do {
            n = in.read(buffer, 0, buffer.length);
        } while (n == 0);
        if (n < 0) return false;
        next = 0;
        end = n;
        return true;
    }
}
