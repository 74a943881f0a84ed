package dev.cairn.db;

import dev.cairn.FieldHandle;
import dev.cairn.schema.FieldPath;


/** A component path of one tree, resolved by that tree's codec. */
record FieldHandleImpl(String tree, String path, FieldPath field, Object owner) implements FieldHandle {
    @Override
    public String toString() {
        return tree + "." + path;
    }
}
