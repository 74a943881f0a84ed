package dev.cairn.sync;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link Replica} that is {@code inner}, counting the calls of the methods named (store lookups a test bounds). */
final class CountingReplica {
    private CountingReplica() { }

    static Replica of(Replica inner, AtomicLong calls, Set<String> methods) {
        return (Replica) Proxy.newProxyInstance(Replica.class.getClassLoader(), new Class<?>[] {Replica.class},
            (proxy, method, args) -> {
                if (methods.contains(method.getName())) calls.incrementAndGet();
                try {
                    return method.invoke(inner, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
    }

    /** A {@link Replica} that is {@code inner}, adding the entries each outbox listing returns to {@code entries}. */
    static Replica listing(Replica inner, AtomicLong entries) {
        return (Replica) Proxy.newProxyInstance(Replica.class.getClassLoader(), new Class<?>[] {Replica.class},
            (proxy, method, args) -> {
                try {
                    Object result = method.invoke(inner, args);
                    if (method.getName().equals("outbox")) entries.addAndGet(((java.util.List<?>) result).size());
                    return result;
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
            });
    }
}
