package dev.cairn;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.testing.Fixtures;
import dev.cairn.testing.Fixtures.Part;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** API totality: every public method given a null reference argument throws NullPointerException naming it. */
class ApiNullsTest {
    @TempDir Path dir;

    /** Calls {@code method} once per reference parameter, with that one null and the others valid. */
    static void assertNullsRefused(Object target, Class<?> api, List<Object> samples) throws Exception {
        int checked = 0;
        for (Method m : api.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.getDeclaringClass() == Object.class) continue;
            Class<?>[] types = m.getParameterTypes();
            for (int nulled = 0; nulled < types.length; nulled++) {
                if (types[nulled].isPrimitive()) continue;
                // Documented as nullable: no migration.
                if (m.getName().equals("tree") && types[nulled] == Migration.class) continue;
                Object[] args = new Object[types.length];
                for (int i = 0; i < types.length; i++) args[i] = i == nulled ? null : sample(types[i], samples);
                try {
                    m.invoke(target, args);
                    fail(api.getSimpleName() + "." + m.getName() + " accepted null argument " + nulled);
                } catch (InvocationTargetException e) {
                    assertInstanceOf(NullPointerException.class, e.getCause(),
                        api.getSimpleName() + "." + m.getName() + " argument " + nulled);
                    // Named, not the JDK's "Cannot invoke ... because "<parameter1>" is null" (probe 123).
                    String message = e.getCause().getMessage();
                    assertTrue(message != null && !message.contains("<parameter"),
                        api.getSimpleName() + "." + m.getName() + " argument " + nulled + ": " + message);
                }
                checked++;
            }
        }
        assertTrue(checked > 0);
    }

    static Object sample(Class<?> type, List<Object> samples) {
        if (type == int.class) return 0;
        if (type == long.class) return 0L;
        if (type == boolean.class) return false;
        for (Object s : samples) if (type.isInstance(s)) return s;
        throw new AssertionError("no sample for " + type);
    }

    @Test
    void nullArgumentsAreRefusedEverywhere() throws Exception {
        try (Cairn db = Cairn.open(dir)) {
            Tree<Part> parts = db.tree(Part.class);
            Key<Part> k = parts.insert(Fixtures.part(1));
            List<Object> samples = new ArrayList<>(List.of(k, Fixtures.part(2), "Part", Part.class,
                List.of(Fixtures.part(3)), (java.util.function.Function<RecordView, Object>) v -> null,
                (java.util.function.BiConsumer<Object, Object>) (a, b) -> { },
                new dev.cairn.index.UniqueNameIndex<Part>("n", Part::name), (Runnable) () -> { },
                (java.util.function.Consumer<Object>) e -> { }, (Migration<Part>) (key, json) -> null,
                java.util.Set.of(), new StringBuilder(), new dev.cairn.testing.FakeJdbc().connect(), dir.resolve("a.jsonl")));
            assertNullsRefused(parts, Tree.class, samples);
            assertNullsRefused(db, Cairn.class, samples);
            assertNullsRefused(db.genericTree("Part"), GenericTree.class, samples);
        }
    }
}
