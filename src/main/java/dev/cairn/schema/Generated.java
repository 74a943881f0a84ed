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
    private static final MethodTypeDesc READ = MethodTypeDesc.of(ConstantDescs.CD_Object, CD_SEGMENT,
        ConstantDescs.CD_long, ConstantDescs.CD_long, ConstantDescs.CD_int);

    private Generated() { }

    /** A {@link ValueReader} that invokes {@code handle} ({@code (seg, s, e, depth) Object}) as a constant. */
    static ValueReader reader(MethodHandle handle) {
        byte[] bytes = ClassFile.of().build(ClassDesc.of(Generated.class.getPackageName() + ".Plan"), cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SUPER);
            cb.withInterfaceSymbols(ClassDesc.of(ValueReader.class.getName()));
            cb.withMethodBody(ConstantDescs.INIT_NAME, ConstantDescs.MTD_void, ClassFile.ACC_PUBLIC, code -> code
                .aload(0)
                .invokespecial(ConstantDescs.CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void)
                .return_());
            cb.withMethodBody("read", READ, ClassFile.ACC_PUBLIC, code -> code
                .ldc(DynamicConstantDesc.ofNamed(ConstantDescs.BSM_CLASS_DATA, ConstantDescs.DEFAULT_NAME,
                    ConstantDescs.CD_MethodHandle))
                .aload(1)
                .lload(2)
                .lload(4)
                .iload(6)
                .invokevirtual(ConstantDescs.CD_MethodHandle, "invokeExact", READ)
                .areturn());
        });
        try {
            MethodHandles.Lookup hidden = LOOKUP.defineHiddenClassWithClassData(bytes, handle, true);
            return (ValueReader) hidden.findConstructor(hidden.lookupClass(), MethodType.methodType(void.class)).invoke();
        } catch (Throwable t) {
            throw new IllegalStateException("cannot define a reader class: " + t, t);
        }
    }
}
