package dev.cairn.store;

import dev.cairn.CairnException;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

import static dev.cairn.store.PageLayout.*;

/**
 * Online backup (storage-format.md §8): copies header and pages [3, pageCount) of a pinned
 * snapshot, then writes that snapshot's meta into slot 1 and an empty slot 2. Pages reachable
 * from the snapshot cannot change while it is pinned; free pages may be mid-write by the
 * writer, which does not matter because the copy's free list says they are free.
 */
final class Backup {
    private Backup() { }

    static void copy(Store store, ReadTxn reader, Path targetDir) {
        Path data = targetDir.resolve(Store.DATA_FILE);
        Path partial = targetDir.resolve(Store.DATA_FILE + ".new");
        checkTarget(store.directory(), targetDir, "backup");
        Path createdFrom = firstMissing(targetDir);
        try {
            Files.createDirectories(targetDir);
            PageFile file = store.pageFile;
            int pageBytes = file.pageBytes;
            MetaPage.Meta meta = reader.snapshot.meta;
            try (FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                write(out, file.page(reader.chunks, 0), 0);
                MemorySegment metas = MemorySegment.ofArray(new byte[2 * pageBytes]);
                MetaPage.write(metas.asSlice(0, pageBytes), 1, meta);
                write(out, metas, pageBytes);
                long batch = PageFile.CHUNK_PAGES;
                for (long p = FIRST_DATA_PAGE; p < meta.pageCount(); p += batch) {
                    long n = Math.min(batch, meta.pageCount() - p);
                    write(out, file.run(reader.chunks, p, n), p * pageBytes);
                }
                out.force(true);
            }
            Files.move(partial, data, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new CairnException("backup of " + store.directory() + " into " + targetDir + " failed: " + e.getMessage()
                + removePartial(targetDir, createdFrom), e);
        }
    }

    /**
     * Refuses a target folder holding a data file or a log: a log left there (say, of a database
     * whose data file was deleted) is read when the copy is opened, and its frames past the
     * copy's txn id would be replayed onto it.
     */
    static void checkTarget(Path sourceDir, Path targetDir, String what) {
        Path source = realPath(sourceDir);
        Path target = realPath(targetDir);
        if (target.startsWith(source)) {
            // A copy must not write into the folder it copies (nor would a copy of a copy be wanted there).
            throw new IllegalArgumentException(what + " target " + targetDir + " is " + (target.equals(source) ? "" : "inside ")
                + "the database folder " + sourceDir + " (expected: a folder outside it)");
        }
        if (Files.exists(targetDir) && !Files.isDirectory(targetDir)) {
            throw new IllegalArgumentException(what + " target " + targetDir + " is a file, not a folder");
        }
        for (String name : new String[] {Store.DATA_FILE, Store.WAL_FILE}) {
            if (Files.exists(targetDir.resolve(name))) {
                throw new IllegalArgumentException(what + " target " + targetDir + " already holds a database (" + name + ")");
            }
        }
    }

    /**
     * Where {@code path} leads, symbolic links followed (also a dangling one, and in the part of
     * the path that does not exist yet), so that no link can take a copy into its own folder.
     */
    static Path realPath(Path path) {
        Path p = path.toAbsolutePath();
        for (int links = 0; links < 40; links++) {
            Path existing = p;
            while (existing != null && !Files.exists(existing, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                existing = existing.getParent();
            }
            if (existing == null) return p.normalize();
            Path rest = existing.relativize(p);
            if (Files.isSymbolicLink(existing) && !Files.exists(existing)) {
                try {
                    // A dangling link: it leads where it points, which the copy would create.
                    Path to = Files.readSymbolicLink(existing);
                    p = existing.resolveSibling(to).resolve(rest);
                    continue;
                } catch (IOException e) {
                    return p.normalize();
                }
            }
            try {
                return existing.toRealPath().resolve(rest).normalize();
            } catch (IOException e) {
                return p.normalize();
            }
        }
        return p.normalize();
    }

    /**
     * The top folder that creating {@code dir} makes (null when {@code dir} exists): what a failed
     * copy removes again, when empty, with every folder between it and {@code dir}.
     */
    static Path firstMissing(Path dir) {
        Path p = dir.toAbsolutePath();
        if (Files.exists(p)) return null;
        while (p.getParent() != null && !Files.exists(p.getParent())) p = p.getParent();
        return p;
    }

    /**
     * After a failed copy into {@code targetDir}: removes the files a copy writes there
     * ({@link #checkTarget} made sure none were there before), and the folders the copy created
     * (from {@code createdFrom}, see {@link #firstMissing}; null: none) that are empty now, so
     * that the copy can be retried. Says so, for the message.
     */
    static String removePartial(Path targetDir, Path createdFrom) {
        try {
            for (String name : new String[] {Store.DATA_FILE, Store.WAL_FILE, Store.DATA_FILE + ".new"}) {
                Files.deleteIfExists(targetDir.resolve(name));
            }
            removeCreatedFolders(targetDir, createdFrom);
            return "; the partial copy was removed";
        } catch (IOException e) {
            return "; the partial copy could not be removed (" + e.getMessage() + "): delete " + targetDir + " before retrying";
        }
    }

    /**
     * Deletes {@code dir} and its parents up to {@code createdFrom} (null: none), each only while
     * empty. No directory stream: it runs after a copy that ran out of heap, and {@code
     * Files.list} links a lambda, a linkage that once failed for want of heap fails for the
     * JVM's life. (Probably why one run of probe 95's program left all 35 of its later target
     * folders behind, empty; not confirmed.)
     */
    static void removeCreatedFolders(Path dir, Path createdFrom) throws IOException {
        if (createdFrom == null) return;
        for (Path p = dir.toAbsolutePath(); p != null && p.startsWith(createdFrom); p = p.getParent()) {
            try {
                Files.delete(p);
            } catch (java.nio.file.NoSuchFileException e) {
                // The copy failed before it made this one.
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                return;
            }
        }
    }

    private static void write(FileChannel out, MemorySegment bytes, long position) throws IOException {
        ByteBuffer b = bytes.asByteBuffer();
        while (b.hasRemaining()) position += out.write(b, position);
    }
}
