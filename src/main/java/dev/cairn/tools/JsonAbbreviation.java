package dev.cairn.tools;

/**
 * Compact JSON with its long strings shortened, for a listing a person reads (the inspector's
 * find): a 200 KB text printed whole buries the other hits.
 */
final class JsonAbbreviation {

    private JsonAbbreviation() { }

    /**
     * {@code json} with every string literal (member names too) of more than {@code charsMax}
     * characters cut after {@code charsMax} of them and ended with {@code ...(N more)}. A
     * character is an escape sequence ({@code \n}, {@code \u0001}) or a surrogate pair, never
     * split; everything outside strings is kept as it is.
     */
    static String strings(String json, int charsMax) {
        StringBuilder text = new StringBuilder(Math.min(json.length(), 4096));
        int i = 0;
        while (i < json.length()) {
            char c = json.charAt(i);
            text.append(c);
            i++;
            if (c != '"') continue;
            int chars = 0;
            while (i < json.length() && json.charAt(i) != '"') {
                int end = characterEnd(json, i);
                if (chars < charsMax) text.append(json, i, end);
                chars++;
                i = end;
            }
            if (chars > charsMax) text.append("...(").append(chars - charsMax).append(" more)");
            if (i < json.length()) text.append('"');
            i++;
        }
        return text.toString();
    }

    /** Where the character of a string literal that starts at {@code i} ends. */
    private static int characterEnd(String json, int i) {
        char c = json.charAt(i);
        if (c == '\\' && i + 1 < json.length()) return Math.min(json.length(), i + (json.charAt(i + 1) == 'u' ? 6 : 2));
        if (Character.isHighSurrogate(c) && i + 1 < json.length() && Character.isLowSurrogate(json.charAt(i + 1))) return i + 2;
        return i + 1;
    }
}
