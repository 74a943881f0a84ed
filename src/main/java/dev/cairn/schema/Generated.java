package dev.cairn.schema;

import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DynamicConstantDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Turns a record's combined reader handle into a hidden class whose {@code read} invokes it as
 * a class-data constant, so that the JIT compiles the whole plan (every component read and the
 * constructor call) as one method. A handle held in an ordinary field is not a constant and
 * would be invoked without inlining (measured: about 5x slower on the WORKLOAD Part).
 */
final class Generated {
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    private static final ClassDesc CD_SEGMENT = ClassDesc.of(MemorySegment.class.getName());
    private static final MethodTypeDesc READ = MethodTypeDesc.of(ConstantDescs.CD_Object,
        CD_SEGMENT,
        ConstantDescs.CD_long, ConstantDescs.CD_long, ConstantDescs.CD_int);

    private Generated() { }

    private static final ClassDesc CD_SINK = ClassDesc.of(Sink.class.getName());
    private static final ClassDesc CD_WRITERS = ClassDesc.of(Writers.class.getName());
    private static final ClassDesc CD_VALUE_WRITER = ClassDesc.of(Writers.ValueWriter.class.getName());
    private static final MethodTypeDesc WRITE = MethodTypeDesc.of(ConstantDescs.CD_void,
        ConstantDescs.CD_Object, CD_SINK,
        ConstantDescs.CD_int);

