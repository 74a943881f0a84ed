package dev.cairn.store;

import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A PageFile that, once armed, damages the writes of the next commit the way a crash during
 * that commit could have left them: the meta page or one data page garbage, half-written, or
 * never written at all. It holds the commit's data writes until the meta write (the last
 * write of a commit), then applies them with the damage.
 */
final class FaultyPageFile extends PageFile {
    enum Fault { NONE, META_GARBAGE, META_TORN, META_LOST, DATA_GARBAGE, DATA_TORN, DATA_LOST }

    private record Held(long pageId, MemorySegment page) { }

    private final List<Held> held = new ArrayList<>();
    private Fault fault = Fault.NONE;
    private Random random = new Random(0);
    private boolean armed;
    String damage = "";
    /** False when the armed fault left the bytes as intended (a tear that changed nothing). */
    boolean torn = true;

    FaultyPageFile(Path path, FileChannel channel, int pageBytes, boolean writable) {
        super(path, channel, pageBytes, writable);
    }

    /** Damages the next commit's writes. */
    void arm(Fault f, long seed) {
        fault = f;
        torn = true;
        random = new Random(seed);
        armed = true;
        held.clear();
    }

    @Override
    void write(long pageId, MemorySegment pages) {
        if (!armed) {
            super.write(pageId, pages);
            return;
        }
        if (pageId != 1 && pageId != 2) {
            long n = pages.byteSize() / pageBytes;
            for (long i = 0; i < n; i++) {
                held.add(new Held(pageId + i, MemorySegment.ofArray(pages.asSlice(i * pageBytes, pageBytes).toArray(PageLayout.U8))));
            }
            return;
        }
        armed = false;
        int victim = held.isEmpty() ? -1 : random.nextInt(held.size());
        for (int i = 0; i < held.size(); i++) {
            Held h = held.get(i);
            if (i != victim) {
                super.write(h.pageId(), h.page());
                continue;
            }
            switch (fault) {
                case DATA_GARBAGE -> super.write(h.pageId(), garbage(pageBytes));
                case DATA_TORN -> writeHalf(h.pageId(), h.page());
                case DATA_LOST -> { }
                default -> super.write(h.pageId(), h.page());
            }
            if (fault.name().startsWith("DATA")) damage = fault + " at page " + h.pageId();
        }
        switch (fault) {
            case META_GARBAGE -> super.write(pageId, garbage(pages.byteSize()));
            case META_TORN -> writeHalf(pageId, pages);
            case META_LOST -> { }
            default -> super.write(pageId, pages);
        }
        if (fault.name().startsWith("META")) damage = fault + " at meta page " + pageId;
        if (fault == Fault.NONE) torn = false;
    }

    /**
     * Writes the page's first bytes up to a random cut below 256 over what the file holds there
     * (every page kind has meaningful bytes past 256 or is all new there). When
     * the result happens to equal the intended page, the write was not torn at all.
     */
    private void writeHalf(long pageId, MemorySegment page) {
        MemorySegment mixed = MemorySegment.ofArray(new byte[pageBytes]);
        MemorySegment.copy(page(chunks(), pageId), 0, mixed, 0, pageBytes);
        int cut = 4 + random.nextInt(252);
        MemorySegment.copy(page, 0, mixed, 0, cut);
        if (mixed.mismatch(page) < 0) torn = false;
        super.write(pageId, mixed);
    }

    private MemorySegment garbage(long bytes) {
        byte[] b = new byte[(int) bytes];
        random.nextBytes(b);
        return MemorySegment.ofArray(b);
    }
}
