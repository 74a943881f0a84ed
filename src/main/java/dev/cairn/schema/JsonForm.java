package dev.cairn.schema;

import java.lang.foreign.MemorySegment;

/**
 * The JSON text form of stored records, from stored schemas alone (record-format.md §7): what
 * the inspector shows and edits, and what {@code export}/{@code import} write and read.
 *
 * <ul>
 *   <li>{@code fromJson(toJson(b))} gives back {@code b} when {@code b} was written by the
 *       latest version (bytes identical); data of older versions comes back in the latest.
 *   <li>Parse errors are {@link IllegalArgumentException}s naming line, column and path.
 * </ul>
 *
 * {@snippet :
 * String text = JsonForm.toJson(bytes, versions, true);
 * byte[] edited = JsonForm.fromJson(text.replace("\"stock\": 5", "\"stock\": 6"), versions);
 * }
 */
public final class JsonForm {
    private JsonForm() { }

    /** Compact JSON of a stored record, with the schema version that wrote it. */
    public static String toJson(MemorySegment bytes, SchemaVersions versions) {
        return toJson(bytes, versions, false);
    }

    /** JSON of a stored record; {@code pretty} indents by two spaces, one member a line. */
    public static String toJson(MemorySegment bytes, SchemaVersions versions, boolean pretty) {
        Schema schema = Bin.writerSchema(bytes, versions);
        return JsonPrinter.print(schema, Schema.ROOT, GenericRecord.decode(bytes, versions),
            pretty);
    }

    /** JSON of a stored record converted to {@code target} by the evolution rules ({@link GenericRecord#decodeAs}). */
    public static String toJsonAs(MemorySegment bytes, SchemaVersions versions, Schema target) {
        return JsonPrinter.print(target, Schema.ROOT, GenericRecord.decodeAs(bytes, versions, target), false);
    }

    /**
     * A stored record as JSON of another schema version, and the top-level components of the
     * stored record whose data that JSON does not carry (empty when none; {@link #toJsonAsChecked}).
     */
    public record Converted(String json, int writerVersion, java.util.List<String> notCarried) { }

    /**
     * {@link #toJsonAs}, saying which of the stored record's components the conversion loses: one
     * {@code target} lacks that holds other than its default, or one whose value does not convert
     * back the same (a constant or variant replaced by a fallback, a nested component left out).
     *
     * @throws dev.cairn.SchemaMismatchException naming the component of a value {@code target}
     *     cannot hold (a number too wide, a constant or variant without a fallback)
     */
    public static Converted toJsonAsChecked(MemorySegment bytes, SchemaVersions versions, Schema target) {
        Schema source = Bin.writerSchema(bytes, versions);
        int version = Bin.version(bytes);
        GenericRecord value = GenericRecord.decode(bytes, versions);
        if (source.equals(target)) {
            return new Converted(JsonPrinter.print(target, Schema.ROOT, value, false), version, java.util.List.of());
        }
        // The path starts at the record's name (E.a), as a typed read's does
        Convert convert = new Convert(source, target, "");
        GenericRecord converted = (GenericRecord) convert.value(Schema.ROOT, Schema.ROOT, value, target.name(), 0);
        return new Converted(JsonPrinter.print(target, Schema.ROOT, converted, false), version,
            convert.notCarried(value, converted));
    }

    /** The schema version that wrote stored bytes. */
    public static int versionOf(MemorySegment bytes) {
        return Bin.version(bytes);
    }

    /** JSON of a class-free record of {@code schema}. */
    public static String toJson(GenericRecord record, Schema schema, boolean pretty) {
        return JsonPrinter.print(schema, Schema.ROOT, record, pretty);
    }

