package dev.cairn.schema;

import java.util.List;

/**
 * Where the values of a SQL row's JSON record ({@link SqlColumn#json}) are in the SQL text, so
 * that an error in the record names the SQL line and column of the value, its column and, where
 * the record's text is not the file's (a quoted string, a date, a boolean), the literal as the
 * file has it, instead of a place in the record the file does not hold.
 */
record SqlRowOrigin(List<Value> values) implements JsonOrigin {
    /**
     * One column's value: where it starts and ends in the JSON record, its column, the line and column of
     * its literal in the SQL text and the literal as written; {@code same}: the JSON holds the
     * literal's text as the file does (a number; a JSON column's string, between its quotes).
     */
    record Value(int jsonStart, int jsonEnd, String column, int line, int columnInLine, String source, boolean same,
                 boolean quoted) { }

    @Override
    public String place(String text, int offset) {
        Value v = valueAt(offset);
        if (v == null) return "SQL row";
        if (!v.same()) {
            return "SQL line " + v.line() + " column " + v.columnInLine() + " (column " + v.column() + ", value " + v.source()
                + ")";
        }
        // the literal's characters, after its opening quote, with a quote doubled in the file
        int line = v.line();
        int column = v.columnInLine() + (v.quoted() ? 1 : 0);
        for (int i = v.jsonStart(); i < Math.min(offset, text.length()); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
                column = 1;
            } else {
                column += v.quoted() && c == '\'' ? 2 : 1;
            }
        }
        return "SQL line " + line + " column " + column + " (column " + v.column() + ")";
    }

    @Override
    public int quotableEnd(int offset) {
        Value v = valueAt(offset);
        return v != null && v.same() ? v.jsonEnd() : 0;
    }

    /** The value whose JSON text holds {@code offset}: the last one starting at or before it. */
    private Value valueAt(int offset) {
        Value found = null;
        for (Value v : values) {
            if (v.jsonStart() <= offset) found = v;
        }
        return found;
    }
}
