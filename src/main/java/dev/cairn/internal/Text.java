package dev.cairn.internal;

/** Facts about Java strings that the formats need. */
public final class Text {
    private Text() { }

    /**
     * The index of the first surrogate in {@code s} that is not half of a pair, or -1. Such a
     * string has no UTF-8 form: {@code String.getBytes(UTF_8)} writes '?' for it, so two names
     * or values would silently become one. Every format refuses it instead.
     */
    public static int unpairedSurrogate(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (!Character.isSurrogate(c)) continue;
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
                continue;
            }
            return i;
        }
        return -1;
    }
}
