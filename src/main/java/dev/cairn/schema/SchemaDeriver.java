package dev.cairn.schema;

import dev.cairn.DefaultValue;
import dev.cairn.Fallback;
import dev.cairn.FormerNames;
import dev.cairn.Key;
import dev.cairn.schema.FieldType.Kind;
import dev.cairn.schema.FieldType.Ref;
import dev.cairn.schema.FieldType.Scalar;
import dev.cairn.schema.TypeDef.EnumDef;
import dev.cairn.schema.TypeDef.RecordDef;
import dev.cairn.schema.TypeDef.UnionDef;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Derives a {@link Schema} from a record class by reflection, once per class (a
 * {@link ClassValue} cache). Definitions are numbered in depth-first order of first use from the
 * root, so the result is deterministic.
 */
final class SchemaDeriver {
    /** A schema and, per definition index, the Java class it was derived from. */
    record Derived(Schema schema, List<Class<?>> classes) { }

    private static final ClassValue<Derived> CACHE = new ClassValue<>() {
        @Override
        protected Derived computeValue(Class<?> type) {
            return new SchemaDeriver(type).run();
        }
    };

    private static final Map<Class<?>, Scalar> SCALARS = new HashMap<>();

    static {
        Object[][] table = {
            {boolean.class, Kind.BOOLEAN, false}, {Boolean.class, Kind.BOOLEAN, true},
            {byte.class, Kind.BYTE, false}, {Byte.class, Kind.BYTE, true},
            {short.class, Kind.SHORT, false}, {Short.class, Kind.SHORT, true},
            {char.class, Kind.CHAR, false}, {Character.class, Kind.CHAR, true},
            {int.class, Kind.INT, false}, {Integer.class, Kind.INT, true},
            {long.class, Kind.LONG, false}, {Long.class, Kind.LONG, true},
            {float.class, Kind.FLOAT, false}, {Float.class, Kind.FLOAT, true},
            {double.class, Kind.DOUBLE, false}, {Double.class, Kind.DOUBLE, true},
            {String.class, Kind.STRING, false}, {byte[].class, Kind.BYTES, false},
            {UUID.class, Kind.UUID, false}, {Instant.class, Kind.INSTANT, false},
            {LocalDate.class, Kind.LOCAL_DATE, false}, {BigDecimal.class, Kind.BIG_DECIMAL, false},
            {Key.class, Kind.KEY, false},
        };
        for (Object[] row : table) SCALARS.put((Class<?>) row[0], new Scalar((Kind) row[1],
            (Boolean) row[2]));
    }

    private final Class<?> rootType;
    private final List<TypeDef> defs = new ArrayList<>();
    private final List<Class<?>> classes = new ArrayList<>();
    private final Map<Class<?>, Integer> indexOf = new HashMap<>();
    private final Set<String> names = new HashSet<>();

    private SchemaDeriver(Class<?> rootType) {
        this.rootType = rootType;
    }

    static Derived derived(Class<?> type) {
        if (type == null) throw new NullPointerException("type");
        if (!type.isRecord()) throw new IllegalArgumentException(type.getName()
            + " is not a record class");
        return CACHE.get(type);
    }

    private Derived run() {
        define(rootType, rootType.getSimpleName());
        Schema schema;
        try {
            schema = new Schema(defs);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(rootType.getName() + ": " + e.getMessage(), e);
        }
        // A schema goes to the server in one frame (SchemaDef): a larger one stopped the node's
        // sync for good, for every tree, once a record of it was written (probe 103).
        int bytes = schema.toBytes().length;
        if (bytes > dev.cairn.internal.Limits.SCHEMA_BYTES_MAX) {
            throw new IllegalArgumentException(rootType.getName() + ": its schema takes " + bytes + " bytes (expected: at most "
                + dev.cairn.internal.Limits.SCHEMA_BYTES_MAX + ", to travel in one sync frame): fewer or shorter enum constants"
                + " and component names");
        }
        return new Derived(schema, List.copyOf(classes));
    }

