package dev.cairn.schema;

/**
 * Where the characters of a JSON text are in the file it was read from, so that a parse error
 * names the file's line and column rather than the text's (an import, record-format.md §10): a
 * JSON line's value object sits in the middle of its line, and a SQL row's JSON record is built
 * from the row's literals. Without an origin, errors name places in the text itself ("JSON line
 * L column C").
 */
public sealed interface JsonOrigin permits JsonOrigin.At, SqlRowOrigin {
    /** How an error names the place of {@code text}'s character at {@code offset}, e.g. "line 3 column 45". */
    String place(String text, int offset);

    /**
     * Where the file's own text that holds {@code offset} ends in the JSON text, so that an
     * error may quote it up to there ("found '...'"); {@code offset} or less: the JSON text there
     * is not the file's (a value rewritten as JSON), and an error quotes nothing.
     */
    int quotableEnd(int offset);

    /** A JSON text that is the file's own text from {@code line}, {@code column} on (both 1-based). */
    static At at(long line, long column) {
        return new At(line, column);
    }

    /** See {@link #at}. */
    record At(long line, long column) implements JsonOrigin {
        @Override
        public String place(String text, int offset) {
            long[] place = advance(text, offset, line, column);
            return "line " + place[0] + " column " + place[1];
        }

        @Override
        public int quotableEnd(int offset) {
            return Integer.MAX_VALUE;
        }

        /** The origin of the part of {@code text} (of this origin) that starts at {@code offset}. */
        public At shifted(String text, int offset) {
            long[] place = advance(text, offset, line, column);
            return new At(place[0], place[1]);
        }

        /**
         * Line and column of {@code text}'s character at {@code offset} when its first is at
         * {@code line}, {@code column}: lines counted at {@code \n}, as the JSON parser and the
         * SQL reader count them.
         */
        static long[] advance(String text, int offset, long line, long column) {
            for (int i = 0; i < Math.min(offset, text.length()); i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                    column = 1;
                } else {
                    column++;
                }
            }
            return new long[] {line, column};
        }
    }
}
