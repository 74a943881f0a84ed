package dev.cairn.tools;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Standard output of a command that keeps the first write that failed. {@link PrintStream}
 * swallows the {@link IOException} of a failed write and only sets a flag ({@link
 * #checkError}): a full disk, a file size limit or a closed pipe left {@code cairn export}
 * exiting 0 after a cut-off export. {@link Main#run} asks {@link #failure(PrintStream)} once the
 * command is done and exits 2 with a line saying so; {@link #utf8(PrintStream)} writes through a
 * stream that throws, so that an export stops at the first failed write.
 */
final class Output extends PrintStream {
    private final Recorder recorder;

    /** Line-flushed, as {@code System.out} is (the server's journal lines must come out as they happen). */
    Output(OutputStream out, Charset charset) {
        this(new Recorder(out), charset);
    }

    private Output(Recorder recorder, Charset charset) {
        super(new BufferedOutputStream(recorder, 1 << 16), true, charset);
        this.recorder = recorder;
    }

    /**
     * Null when everything written to {@code out} so far reached it (flushed now), else why not:
     * the {@link IOException} of the first failed write where known (an {@code Output}), else
     * its kind.
     */
    static String failure(PrintStream out) {
        if (!out.checkError()) return null;
        IOException e = out instanceof Output o ? o.recorder.failure : null;
        if (e == null) return "a write failed";
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * A writer of UTF-8 text to {@code out}, whatever its charset, that throws {@link
     * IOException} once a write to {@code out} failed, so that the writing stops there. Flush it
     * before using {@code out} again. An export is UTF-8, which import reads: through {@code out}'s
     * charset ({@code stdout.encoding}, ASCII under a POSIX locale: cron, containers, {@code
     * LANG=C}) every other character came out as '?'.
     */
    static Writer utf8(PrintStream out) {
        OutputStream checked = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
                if (out.checkError()) throw new IOException("cannot write the output: " + failure(out));
            }

            @Override
            public void flush() throws IOException {
                if (out.checkError()) throw new IOException("cannot write the output: " + failure(out));
            }
        };
        // An encoder that reports what UTF-8 cannot hold (an unpaired surrogate) instead of writing '?'.
        return new java.io.BufferedWriter(new java.io.OutputStreamWriter(checked, StandardCharsets.UTF_8.newEncoder()),
            1 << 16);
    }

    /** Passes bytes on and keeps the first {@link IOException}, which the {@link PrintStream} above swallows. */
    private static final class Recorder extends FilterOutputStream {
        private IOException failure;

        Recorder(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                if (failure == null) failure = e;
                throw e;
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException e) {
                if (failure == null) failure = e;
                throw e;
            }
        }
    }
}
