package dev.cairn.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Every field of Limits is a compile-time constant, which the compiler copies into its users, so
 * nothing loads the class and its checks of how the limits relate never ran: one of them was
 * false (2^62 < Long.MAX_VALUE / 2, which is 2^62 - 1) and the class failed to initialize when a
 * static method of it was first called.
 */
class LimitsTest {
    @Test
    void theRelationshipsBetweenLimitsHoldWhenTheClassLoads() throws ClassNotFoundException {
        Class<?> loaded = Class.forName("dev.cairn.internal.Limits", true, LimitsTest.class.getClassLoader());
        assertEquals(Limits.class, loaded);
        assertEquals(256, Limits.GROUP_CHANGES_MAX_V7);
        assertEquals(4096, Limits.GROUP_CHANGES_MAX_V8);
    }
}
