package dev.cairn.schema;

import java.util.Objects;

/**
 * An enum constant in the class-free view of a record ({@link GenericRecord}): the enum's
 * definition name and the constant's name.
 */
public record GenericEnum(String type, String constant) {
    public GenericEnum {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(constant, "constant");
    }

    @Override
    public String toString() {
        return constant;
    }
}
