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

    /**
     * {@code s} as one line of a log: each control character (U+0000 to U+001F, U+007F to U+009F)
     * and line or paragraph separator (U+2028, U+2029) written as a backslash, u and four hex digits. A name a peer
     * sends (a node's, a tree's) may hold a line end, which printed raw would start a line of
     * its own making in the server's journal, or a terminal's escape sequence.
     */
    public static String oneLine(String s) {
        int i = 0;
        for (int n = s.length(); i < n && !breaksLine(s.charAt(i)); i++) { }
        if (i == s.length()) return s;
        StringBuilder b = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (int n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (breaksLine(c)) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
        }
        return b.toString();
    }

    private static boolean breaksLine(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
    }
}
