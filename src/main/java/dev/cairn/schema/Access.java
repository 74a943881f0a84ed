package dev.cairn.schema;

import dev.cairn.schema.FieldType.Kind;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Method handles the typed codec is assembled from: private access to application record
 * classes, fixed-part reads, unboxing and conversions. Resolved once, at class load.
 */
final class Access {
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    static final MethodHandle VAR_READ;
    static final MethodHandle NARROW;
    static final MethodHandle EMPTY_IF_NULL;
    static final MethodHandle CLONE_BYTES;
    static final MethodHandle LOOP_CONSTRUCT;
    private static final MethodHandle[] FIXED = new MethodHandle[Kind.DOUBLE.ordinal() + 1];
    private static final MethodHandle[] UNBOX = new MethodHandle[Kind.DOUBLE.ordinal() + 1];

    static {
        try {
            MethodType read = MethodType.methodType(Object.class, MemorySegment.class, long.class,
                long.class, int.class);
            VAR_READ = LOOKUP.findVirtual(Readers.VarSlot.class, "read", read);
            NARROW = LOOKUP.findStatic(Compat.class, "scalar",
                MethodType.methodType(Object.class, Object.class, Kind.class, Kind.class,
                    String.class));
            EMPTY_IF_NULL = LOOKUP.findStatic(Readers.class, "emptyIfNull",
                MethodType.methodType(Object.class, Object.class));
            CLONE_BYTES = LOOKUP.findStatic(Readers.class, "cloneBytes",
                MethodType.methodType(byte[].class, byte[].class));
            LOOP_CONSTRUCT = LOOKUP.findVirtual(Loop.class, "read", read);
            Class<?>[] types = {boolean.class, byte.class, short.class, char.class, int.class,
                long.class, float.class,
                double.class};
            String[] names = {"Boolean", "Byte", "Short", "Char", "Int", "Long", "Float", "Double"};
            for (int k = 0; k < types.length; k++) {
                MethodType fixed = MethodType.methodType(types[k], long.class, MemorySegment.class,
                    long.class, long.class,
                    int.class);
                if (k == 0) fixed = fixed.insertParameterTypes(1, String.class);
                FIXED[k] = LOOKUP.findStatic(Readers.class, "fixed" + names[k], fixed);
                UNBOX[k] = LOOKUP.findStatic(Readers.class, "unbox" + names[k],
                    MethodType.methodType(types[k], Object.class));
            }
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Access() { }

    /** A lookup with private access to an application class (open on the class path). */
    static MethodHandles.Lookup lookup(Class<?> type) {
        try {
            return MethodHandles.privateLookupIn(type, LOOKUP);
        } catch (IllegalAccessException e) {
            throw new IllegalArgumentException(type.getName()
                + " is not accessible to Cairn (expected: its package opened"
                + " to dev.cairn): " + e.getMessage(), e);
        }
    }

    /** {@code (seg, s, e, depth) -> primitive} reading the fixed part at {@code offset}. */
    static MethodHandle fixed(Kind kind, int offset, String path) {
        MethodHandle h = MethodHandles.insertArguments(FIXED[kind.ordinal()], 0, (long) offset);
        return kind == Kind.BOOLEAN ? MethodHandles.insertArguments(h, 0, path) : h;
    }

    /** Adapts an Object-returning handle to a primitive parameter; null becomes 0 / false. */
    static MethodHandle unbox(MethodHandle h, Class<?> primitive) {
        Kind kind = switch (primitive.getName()) {
            case "boolean" -> Kind.BOOLEAN;
            case "byte" -> Kind.BYTE;
            case "short" -> Kind.SHORT;
            case "char" -> Kind.CHAR;
            case "int" -> Kind.INT;
            case "long" -> Kind.LONG;
            case "float" -> Kind.FLOAT;
            default -> Kind.DOUBLE;
        };
        return MethodHandles.filterReturnValue(h.asType(h.type().changeReturnType(Object.class)),
            UNBOX[kind.ordinal()]);
    }

    /** Reads the components of a record with many components one by one into an array. */
    record Loop(MethodHandle[] filters, MethodHandle spreader) {
        Object read(MemorySegment seg, long s, long e, int depth) throws Throwable {
            Object[] args = new Object[filters.length];
            for (int j = 0; j < args.length; j++) args[j] = (Object) filters[j].invokeExact(seg, s,
                e, depth);
            return (Object) spreader.invokeExact(args);
        }
    }
}
