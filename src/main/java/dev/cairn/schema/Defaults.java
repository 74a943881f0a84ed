package dev.cairn.schema;

import dev.cairn.schema.FieldType.ListOf;
import dev.cairn.schema.FieldType.MapOf;
import dev.cairn.schema.FieldType.OptionalOf;
import dev.cairn.schema.FieldType.Ref;
import dev.cairn.schema.FieldType.Scalar;
import dev.cairn.schema.FieldType.SetOf;
import dev.cairn.schema.TypeDef.EnumDef;
import dev.cairn.schema.TypeDef.RecordDef;
import dev.cairn.schema.TypeDef.UnionDef;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What a component reads as when the data lacks it (record-format.md §6.3): its declared
 * {@code @DefaultValue}, else its neutral value.
 *
 * <p>Neutral values: 0 and false for primitives, null for boxes, "" for String, an empty byte[],
 * BigDecimal.ZERO, an empty List/Set/Map, Optional.empty(), the {@code @Fallback} constant of an
 * enum (null if it has none), and null for UUID, Instant, LocalDate, Key, nested records and
 * sealed interfaces.
 */
final class Defaults {
    private Defaults() { }

    /** The class-free default of one component. */
    static Object generic(Schema schema, Component c, int depth) {
        if (c.defaultJson() != null) {
            return JsonParser.parse(c.defaultJson(), schema, c.type(), "@DefaultValue of "
                + c.name(), depth);
        }
        return neutral(schema, c.type());
    }

    static Object neutral(Schema schema, FieldType type) {
        return switch (type) {
            case Scalar s -> Scalars.neutral(s);
            case ListOf l -> List.of();
            case SetOf s -> Set.of();
            case MapOf m -> Map.of();
            case OptionalOf o -> Optional.empty();
            case Ref r -> switch (schema.definition(r)) {
                case RecordDef rd -> null;
                case UnionDef u -> null;
                case EnumDef en -> en.fallback() < 0 ? null : new GenericEnum(en.name(),
                    en.constants().get(en.fallback()));
            };
        };
    }
}