    /**
     * A {@link Writers.ValueWriter} for one record class: reserves the fixed part, then for each
     * component calls its accessor (a class-data constant) and writes the value in place, or hands
     * it to the component's item writer (also a constant). Straight-line code, no loop, no boxing.
     *
     * @param codes per component: 0 for a variable one, else the fixed kind's ordinal + 1
     */
    static Writers.ValueWriter writer(String path, int fixedBytes, int[] offsets, int[] codes,
        boolean[] optional,
                                      MethodHandle[] getters, Writers.ValueWriter[] writers,
                                      String[] names) {
        int n = codes.length;
        java.util.List<Object> data = new java.util.ArrayList<>(2 * n);
        for (int i = 0; i < n; i++) data.add(getters[i]);
        for (int i = 0; i < n; i++) data.add(writers[i] == null ? "none" : writers[i]);
        byte[] bytes = ClassFile.of().build(ClassDesc.of(Generated.class.getPackageName()
            + ".Writer"), cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            cb.withInterfaceSymbols(CD_VALUE_WRITER);
            cb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC,
                code -> code
                .aload(0)
                .invokespecial(ConstantDescs.CD_Object, ConstantDescs.INIT_NAME,
                ConstantDescs.MTD_void)
                .return_());
            cb.withMethodBody("write", WRITE, ClassFile.ACC_PUBLIC, code -> {
                code.iload(3).ldc(path)
                    .invokestatic(CD_WRITERS, "depth", MethodTypeDesc.of(ConstantDescs.CD_void,
                    ConstantDescs.CD_int,
                        ConstantDescs.CD_String));
                code.aload(2).ldc(fixedBytes)
                    .invokevirtual(CD_SINK, "reserve", MethodTypeDesc.of(ConstantDescs.CD_int,
                    ConstantDescs.CD_int))
                    .istore(4);
                for (int i = 0; i < n; i++) {
                    if (codes[i] == 0) {
                        code.ldc(dataAt(i + n, CD_VALUE_WRITER)).ldc(optional[i] ? 1 : 0);
                        code.ldc(dataAt(i, ConstantDescs.CD_MethodHandle)).aload(1)
                            .invokevirtual(ConstantDescs.CD_MethodHandle, "invokeExact",
                                MethodTypeDesc.of(ConstantDescs.CD_Object,
                                    ConstantDescs.CD_Object));
                        code.aload(2).iload(3).iconst_1().iadd().iload(4).iload(4).ldc(offsets[i]).iadd()
                            .ldc(names[i])
                            .invokestatic(CD_WRITERS, "component",
                            MethodTypeDesc.of(ConstantDescs.CD_void, CD_VALUE_WRITER,
                                ConstantDescs.CD_boolean, ConstantDescs.CD_Object, CD_SINK,
                                    ConstantDescs.CD_int,
                                ConstantDescs.CD_int, ConstantDescs.CD_int, ConstantDescs.CD_String));
                        continue;
                    }
                    FieldType.Kind kind = FieldType.Kind.values()[codes[i] - 1];
                    ClassDesc prim = switch (kind) {
                        case BOOLEAN -> ConstantDescs.CD_boolean;
                        case BYTE -> ConstantDescs.CD_byte;
                        case SHORT -> ConstantDescs.CD_short;
                        case CHAR -> ConstantDescs.CD_char;
                        case INT -> ConstantDescs.CD_int;
                        case LONG -> ConstantDescs.CD_long;
                        case FLOAT -> ConstantDescs.CD_float;
                        default -> ConstantDescs.CD_double;
                    };
                    code.aload(2).iload(4).ldc(offsets[i]).iadd();
                    code.ldc(dataAt(i, ConstantDescs.CD_MethodHandle)).aload(1)
                        .invokevirtual(ConstantDescs.CD_MethodHandle, "invokeExact",
                            MethodTypeDesc.of(prim, ConstantDescs.CD_Object));
                    String put;
                    ClassDesc value = ConstantDescs.CD_int;
                    switch (kind) {
                        case BOOLEAN, BYTE -> put = "putByteAt";
                        case SHORT, CHAR -> put = "putShortAt";
                        case INT -> put = "putIntAt";
                        case FLOAT -> {
                            code.invokestatic(ConstantDescs.CD_Float, "floatToRawIntBits",
                                MethodTypeDesc.of(ConstantDescs.CD_int, ConstantDescs.CD_float));
                            put = "putIntAt";
                        }
                        case LONG -> {
                            put = "putLongAt";
                            value = ConstantDescs.CD_long;
                        }
                        default -> {
                            code.invokestatic(ConstantDescs.CD_Double, "doubleToRawLongBits",
                                MethodTypeDesc.of(ConstantDescs.CD_long, ConstantDescs.CD_double));
                            put = "putLongAt";
                            value = ConstantDescs.CD_long;
                        }
                    }
                    code.invokevirtual(CD_SINK, put, MethodTypeDesc.of(ConstantDescs.CD_void,
                        ConstantDescs.CD_int, value));
                }
                code.return_();
            });
        });
        try {
            MethodHandles.Lookup hidden = LOOKUP.defineHiddenClassWithClassData(bytes,
                java.util.List.copyOf(data), true);
            return (Writers.ValueWriter) hidden.findConstructor(hidden.lookupClass(),
                MethodType.methodType(void.class))
                .invoke();
        } catch (Throwable t) {
            throw new IllegalStateException("cannot define a writer class: " + t, t);
        }
    }

    private static DynamicConstantDesc<Object> dataAt(int index, ClassDesc type) {
        return DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA_AT,
            ConstantDescs.DEFAULT_NAME, type, index);
    }

    /**
     * A {@link ValueReader} that invokes {@code handle} ({@code (seg, s, e, depth) Object}) as a
     * constant.
     */
    static ValueReader reader(MethodHandle handle) {
        byte[] bytes = ClassFile.of().build(ClassDesc.of(Generated.class.getPackageName()
            + ".Plan"), cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            cb.withInterfaceSymbols(ClassDesc.of(ValueReader.class.getName()));
            cb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC,
                code -> code
                .aload(0)
                .invokespecial(ConstantDescs.CD_Object, ConstantDescs.INIT_NAME,
                ConstantDescs.MTD_void)
                .return_());
            cb.withMethodBody("read", READ, ClassFile.ACC_PUBLIC, code -> code
                .ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA,
                ConstantDescs.DEFAULT_NAME,
                    ConstantDescs.CD_MethodHandle))
                .aload(1)
                .lload(2)
                .lload(4)
                .iload(6)
                .invokevirtual(ConstantDescs.CD_MethodHandle, "invokeExact", READ)
                .areturn());
        });
        try {
            MethodHandles.Lookup hidden = LOOKUP.defineHiddenClassWithClassData(bytes, handle,
                true);
            return (ValueReader) hidden.findConstructor(hidden.lookupClass(),
                MethodType.methodType(void.class)).invoke();
        } catch (Throwable t) {
            throw new IllegalStateException("cannot define a reader class: " + t, t);
        }
    }
}
