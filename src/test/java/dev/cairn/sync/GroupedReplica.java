package dev.cairn.sync;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Replica} that is {@code inner} but for where its outbox may be cut ({@link
 * Replica.Pending#groupEnds}), which the test chooses: a stand-in for the node's own computation
 * from its transactions (spec/database-layout.md §6), so the protocol's groups can be tested on
 * their own.
 */
final class GroupedReplica {
    /** Where a test cuts the outbox: true when the listing may be cut after entry {@code index}. */
    interface Ends {
        boolean after(List<Replica.Pending> listed, int index);
    }

    private GroupedReplica() { }

    static Replica of(Replica inner, Ends ends) {
        InvocationHandler h = (proxy, method, args) -> {
            try {
                Object result = method.invoke(inner, args);
                if (!method.getName().equals("outbox")) return result;
                @SuppressWarnings("unchecked")
                List<Replica.Pending> listed = (List<Replica.Pending>) result;
                List<Replica.Pending> grouped = new ArrayList<>(listed.size());
                for (int i = 0; i < listed.size(); i++) {
                    Replica.Pending p = listed.get(i);
                    grouped.add(new Replica.Pending(p.outboxSeq(), p.key(), p.kind(), ends.after(listed, i)));
                }
                return grouped;
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Replica) Proxy.newProxyInstance(Replica.class.getClassLoader(), new Class<?>[] {Replica.class}, h);
    }

    /** Groups of {@code size} outbox entries by outbox sequence, the first starting at {@code firstSeq}. */
    static Ends every(long firstSeq, int size) {
        return (listed, i) -> (listed.get(i).outboxSeq() - firstSeq) % size == size - 1;
    }
}
