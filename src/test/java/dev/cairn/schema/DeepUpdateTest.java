package dev.cairn.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * An update by older code of newer data as deep as the format allows: the merge (§6.4) counts
 * levels as encode and decode do (§1), so a scalar on the deepest record is changed, not refused.
 */
class DeepUpdateTest {
    interface N {
        record Link(int v, String extra, Link next) { }

        record Root(Link first) { }
    }

    interface O {
        record Link(int v, Link next) { }

        record Root(Link first) { }
    }

    static N.Link chain(int links, int from) {
        N.Link l = null;
        for (int i = links - 1; i >= 0; i--) l = new N.Link(from + i, "x" + i, l);
        return l;
    }

    static O.Link bumpLast(O.Link l) {
        return l.next() == null ? new O.Link(l.v() + 1000, null) : new O.Link(l.v(), bumpLast(l.next()));
    }

    static N.Link last(N.Link l) {
        return l.next() == null ? l : last(l.next());
    }

    @Test
    void theDeepestScalarOfNewerDataCanBeChangedByOlderCode() {
        SchemaVersions versions = new SchemaVersions();
        versions.add(Schema.derive(O.Root.class));
        versions.add(Schema.derive(N.Root.class));
        RecordCodec<O.Root> old = RecordCodec.of(O.Root.class, "T", versions);
        RecordCodec<N.Root> now = RecordCodec.of(N.Root.class, "T", versions);
        int links = Bin.DEPTH_MAX; // the root at depth 0, links at 1..100, their scalars at 101
        assertThrows(IllegalArgumentException.class, () -> now.encode(new N.Root(chain(links + 1, 0))), "one more is too deep");
        MemorySegment stored = MemorySegment.ofArray(now.encode(new N.Root(chain(links, 0))));
        O.Root changed = new O.Root(bumpLast(old.decode(stored).first()));
        N.Root got = now.decode(MemorySegment.ofArray(old.encodeUpdate(changed, stored)));
        assertEquals(new N.Link(links - 1 + 1000, "x" + (links - 1), null), last(got.first()));
        assertEquals("x0", got.first().extra(), "the unknown component kept all the way down");
    }
}
