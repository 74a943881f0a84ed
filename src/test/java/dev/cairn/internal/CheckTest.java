package dev.cairn.internal;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class CheckTest {
    @Test
    void thatThrowsAssertionErrorWithFormattedMessage() {
        AssertionError e = assertThrows(AssertionError.class,
            () -> Check.that(3 < 2, "slotIndex %d (expected: < slotCount %d)", 3, 2));
        assertEquals("slotIndex 3 (expected: < slotCount 2)", e.getMessage());
    }

    @Test
    void thatPassesSilentlyWhenTrue() {
        Check.that(true, "never");
        Check.that(1 < 2, "a %d b %d", 1, 2);
    }

    @Test
    void expensiveChecksAreOnUnderTheTestRunner() {
        assertTrue(Check.expensiveOn(), "build.sh runs tests with -ea -Dcairn.verify=all");
        assertThrows(AssertionError.class, () -> Check.expensive(() -> false, "expensive failed"));
    }
}
