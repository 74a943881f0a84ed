package dev.cairn.internal;

import java.util.function.BooleanSupplier;

/**
 * Invariant checks, in two tiers (STYLE.md §5).
 *
 * <ul>
 *   <li>{@code that(...)}: cheap O(1) checks, always on. A failure is our bug, not bad input,
 *       so it throws {@link AssertionError}. Overloads take primitives so that a passing check
 *       allocates nothing.
 *   <li>{@code expensive(...)}: O(n) checks (a full verify after a commit), on when the JVM runs
 *       with {@code -ea} or {@code -Dcairn.verify=all}.
 * </ul>
 * Untrusted input (file bytes, frames, API arguments) is never checked here: that gets a
 * {@code CairnException} or {@code IllegalArgumentException} with a message for the user.
 */
public final class Check {
    private static final boolean EXPENSIVE = expensiveEnabled();

    private Check() { }

    private static boolean expensiveEnabled() {
        boolean assertions = false;
        assert assertions = true;
        return assertions || "all".equals(System.getProperty("cairn.verify"));
    }

    /** True when O(n) checks run (tests, {@code -ea}, {@code -Dcairn.verify=all}). */
    public static boolean expensiveOn() {
        return EXPENSIVE;
    }

    public static void that(boolean condition, String message) {
        if (!condition) throw new AssertionError(message);
    }

    public static void that(boolean condition, String format, long a) {
        if (!condition) throw new AssertionError(String.format(format, a));
    }

    public static void that(boolean condition, String format, long a, long b) {
        if (!condition) throw new AssertionError(String.format(format, a, b));
    }

    public static void that(boolean condition, String format, long a, long b, long c) {
        if (!condition) throw new AssertionError(String.format(format, a, b, c));
    }

    public static void that(boolean condition, String format, Object a) {
        if (!condition) throw new AssertionError(String.format(format, a));
    }

    public static void that(boolean condition, String format, Object a, Object b) {
        if (!condition) throw new AssertionError(String.format(format, a, b));
    }

    /** Runs an O(n) check when expensive checks are on; the supplier returns false on failure. */
    public static void expensive(BooleanSupplier check, String message) {
        if (EXPENSIVE && !check.getAsBoolean()) throw new AssertionError(message);
    }
}
