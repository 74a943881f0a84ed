package dev.cairn.index;

import java.util.Locale;
import java.util.Objects;

/**
 * How names are compared by the built-in indexes: optionally case-insensitive (by
 * {@link Locale#ROOT} lower case), with leading and trailing whitespace trimmed, and with every
 * character (code point) of {@code ignoredCharacters} removed. A name that normalises to the empty string is
 * not indexed.
 */
public record NameNormalizer(boolean ignoreCase, String ignoredCharacters, boolean trim) {
    public NameNormalizer {
        Objects.requireNonNull(ignoredCharacters, "ignoredCharacters");
    }

    /** Case-insensitive, trimmed, ignoring {@code - _ . /} and inner spaces: "R-10 k" equals "r10K". */
    public static NameNormalizer standard() {
        return new NameNormalizer(true, " -_./", true);
    }

    /** Names compare exactly as written. */
    public static NameNormalizer exact() {
        return new NameNormalizer(false, "", false);
    }

    /** The normal form of {@code name}; null for a null name. */
    public String normalize(String name) {
        if (name == null) return null;
        String s = trim ? name.strip() : name;
        if (!ignoredCharacters.isEmpty()) {
            // By code point: a character beyond U+FFFF (most emoji) is two chars, and its halves
            // must neither match another character's halves nor be left behind alone.
            StringBuilder b = new StringBuilder(s.length());
            s.codePoints().filter(c -> ignoredCharacters.indexOf(c) < 0).forEach(b::appendCodePoint);
            s = b.toString();
        }
        return ignoreCase ? s.toLowerCase(Locale.ROOT) : s;
    }
}
