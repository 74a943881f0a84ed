package dev.cairn.schema;

import dev.cairn.SchemaMismatchException;
import dev.cairn.schema.TypeDef.RecordDef;
import java.util.ArrayList;
import java.util.List;

/**
 * Says what each side of an update refused at step 3 of record-format.md §6.4 holds that the
 * other cannot carry: the stored data's components the updating class lacks, and the class's
 * components the stored version lacks, so that the refusal names them rather than "something".
 */
final class UpdateLoss {
    private UpdateLoss() { }

    /**
     * E.g. "the stored data has note, which V2$Part lacks; V2$Part has supplier, which the stored
     * data lacks"; null when neither side's loss can be named by component.
     */
    static String describe(Schema stored, GenericRecord kept, Schema own, GenericRecord update, String className) {
        List<String> sides = new ArrayList<>(2);
        String storedSide = side(stored, own, kept, "the stored data", className);
        if (storedSide != null) sides.add(storedSide);
        String ownSide = side(own, stored, update, className, "the stored data");
        if (ownSide != null) sides.add(ownSide);
        return sides.isEmpty() ? null : String.join("; ", sides);
    }

    /** What {@code value} of {@code source}, held by {@code holder}, has that {@code target} ({@code other}) cannot carry. */
    private static String side(Schema source, Schema target, GenericRecord value, String holder, String other) {
        Convert convert = new Convert(source, target, "");
        GenericRecord converted;
        try {
            converted = (GenericRecord) convert.value(Schema.ROOT, Schema.ROOT, value, "", 0);
        } catch (SchemaMismatchException e) {
            return holder + " has a value " + other + " cannot hold (" + value.typeName() + e.getMessage() + ")";
        }
        List<String> absent = new ArrayList<>();
        List<String> changed = new ArrayList<>();
        RecordDef sr = value.definition();
        for (String name : convert.notCarried(value, converted)) {
            Component c = sr.components().get(sr.indexOf(name));
            (Compat.match(target.root(), c) < 0 ? absent : changed).add(name);
        }
        List<String> parts = new ArrayList<>(2);
        if (!absent.isEmpty()) parts.add(holder + " has " + String.join(", ", absent) + ", which " + other + " lacks");
        if (!changed.isEmpty()) {
            parts.add(holder + " has values in " + String.join(", ", changed) + " that " + other
                + " cannot hold (a constant, variant or nested component it lacks)");
        }
        return parts.isEmpty() ? null : String.join(", and ", parts);
    }
}
