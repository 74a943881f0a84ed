package dev.cairn.schema;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Test helper: a value with records and byte arrays turned into comparable lists, for deep
 * equality.
 */
final class Normal {
    private Normal() { }

    static Object of(Object v) {
        if (v == null) return null;
        if (v instanceof byte[] b) {
            List<Byte> out = new ArrayList<>();
            for (byte x : b) out.add(x);
            return out;
        }
        if (v instanceof Record r) {
            List<Object> out = new ArrayList<>();
            out.add(r.getClass().getName());
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                try {
                    var accessor = c.getAccessor();
                    accessor.setAccessible(true);
                    out.add(of(accessor.invoke(r)));
                } catch (ReflectiveOperationException e) {
                    throw new AssertionError(e);
                }
            }
            return out;
        }
        if (v instanceof GenericRecord g) {
            List<Object> out = new ArrayList<>();
            out.add(g.typeName());
            for (String n : g.componentNames()) out.add(of(g.get(n)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object x : l) out.add(of(x));
            return out;
        }
        if (v instanceof Collection<?> s) {
            var out = new HashSet<>();
            for (Object x : s) out.add(of(x));
            return out;
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new HashMap<>();
            m.forEach((k, x) -> out.put(of(k), of(x)));
            return out;
        }
        if (v instanceof Optional<?> o) return o.map(Normal::of);
        if (v instanceof Float f) return "F" + Float.floatToRawIntBits(f);
        if (v instanceof Double d) return "D" + Double.doubleToRawLongBits(d);
        return v;
    }
}