    /** Index of the definition of {@code type}, defining it (and what it uses) on first sight. */
    private int define(Class<?> type, String path) {
        Integer known = indexOf.get(type);
        if (known != null) return known;
        int index = defs.size();
        indexOf.put(type, index);
        defs.add(null);
        classes.add(type);
        String name = uniqueName(type);
        if (type.isRecord()) {
            List<Component> components = new ArrayList<>();
            for (RecordComponent rc : type.getRecordComponents()) {
                String cpath = path + "." + rc.getName();
                FieldType ft = typeOf(rc.getGenericType(), cpath);
                FormerNames former = rc.getAnnotation(FormerNames.class);
                DefaultValue dv = rc.getAnnotation(DefaultValue.class);
                components.add(new Component(rc.getName(), ft, former == null ? List.of()
                    : Arrays.asList(former.value()),
                    dv == null ? null : dv.value()));
            }
            checkNamesOwned(type, path, components);
            defs.set(index, new RecordDef(name, components));
        } else if (type.isEnum()) {
            List<String> constants = new ArrayList<>();
            int fallback = -1;
            for (Object c : type.getEnumConstants()) {
                String cname = ((Enum<?>) c).name();
                constants.add(cname);
                if (fallbackField(type, cname)) {
                    if (fallback >= 0) throw refuse(type, path, "two @Fallback constants");
                    fallback = constants.size() - 1;
                }
            }
            defs.set(index, new EnumDef(name, constants, fallback));
        } else if (type.isInterface() && type.isSealed()) {
            List<Integer> variants = new ArrayList<>();
            int fallback = -1;
            for (Class<?> p : type.getPermittedSubclasses()) {
                if (!p.isRecord() && !p.isEnum()) {
                    throw refuse(p, path, "permitted type of sealed " + type.getName()
                        + " is neither a record nor an enum");
                }
                variants.add(define(p, path + "<" + p.getSimpleName() + ">"));
                if (p.isAnnotationPresent(Fallback.class)) {
                    if (fallback >= 0) throw refuse(type, path, "two @Fallback permitted types");
                    fallback = variants.size() - 1;
                }
            }
            defs.set(index, new UnionDef(name, variants, fallback));
        } else {
            throw refuse(type, path, "not a record, enum or sealed interface");
        }
        return index;
    }

    private static boolean fallbackField(Class<?> enumType, String constant) {
        try {
            return enumType.getField(constant).isAnnotationPresent(Fallback.class);
        } catch (NoSuchFieldException e) {
            throw new AssertionError("enum constant without its field: " + constant, e);
        }
    }

    private String uniqueName(Class<?> type) {
        String base = type.getSimpleName();
        if (base.isEmpty()) base = type.getName().substring(type.getName().lastIndexOf('.') + 1);
        String name = base;
        for (int n = 2; !names.add(name); n++) name = base + "_" + n;
        return name;
    }

    private FieldType typeOf(Type type, String path) {
        if (type instanceof Class<?> c) {
            Scalar scalar = SCALARS.get(c);
            if (scalar != null) return scalar;
            if (c.isRecord() || c.isEnum() || (c.isInterface()
                && c.isSealed())) return new Ref(define(c, path));
            if (c.getSuperclass() != null
                && c.getSuperclass().isEnum()) return new Ref(define(c.getSuperclass(), path));
            throw refuse(c, path, supportedNote(c));
        }
        if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> raw) {
            Type[] args = p.getActualTypeArguments();
            if (raw == Key.class) return new Scalar(Kind.KEY, false);
            if (raw == List.class) return new FieldType.ListOf(typeOf(args[0], path + "[]"));
            if (raw == Set.class) return new FieldType.SetOf(typeOf(args[0], path + "[]"));
            if (raw == Optional.class) {
                FieldType element = typeOf(args[0], path + "?");
                if (element instanceof FieldType.OptionalOf) throw refuse(raw, path,
                    "Optional of Optional");
                return new FieldType.OptionalOf(element);
            }
            if (raw == Map.class) {
                FieldType key = typeOf(args[0], path + "{key}");
                boolean ok = (key instanceof Scalar s && s.kind() != Kind.BYTES)
                    || (key instanceof Ref r && classes.get(r.definition()).isEnum());
                if (!ok) throw refuse(raw, path,
                    "map keys must be a scalar other than byte[], or an enum");
                return new FieldType.MapOf(key, typeOf(args[1], path + "{}"));
            }
            if (raw.isRecord() || raw.isInterface()) throw refuse(raw, path,
                "generic records and interfaces are not supported");
            throw refuse(raw, path, supportedNote(raw));
        }
        throw new IllegalArgumentException("unsupported type " + type.getTypeName() + " at " + path
            + " (expected: concrete types; no type variables or wildcards)");
    }

    private static String supportedNote(Class<?> c) {
        return "supported: primitives and boxes, String, byte[], enums, records, sealed interfaces of records and enums,"
            + " List, Set, Map, Optional, UUID, Instant, LocalDate, BigDecimal, Key";
    }

    /**
     * Refuses a record where a name belongs to two components: one's former name that is
     * another's name or former name. Stored data of that name would then be read as both, and an
     * older class's update of it written into both, losing the other's value (probe 96).
     */
    private static void checkNamesOwned(Class<?> type, String path, List<Component> components) {
        Map<String, String> owner = new HashMap<>();
        for (Component c : components) owner.put(c.name(), c.name());
        for (Component c : components) {
            for (String former : c.formerNames()) {
                String other = owner.putIfAbsent(former, c.name());
                if (other != null && !other.equals(c.name())) {
                    throw new IllegalArgumentException(type.getName() + " at " + path + "." + c.name() + ": @FormerNames(\""
                        + former + "\") names " + (former.equals(other) ? "component " + other : "a former name of component "
                        + other) + " as well: stored data of that name would be read, and updated by an older class, as"
                        + " both; a name may stand for one component only (take it out of one component's @FormerNames)");
                }
            }
        }
    }

    private static IllegalArgumentException refuse(Class<?> type, String path, String why) {
        return new IllegalArgumentException("unsupported type " + type.getName() + " at " + path
            + " (" + why + ")");
    }
}
