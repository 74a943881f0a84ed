package dev.cairn.store;

import dev.cairn.internal.Limits;

/**
 * How a store is opened.
 *
 * @param durable   true (the default): {@code commit} returns once the commit is on disk. False:
 *                  commits skip the force; a process crash loses nothing, but an OS crash or
 *                  power loss may lose or damage the commits since the last forced one. Never
 *                  the default.
 * @param pageBytes page size of a new file (a power of two in [4096, 32768]); an existing file
 *                  keeps the page size in its header.
 */
public record StoreOptions(boolean durable, int pageBytes) {
    public StoreOptions {
        if (pageBytes < 4096 || pageBytes > 32768 || Integer.bitCount(pageBytes) != 1) {
            throw new IllegalArgumentException("pageBytes " + pageBytes + " (expected: power of two in [4096, 32768])");
        }
    }

    public static StoreOptions defaults() {
        return new StoreOptions(true, Limits.PAGE_BYTES);
    }

    public StoreOptions withDurable(boolean value) {
        return new StoreOptions(value, pageBytes);
    }
}
