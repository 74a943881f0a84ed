package dev.cairn.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A data file and a log that model the disk under a crash. Writes reach the files at once (as
 * the page cache would, so the store reads what it wrote); each file's writes are volatile until
 * that file is forced. Once armed, the {@code crashAt}-th write or force call crashes instead:
 * every volatile write is then kept, lost, torn (a random tail reverted to the old bytes) or
 * overwritten with garbage, each chosen at random, which is any state a disk may hold after
 * a power cut. A write inside one 512-byte sector (the log header) is atomic, as disks
 * guarantee for a sector: it is only kept or lost. From then on every write and force is dropped (the process is dead), so closing
 * the store afterwards changes nothing on disk.
 */
final class CrashingFiles {
    /** One volatile write: where, and the bytes it replaced. */
    private record Volatile(FileChannel file, long position, byte[] before, int length) { }

    static final int SECTOR = 512;
    private final List<Volatile> pending = new ArrayList<>();
    private final List<FileChannel> mine = new ArrayList<>();
    private Random random = new Random(0);
    private int crashAt = -1;
    private int calls;
    boolean dead;
    /** What the crash did to each volatile write, for failure messages. */
    final StringBuilder story = new StringBuilder();
    /** True once a force of the log returned after arming: a commit was acknowledged. */
    boolean logForced;

    /** Crash at the given write/force call from now on (0 = the next one). */
    void arm(int crashAt, long seed) {
        this.crashAt = crashAt;
        this.calls = 0;
        this.random = new Random(seed);
        this.logForced = false;
    }

    /** True if the crash came from {@link #crashNow}, after every call of the commit. */
    boolean crashedAfterTheLastCall;

    /** Crashes now, as if the machine lost power before the next call. */
    void crashNow() {
        crashedAfterTheLastCall = true;
        crash();
    }

    PageFile pageFile(StoreFile file, int pageBytes, boolean writable) {
        FileChannel raw = open(file.path);
        return new PageFile(file, pageBytes, writable) {
            @Override
            void write(long pageId, MemorySegment pages) {
                if (beforeCall()) return;
                // Each page of a write reaches the device on its own: any of them may be lost or torn.
                for (long at = 0; at < pages.byteSize(); at += pageBytes) remember(raw, pageId * pageBytes + at, pageBytes);
                super.write(pageId, pages);
            }

            @Override
            void force() {
                if (beforeCall()) return;
                super.force();
                durable(raw);
            }
        };
    }

    WalFile walFile(StoreFile file, int pageBytes, long databaseId) {
        FileChannel raw = open(file.path);
        return new WalFile(file, pageBytes, databaseId) {
            @Override
            void write(long position, ByteBuffer bytes) {
                if (beforeCall()) return;
                remember(raw, position, bytes.remaining());
                super.write(position, bytes);
            }

            @Override
            void force() {
                if (beforeCall()) return;
                super.force();
                durable(raw);
                logForced = true;
            }
        };
    }

    /** True if the call must be dropped (the process is dead, or it crashes now). */
    private boolean beforeCall() {
        if (dead) return true;
        if (crashAt >= 0 && calls++ == crashAt) {
            crash();
            return true;
        }
        return false;
    }

    private void remember(FileChannel file, long position, int length) {
        ByteBuffer old = ByteBuffer.allocate(length);
        try {
            while (old.hasRemaining()) {
                if (file.read(old, position + old.position()) < 0) break;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pending.add(new Volatile(file, position, old.array(), length));
    }

    private void durable(FileChannel file) {
        pending.removeIf(v -> v.file() == file);
    }

    private void crash() {
        dead = true;
        try {
            for (int i = pending.size() - 1; i >= 0; i--) {
                Volatile v = pending.get(i);
                boolean oneSector = v.position() / SECTOR == (v.position() + v.length() - 1) / SECTOR;
                int choice = random.nextInt(oneSector ? 6 : 10);
                if (choice < 4) {
                    story.append("kept ");
                } else if (choice < 6) {
                    story.append("lost ");
                    write(v.file(), v.position(), v.before(), 0, v.length());
                } else if (choice < 9) {
                    int cut = 1 + random.nextInt(Math.max(1, v.length() - 1));
                    story.append("torn@").append(cut).append(' ');
                    write(v.file(), v.position() + cut, v.before(), cut, v.length() - cut);
                } else {
                    byte[] garbage = new byte[v.length()];
                    random.nextBytes(garbage);
                    story.append("garbage ");
                    write(v.file(), v.position(), garbage, 0, v.length());
                }
            }
            pending.clear();
            for (FileChannel c : mine) c.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(FileChannel file, long position, byte[] bytes, int from, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes, from, length);
        while (b.hasRemaining()) position += file.write(b, position);
    }

    private FileChannel open(Path path) {
        try {
            FileChannel c = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            mine.add(c);
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
