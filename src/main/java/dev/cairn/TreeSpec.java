package dev.cairn;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Optional, on a record class stored in a tree: the tree's name (default: the class's simple
 * name) and whether the tree keeps revisions ({@code Draft}/{@code Released}, default: no).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface TreeSpec {
    String name() default "";

    boolean versioned() default false;
}
