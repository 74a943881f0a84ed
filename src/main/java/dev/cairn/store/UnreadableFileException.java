package dev.cairn.store;

import dev.cairn.CairnException;
import java.nio.file.Path;

/**
 * A file of a database folder that a copy of it ({@link Store#copyAsIs}, {@link ForeignBackup})
 * cannot read: its permissions (a folder of another user), or a read that failed. The message
 * names the file and why; the failure is the source's, not the target's.
 */
public final class UnreadableFileException extends CairnException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    UnreadableFileException(Path file, String message, Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    /** The file that cannot be read. */
    public Path file() {
        return file;
    }
}
