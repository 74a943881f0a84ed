package dev.cairn;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Optional, on one enum constant or on one permitted record of a sealed interface: what an older
 * reader maps an enum constant or a permitted record to when the data was written by a newer
 * schema that added it (record-format.md §6). Without a fallback, reading such a value fails
 * with {@link SchemaMismatchException} naming the unknown constant or record and both versions.
 * A fallback record reads the components of the unknown record that it has by name; the others
 * get their defaults.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.TYPE})
public @interface Fallback {
}
