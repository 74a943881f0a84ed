package dev.cairn;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Optional, on a record component: the value it reads as when a stored record was written by a
 * schema version that lacked the component (record-format.md §6). The text is the component's
 * JSON text form ({@code "42"}, {@code "\"n/a\""}, {@code "[\"smd\"]"}, {@code "{\"width\":1}"}),
 * parsed once when the schema is derived; a text that does not parse for the component's type
 * makes the derivation fail. Without it the component reads as its neutral value.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.RECORD_COMPONENT)
public @interface DefaultValue {
    String value();
}
