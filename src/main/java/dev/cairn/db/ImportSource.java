package dev.cairn.db;

import dev.cairn.internal.Limits;
import dev.cairn.schema.JsonOrigin;
import dev.cairn.schema.Schema;
import dev.cairn.schema.SqlForm;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The rows an import reads ({@link TreeImport}): JSON lines or SQL text, read one line or
 * statement at a time from a file or from text, or rows in a list (a JDBC table's).
 *
 * <p>A file is never held whole in memory: {@link TreeImport} reads it once to check every row,
 * keeping only its key and state, and {@link #readTwice() again} inside the transaction to store
 * the rows, so that neither its text nor the records it encodes are all in memory at once; the
 * transaction's changed pages are (README). A source that cannot be read twice (a pipe) or is in
 * memory already keeps the encoded records of the first reading instead.
 */
abstract class ImportSource {
    /** One reading of the rows, from the start. */
    interface Rows extends AutoCloseable {
        /**
         * The next row, null after the last.
         *
         * @throws IllegalArgumentException naming the row, for one that does not read
         * @throws UncheckedIOException the text cannot be read
         */
        ImportRow next();

        @Override
        void close();
    }

    /**
     * What a reading asks of an export's end line (record-format.md §10: {@code
     * {"cairn-export-end":{"tree":"T","records":N}}} after the last JSON line, {@code -- end of
     * export: N rows} after the last SQL statement), which tells a whole export from one cut short.
     */
    enum EndLine {
        /** A file in the export's form (keyed JSON lines, SQL rows) must end with it, and its count must hold. */
        REQUIRED,
        /** Its count must hold where there is one (text in memory, which no killed process cut short). */
        CHECKED,
        /** Its count is not compared (a part of a split export: the last part's end line counts them all). */
        NOT_COMPARED
    }

    /** Starts a reading of the rows from the start. */
    abstract Rows open();

    /** Whether the import reads the rows again to store them, rather than keeping them from the first reading. */
    abstract boolean readTwice();

    /** How errors name the row read at {@code index} (0-based) with that key: as its {@link ImportRow#where} did. */
    abstract String where(int index, int id, int revision);

    /** What errors call the source: the file, or "the text". */
    abstract String name();

    /**
     * Whether the last whole reading held the mark of an export: its end line (an empty tree's
     * export is that line alone), or SQL's {@code CREATE TABLE} of the table (what an empty
     * tree's SQL export was before end lines). An empty file is what an export that failed leaves
     * behind a shell redirect; an empty tree's export is never empty.
     */
    abstract boolean markedEmpty();

    // ---------------------------------------------------------------- sources

    /** JSON lines of {@code text} (exported lines or bare record objects), importing into the tree {@code tree}. */
    static ImportSource jsonLines(String text, String tree) {
        return new JsonLinesSource(null, text, tree, EndLine.CHECKED);
    }

    /**
     * JSON lines of a UTF-8 {@code file}, without the byte order mark some editors put first;
     * read twice where it is a regular file. An end line is checked where there is one.
     */
    static ImportSource jsonLines(Path file, String tree) {
        return jsonLines(file, tree, EndLine.CHECKED);
    }

    /** As {@link #jsonLines(Path, String)}, with {@code end} asked of the end line. */
    static ImportSource jsonLines(Path file, String tree, EndLine end) {
        return new JsonLinesSource(file, null, tree, end);
    }

    /** The rows of the {@code INSERT INTO table} statements of {@code text} ({@link SqlForm.Inserts}). */
    static ImportSource sql(String text, String table, Schema schema) {
        return new SqlSource(null, text, table, schema, EndLine.CHECKED);
    }

    /** As {@link #sql(String, String, Schema)}, from a UTF-8 {@code file} (a byte order mark skipped). */
    static ImportSource sql(Path file, String table, Schema schema) {
        return sql(file, table, schema, EndLine.CHECKED);
    }

    /** As {@link #sql(Path, String, Schema)}, with {@code end} asked of the end line. */
    static ImportSource sql(Path file, String table, Schema schema, EndLine end) {
        return new SqlSource(file, null, table, schema, end);
    }

    /** Rows in memory (a JDBC table's, read whole), named "row id.revision of table T". */
    static ImportSource rows(List<ImportRow> rows, String table) {
        return new ImportSource() {
            @Override
            Rows open() {
                var it = rows.iterator();
                return new Rows() {
                    @Override
                    public ImportRow next() {
                        return it.hasNext() ? it.next() : null;
                    }

                    @Override
                    public void close() { }
                };
            }

            @Override
            boolean readTwice() {
                return false;
            }

            @Override
            String where(int index, int id, int revision) {
                return SqlSource.rowWhere(id, revision, table);
            }

            @Override
            String name() {
                return "table " + table;
            }

            @Override
            boolean markedEmpty() {
                return false;
            }
        };
    }

    /** A reader of the file or the text: UTF-8, malformed input refused, a byte order mark at the start skipped. */
    static Reader reader(Path file, String text) {
        if (file == null) return new StringReader(text);
        try {
            return new BomSkipping(new Utf8(Files.newInputStream(file)));
        } catch (IOException e) {
            throw cannotRead(file, e, 0);
        }
    }

    static UncheckedIOException cannotRead(Path file, IOException e, long line) {
        String why = e instanceof NoSuchFileException ? "no such file"
            : e instanceof NotUtf8 n ? "it is not UTF-8 text (at byte " + n.at + (line > 0 ? ", line " + line : "") + ")"
            : e instanceof CharacterCodingException ? "it is not UTF-8 text"
            : e instanceof java.nio.file.AccessDeniedException ? "access denied (to user " + System.getProperty("user.name")
                + ": see its owner and permissions)"
            : e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return new UncheckedIOException("cannot read " + file + ": " + why, e);
    }

    /** Bytes that are no UTF-8, at byte {@code at} of the file. */
    static final class NotUtf8 extends CharacterCodingException {
        private static final long serialVersionUID = 1L;
        final long at;

        NotUtf8(long at) {
            this.at = at;
        }

        @Override
        public String getMessage() {
            return "not UTF-8 at byte " + at;
        }
    }

    /**
     * The characters of UTF-8 bytes; bytes that are no UTF-8 are refused ({@link NotUtf8}) after
     * every character before them was read (an {@link java.io.InputStreamReader} refuses a whole buffer
     * at once, so the line of the bytes could not be told).
     */
    private static final class Utf8 extends Reader {
        private final java.io.InputStream in;
        private final java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
        private final java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(1 << 16).flip();
        /** Byte of the file at index 0 of {@code bytes}. */
        private long base;
        private boolean eof;
        private boolean flushed;
        private NotUtf8 refused;

        Utf8(java.io.InputStream in) {
            this.in = in;
        }

        /** The second char of a pair read for a read of one char; -1: none. */
        private int held = -1;

        @Override
        public int read(char[] into, int off, int len) throws IOException {
            if (len == 0) return 0;
            if (held >= 0) {
                into[off] = (char) held;
                held = -1;
                return 1;
            }
            if (len == 1) { // a surrogate pair needs room for two
                char[] two = new char[2];
                int n = read(two, 0, 2);
                if (n == 2) held = two[1];
                if (n > 0) into[off] = two[0];
                return Math.min(n, 1);
            }
            if (refused != null) throw refused;
            if (flushed) return -1;
            java.nio.CharBuffer out = java.nio.CharBuffer.wrap(into, off, len);
            while (true) {
                java.nio.charset.CoderResult r = decoder.decode(bytes, out, eof);
                if (r.isError()) {
                    refused = new NotUtf8(base + bytes.position());
                    if (out.position() > off) return out.position() - off;
                    throw refused;
                }
                if (out.position() > off) return out.position() - off;
                if (eof) {
                    if (!flushed) {
                        flushed = true;
                        decoder.flush(out);
                        if (out.position() > off) return out.position() - off;
                    }
                    return -1;
                }
                base += bytes.position();
                bytes.compact();
                int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
                if (n < 0) {
                    eof = true;
                } else {
                    bytes.position(bytes.position() + n);
                }
                bytes.flip();
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Passes a reader's characters on, without a U+FEFF first (a byte order mark: an encoding mark, not data). */
    private static final class BomSkipping extends Reader {
        private final Reader in;
        private boolean started;

        BomSkipping(Reader in) {
            this.in = in;
        }

        @Override
        public int read(char[] into, int off, int len) throws IOException {
            int n = in.read(into, off, len);
            if (!started && n > 0) {
                started = true;
                if (into[off] == '\uFEFF') {
                    System.arraycopy(into, off + 1, into, off, n - 1);
                    n--;
                    if (n == 0) return read(into, off, len);
                }
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** A source read from a file or from a text in memory: what the JSON-lines and SQL forms share. */
    private abstract static class TextSource extends ImportSource {
        /** The file, or null when the rows come from {@link #text}. */
        final Path file;
        final String text;
        final EndLine end;
        /** Set by the last whole reading: see {@link #markedEmpty()}. */
        boolean markedEmpty;

        TextSource(Path file, String text, EndLine end) {
            this.file = file;
            this.text = text;
            this.end = end;
        }

        /**
         * At the end of a reading that held {@code rows} rows (of which some {@code keyed}) and an
         * end line counting {@code said} ({@code endWhere}; -1 when there was none): refuses a
         * count that disagrees, and, where the end line is required, a file of keyed rows
         * without one (an export cut short: the rows after its last line are missing).
         */
        void checkEnd(long said, String endWhere, long rows, boolean keyed, String endLineForm) {
            if (said >= 0 && end != EndLine.NOT_COMPARED && said != rows) {
                throw ImportRow.endLineDisagrees(endWhere, said, rows);
            }
            if (said < 0 && end == EndLine.REQUIRED && keyed) {
                throw new IllegalArgumentException(name() + " ends without the end line " + endLineForm + " that cairn export"
                    + " writes after the last record (it holds " + rows + " record" + (rows == 1 ? "" : "s") + "): an export"
                    + " cut short (killed, its disk full) ends like this, without the records after its last line (nothing"
                    + " imported). Export the tree again. A file that is whole without one (a part of a split export,"
                    + " an export by an older cairn, rows another program wrote) imports with cairn import"
                    + " --no-end-check (in code: checkEnd false)");
            }
        }

        @Override
        boolean readTwice() {
            return file != null && Files.isRegularFile(file);
        }

        @Override
        String name() {
            return file != null ? file.toString() : "the text";
        }

        @Override
        boolean markedEmpty() {
            return markedEmpty;
        }
    }

    // ---------------------------------------------------------------- JSON lines

    private static final class JsonLinesSource extends TextSource {
        private final String tree;

        JsonLinesSource(Path file, String text, String tree, EndLine end) {
            super(file, text, end);
            this.tree = tree;
        }

        @Override
        Rows open() {
            markedEmpty = false;
            LineReader lines = new LineReader(reader(file, text), file);
            return new Rows() {
                private long records;
                private boolean keyed;
                /** The end line's count, -1 before it. */
                private long endCount = -1;
                private String endWhere;
                private boolean first = true;
                /** A line read ahead of its turn (after a first line that may be an older empty export), or null. */
                private String ahead;
                private long aheadLine;
                private long aheadColumn;

                /** As {@link ImportRow#ofJsonLines} reads every line of a text. */
                @Override
                public ImportRow next() {
                    while (true) {
                        String where = "record " + (records + 1);
                        String l;
                        long line;
                        long column;
                        if (ahead != null) {
                            l = ahead;
                            line = aheadLine;
                            column = aheadColumn;
                            ahead = null;
                        } else {
                            l = lines.next(where);
                            line = lines.line();
                            column = lines.column();
                        }
                        if (l == null) return end();
                        if (endCount >= 0) throw ImportRow.afterEndLine("line " + line, endWhere);
                        JsonOrigin.At origin = JsonOrigin.at(line, column);
                        String endAt = "the end line at line " + line;
                        long count = ImportRow.endLineCount(l, endAt, tree, origin);
                        if (count >= 0) {
                            endCount = count;
                            endWhere = endAt;
                            continue;
                        }
                        if (first) {
                            first = false;
                            String older = ImportRow.olderEmptyExportTree(l, where);
                            if (older != null) {
                                ahead = lines.next("record 2");
                                aheadLine = lines.line();
                                aheadColumn = lines.column();
                                if (ahead == null) { // the file's only line: an older cairn's export of an empty tree
                                    String at = "the line of an empty tree's export at line " + line;
                                    ImportRow.refuseOtherTree(older, tree, at);
                                    endCount = 0;
                                    endWhere = at;
                                    return end();
                                }
                            }
                        }
                        ImportRow row = ImportRow.ofLine(l, where, origin);
                        records++;
                        keyed |= row.keyed();
                        return row;
                    }
                }

                private ImportRow end() {
                    checkEnd(endCount, endWhere, records, keyed, ImportRow.endLineForm(tree));
                    markedEmpty = endCount >= 0;
                    return null;
                }

                @Override
                public void close() {
                    lines.close();
                }
            };
        }

        @Override
        String where(int index, int id, int revision) {
            // every line but blank ones is a row: the end line comes after them all
            return "record " + (index + 1);
        }
    }

    /**
     * The lines of a text, each stripped, blank ones skipped, ending at {@code \n}, {@code \r} or
     * {@code \r\n} only (U+2028, U+2029 and U+0085 are characters of a value: record-format.md
     * §10), as {@link String#lines} and {@link String#strip} make them. A line is at most {@link
     * Limits#IMPORT_TEXT_CHARS_MAX} characters; one whose first character is not the {@code {}
     * every exported line and record object starts with is not read further than its first
     * characters (its error needs no more: a file of other data, such as a sparse file of zeros,
     * is refused at once rather than read whole).
     */
    private static final class LineReader {
        private static final int NOT_JSON_CHARS = 64;

        private final Reader in;
        private final Path file;
        private final char[] buffer = new char[1 << 16];
        private int next;
        private int end;
        /** Line ends passed so far, for a read error's line. */
        private long lineEnds;
        private boolean afterCr;
        /** Characters of the current line read so far. */
        private long column;
        /** Line and column of the first character of the line {@link #next} returned last. */
        private long lineLine;
        private long lineColumn;
        private final StringBuilder line = new StringBuilder();

        LineReader(Reader in, Path file) {
            this.in = in;
            this.file = file;
        }

        /** The next non-blank line, stripped; null after the last. {@code where} names it in an error. */
        String next(String where) {
            try {
                int c;
                do {
                    c = read();
                } while (c >= 0 && Character.isWhitespace(c));
                if (c < 0) return null;
                lineLine = lineEnds + 1;
                lineColumn = column;
                line.setLength(0);
                line.append((char) c);
                int limit = c == '{' ? Limits.IMPORT_TEXT_CHARS_MAX : NOT_JSON_CHARS;
                boolean cut = false;
                while ((c = read()) >= 0 && c != '\n' && c != '\r') {
                    if (line.length() == limit) {
                        if (limit == NOT_JSON_CHARS) { // enough for its error: the caller refuses it
                            cut = true;
                            break;
                        }
                        throw new IllegalArgumentException(String.format("%s: a line of more than %,d characters (expected: one"
                            + " record's JSON, far shorter)", where, Limits.IMPORT_TEXT_CHARS_MAX));
                    }
                    line.append((char) c);
                }
                // A cut line keeps its trailing whitespace when more than whitespace follows it on
                // the line: the error then shows what the whole line, stripped, starts with.
                String l = cut && restOfLineHoldsMore() ? line.toString() : line.toString().stripTrailing();
                if (line.capacity() > 1 << 20) {
                    line.setLength(0);
                    line.trimToSize(); // a long line's buffer is not kept for the short ones after it
                }
                return l;
            } catch (IOException e) {
                throw cannotRead(file, e, lineEnds + 1);
            }
        }

        /** Reads on to the line's end or its first character that is not whitespace; true at such a character. */
        private boolean restOfLineHoldsMore() throws IOException {
            for (int c = read(); c >= 0 && c != '\n' && c != '\r'; c = read()) {
                if (!Character.isWhitespace(c)) return true;
            }
            return false;
        }

        private int read() throws IOException {
            if (next == end) {
                int n;
                do {
                    n = in.read(buffer, 0, buffer.length);
                } while (n == 0);
                if (n < 0) return -1;
                next = 0;
                end = n;
            }
            char c = buffer[next++];
            if (c == '\n') {
                if (!afterCr) lineEnds++;
                afterCr = false;
                column = 0;
            } else {
                afterCr = c == '\r';
                if (afterCr) lineEnds++;
                column = afterCr ? 0 : column + 1;
            }
            return c;
        }

        /** The line (1-based, counted at \n, \r and \r\n) of the first character of the line {@link #next} returned last. */
        long line() {
            return lineLine;
        }

        /** The column (1-based) of that character: leading whitespace counts. */
        long column() {
            return lineColumn;
        }

        void close() {
            try {
                in.close();
            } catch (IOException e) {
                // read to its end or given up: nothing is lost by a failed close of a file only read
            }
        }
    }

    // ---------------------------------------------------------------- SQL

    private static final class SqlSource extends TextSource {
        private final String table;
        private final Schema schema;
        /**
         * Where each row read starts, by index: SQL line in the high half, column in the low, so
         * that errors tell apart rows holding one key (8 bytes a row, as the import keeps its key).
         */
        private long[] places = new long[64];

        SqlSource(Path file, String text, String table, Schema schema, EndLine end) {
            super(file, text, end);
            this.table = table;
            this.schema = schema;
        }

        static String rowWhere(int id, int revision, String table) {
            return "row " + id + "." + revision + " of table " + table;
        }

        @Override
        Rows open() {
            markedEmpty = false;
            LastLine in = new LastLine(reader(file, text));
            SqlForm.Inserts inserts = new SqlForm.Inserts(in, table, schema);
            return new Rows() {
                private int index;

                @Override
                public ImportRow next() {
                    SqlForm.Row r;
                    try {
                        r = inserts.next();
                    } catch (IOException e) {
                        throw cannotRead(file, e, 0);
                    }
                    if (r == null) {
                        long said = SqlForm.endLineRows(in.last());
                        checkEnd(said, "the end line at SQL line " + in.lastLine(), index, index > 0, SqlForm.END_LINE_FORM);
                        markedEmpty = inserts.createdTable() || said >= 0;
                        return null;
                    }
                    if (index == places.length) places = java.util.Arrays.copyOf(places, index * 2);
                    places[index++] = (long) r.line() << 32 | r.column();
                    return new ImportRow(null, r.id(), r.revision(), r.json(), rowWhere(r.id(), r.revision(), table), null,
                        r.origin());
                }

                @Override
                public void close() {
                    try {
                        in.close();
                    } catch (IOException e) {
                        // a file only read: nothing is lost
                    }
                }
            };
        }

        /** The row's key and where its {@code (...)} starts: two rows may hold one key. */
        @Override
        String where(int index, int id, int revision) {
            long place = places[index];
            return rowWhere(id, revision, table) + " at SQL line " + (place >>> 32) + " column " + (int) place;
        }
    }

    /**
     * Passes a reader's characters on, keeping its last line that is not blank (stripped; one
     * longer than an end line is kept as a mark only): where an SQL export's end line is.
     */
    private static final class LastLine extends Reader {
        private static final int KEPT_CHARS = 64;
        private final Reader in;
        private final StringBuilder line = new StringBuilder();
        private boolean lineLong;
        private long lineNumber = 1;
        private boolean afterCr;
        private String last = "";
        private long lastNumber;

        LastLine(Reader in) {
            this.in = in;
        }

        @Override
        public int read(char[] into, int off, int len) throws IOException {
            int n = in.read(into, off, len);
            for (int i = off; i < off + n; i++) see(into[i]);
            return n;
        }

        private void see(char c) {
            if (c == '\n' || c == '\r') {
                if (!(c == '\n' && afterCr)) {
                    endLine();
                    lineNumber++;
                }
                afterCr = c == '\r';
                return;
            }
            afterCr = false;
            if (line.length() < KEPT_CHARS) {
                line.append(c);
            } else {
                lineLong = true;
            }
        }

        private void endLine() {
            if (lineLong || !line.toString().isBlank()) {
                last = lineLong ? "" : line.toString().strip();
                lastNumber = lineNumber;
            }
            line.setLength(0);
            lineLong = false;
        }

        /** The last line that is not blank, stripped ("" for a long one), once the reader is read to its end. */
        String last() {
            endLine();
            return last;
        }

        /** Its line number (1-based). */
        long lastLine() {
            return lastNumber;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
