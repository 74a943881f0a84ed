package dev.cairn.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded waits for a condition another thread makes true. */
public final class Await {
    private Await() { }

    /** Waits up to {@code millis} for {@code condition}; fails naming {@code what} and {@code detail}. */
    public static void until(String what, BooleanSupplier condition, long millis, Supplier<String> detail) {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            try {
                if (condition.getAsBoolean()) return;
            } catch (RuntimeException e) {
                // A reader may race a concurrent change; try again.
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        fail("timed out after " + millis + " ms waiting for: " + what + " " + detail.get());
    }

    public static void until(String what, BooleanSupplier condition) {
        until(what, condition, 20_000, () -> "");
    }
}
