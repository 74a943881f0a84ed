package dev.cairn.index;

import dev.cairn.Key;

/**
 * One result of {@link MultiNameIndex#search}: the record, the name of it that matched best, how
 * it matched, and a score in (0, 1] (1 = exact) by which hits are ranked.
 */
public record Hit<V>(Key<V> key, String name, Match match, double score) {
    /** How a name matched a query, from best to loosest, after normalisation. */
    public enum Match { EXACT, PREFIX, SUBSTRING }
}