    /**
     * Parses JSON text as a new record and encodes it with the highest-numbered version that has
     * every member it names. Members left out read as their defaults; a member (or enum constant,
     * or union alternative) no version has is an error. Not simply the latest: version numbers are
     * per database, so on a synced node the latest may be an older schema that arrived from the
     * server after the node's own, and it would refuse members the node's class has.
     *
     * @throws IllegalArgumentException with line, column and component path on bad text (the
     *     latest version's complaint when no version takes the text)
     */
    public static byte[] fromJson(String json, SchemaVersions versions) {
        return fromJson(json, versions, (JsonOrigin) null);
    }

    /**
     * {@link #fromJson(String, SchemaVersions)} of a text read from a file: errors name the
     * file's places, where {@code origin} says the text is (null: the text's own places).
     */
    public static byte[] fromJson(String json, SchemaVersions versions, JsonOrigin origin) {
        int latest = versions.latestVersion();
        IllegalArgumentException latestError = null;
        for (int version = latest; version >= 1; version--) {
            try {
                Schema schema = versions.get(version);
                return GenericCodec.encodeValue(schema, version, parse(json, schema, origin));
            } catch (IllegalArgumentException e) {
                if (latestError == null) latestError = e;
            }
        }
        if (latestError == null) throw new IllegalStateException("no schema versions");
        throw latestError;
    }

    /** Parses JSON text written for schema {@code version} and encodes it with that version. */
    public static byte[] fromJson(String json, SchemaVersions versions, int version) {
        Schema schema = versions.get(version);
        GenericRecord record = parse(json, schema);
        return GenericCodec.encodeValue(schema, version, record);
    }

    /**
     * Parses JSON text as a change of the stored record {@code stored}: members given replace
     * the stored ones (a nested record given as an object is changed the same way: its members
     * left out keep their values too), members left out keep their stored values, and unknown
     * members are errors. Parsed and encoded with the stored record's version, the one
     * {@link #toJson} prints, so what was read can be edited and saved whatever the latest
     * version is.
     *
     * @throws IllegalArgumentException with line, column and component path on bad text
     */
    public static byte[] patch(String json, MemorySegment stored, SchemaVersions versions) {
        int version = Bin.version(stored);
        Schema schema = versions.get(version);
        GenericRecord record = JsonParser.patch(json, schema, GenericRecord.decode(stored, versions));
        return GenericCodec.encodeValue(schema, version, record);
    }

    /**
     * The members of the JSON object {@code text}, each name with its value's JSON text, in the
     * order given; any whitespace between tokens. For envelopes around records (an exported line).
     *
     * @throws IllegalArgumentException with line and column when {@code text} is not one JSON
     *     object or repeats a member
     */
    public static java.util.Map<String, String> members(String text, String what) {
        return JsonParser.members(text, what);
    }

    /**
     * As {@link #members}, each name with the offsets in {@code text} where its value's text
     * starts and ends ({@code [start, end]}); errors name places of {@code origin} (null: of the text).
     */
    public static java.util.Map<String, int[]> membersAt(String text, String what, JsonOrigin origin) {
        return JsonParser.membersAt(text, what, origin);
    }

    /** The string a JSON string literal holds, escapes decoded. */
    public static String stringValue(String json, String what) {
        return JsonParser.stringValue(json, what);
    }

    /** {@code s} as a JSON string literal, quoted and escaped as record values are (§7). */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2);
        JsonPrinter.quote(s, b);
        return b.toString();
    }

    /** Parses JSON text into a class-free record of {@code schema}. */
    public static GenericRecord parse(String json, Schema schema) {
        return parse(json, schema, null);
    }

    private static GenericRecord parse(String json, Schema schema, JsonOrigin origin) {
        Object value = JsonParser.parse(json, schema, Schema.ROOT, schema.name(), 0, origin);
        if (value == null) {
            int start = json.indexOf('n'); // the null, after any whitespace
            throw new IllegalArgumentException((origin != null ? origin.place(json, start) : "JSON "
                + JsonOrigin.at(1, 1).place(json, start)) + " at " + schema.name() + ": null (expected: an object)");
        }
        return (GenericRecord) value;
    }
}
