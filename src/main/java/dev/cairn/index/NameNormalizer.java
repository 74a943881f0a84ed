package dev.cairn.index;

import java.text.Normalizer;
import java.util.Locale;
import java.util.Objects;

/**
 * How names are compared by the built-in indexes: optionally with Unicode canonical equivalents
 * taken as one ({@code canonical}: composed first, {@link Normalizer.Form#NFC}, so "é" typed as one
 * character or as "e" and a combining accent is one name), optionally case-insensitive (by
 * {@link Locale#ROOT} lower case), with every character (code point) of {@code ignoredCharacters}
 * removed (in either case, when case-insensitive), and with leading and trailing whitespace
 * trimmed (also whitespace that removing ignored characters leaves at an end). A name that
 * normalises to the empty string is not indexed.
 */
public record NameNormalizer(boolean ignoreCase, String ignoredCharacters, boolean trim, boolean canonical) {
    public NameNormalizer {
        Objects.requireNonNull(ignoredCharacters, "ignoredCharacters");
    }

    /** Canonical equivalents taken as one, as the same name spelled in two ways would surprise anyone. */
    public NameNormalizer(boolean ignoreCase, String ignoredCharacters, boolean trim) {
        this(ignoreCase, ignoredCharacters, trim, true);
    }

    /**
     * Canonical equivalents as one, case-insensitive, trimmed, ignoring {@code - _ . /} and inner
     * spaces: "R-10 k" equals "r10K".
     */
    public static NameNormalizer standard() {
        return new NameNormalizer(true, " -_./", true, true);
    }

    /** Names compare exactly as written. */
    public static NameNormalizer exact() {
        return new NameNormalizer(false, "", false, false);
    }

    /** The normal form of {@code name}; null for a null name. */
    public String normalize(String name) {
        if (name == null) return null;
        // Lower case first, so that an ignored letter goes in either case; trimmed last, so that
        // "widget -" with '-' ignored is "widget" (probe 109).
        String s = canonical && !Normalizer.isNormalized(name, Normalizer.Form.NFC) ? Normalizer.normalize(name, Normalizer.Form.NFC) : name;
        s = ignoreCase ? s.toLowerCase(Locale.ROOT) : s;
        if (!ignoredCharacters.isEmpty()) {
            // By code point: a character beyond U+FFFF (most emoji) is two chars, and its halves
            // must neither match another character's halves nor be left behind alone; nor may a
            // lone half in the name match half of an ignored character.
            // (Each lower-cased alone: a string's lower case may expand a character into two.)
            int[] ignored = ignoredCharacters.codePoints().map(c -> ignoreCase ? Character.toLowerCase(c) : c).toArray();
            StringBuilder b = new StringBuilder(s.length());
            s.codePoints().filter(c -> !contains(ignored, c)).forEach(b::appendCodePoint);
            s = b.toString();
        }
        return trim ? s.strip() : s;
    }

    private static boolean contains(int[] codePoints, int c) {
        for (int p : codePoints) {
            if (p == c) return true;
        }
        return false;
    }
}
