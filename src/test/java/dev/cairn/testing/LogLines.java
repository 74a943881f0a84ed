package dev.cairn.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The messages one class logs (System.Logger, through java.util.logging), at every level, while
 * open: for tests that read what a component says (its retry waits, the names in its lines).
 */
public final class LogLines implements AutoCloseable {
    private final Logger logger;
    private final Level before;
    private final Handler handler;
    /** Every message logged since this was opened, in order. */
    public final List<String> lines = new CopyOnWriteArrayList<>();
    /** The records of those messages, for their level and thrown. */
    public final List<LogRecord> records = new CopyOnWriteArrayList<>();

    public LogLines(Class<?> source) {
        logger = Logger.getLogger(source.getName());
        handler = new Handler() {
            @Override public void publish(LogRecord r) {
                lines.add(r.getMessage());
                records.add(r);
            }
            @Override public void flush() { }
            @Override public void close() { }
        };
        handler.setLevel(Level.ALL);
        before = logger.getLevel();
        logger.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    /** The messages that contain {@code text}. */
    public List<String> containing(String text) {
        return lines.stream().filter(l -> l.contains(text)).toList();
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setLevel(before);
    }
}
