package dev.cairn;

/**
 * One component of a tree's records (a path such as {@code "stock"} or {@code "dims.width"}),
 * resolved once by {@link Tree#field(String)} and then used with {@link RecordView} to read that
 * component straight from the stored bytes. A handle is immutable and thread-safe, and works
 * only with views of the tree that resolved it.
 */
public interface FieldHandle {
    /** The tree the handle was resolved for. */
    String tree();

    /** The component path, as passed to {@link Tree#field(String)}. */
    String path();
}
