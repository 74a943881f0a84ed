package dev.cairn.schema;

import dev.cairn.schema.TypeDef.RecordDef;

/**
 * Where each component of one record definition lives in a record body (record-format.md §3):
 * primitives in the fixed part at {@code offset}, everything else as a 4-byte slot in the fixed
 * part at {@code offset} that holds the end of its data in the variable part.
 *
 * <ul>
 *   <li>Fixed part = the components' fixed values and slots, in component order, unpadded.
 *   <li>{@code previousSlot[i]} is the offset of the slot of the nearest variable component
 *       before {@code i}, or -1 when its data starts right after the fixed part.
 * </ul>
 */
final class Layout {
    final int fixedBytes;
    final boolean[] fixed;
    final int[] offset;
    final int[] previousSlot;
    /** Offset of the last slot, or -1: where the variable part ends. */
    final int lastSlot;

    Layout(RecordDef record) {
        int n = record.components().size();
        fixed = new boolean[n];
        offset = new int[n];
        previousSlot = new int[n];
        int at = 0;
        int slot = -1;
        for (int i = 0; i < n; i++) {
            FieldType type = record.components().get(i).type();
            offset[i] = at;
            previousSlot[i] = slot;
            if (FieldType.isFixed(type)) {
                fixed[i] = true;
                at += ((FieldType.Scalar) type).kind().width;
            } else {
                slot = at;
                at += 4;
            }
        }
        fixedBytes = at;
        lastSlot = slot;
    }
}
