package dev.cairn.testing;

import java.util.function.ObjIntConsumer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.Transformer;

/**
 * A step of a jqwik action chain that takes a random slot in [0, 1000] and applies itself to the
 * state with it; the state turns the slot into what it works on (a stored key, a number). The
 * slot is in the step's description, so that a shrunk failing chain shows it.
 */
public final class SlotAction {
    private SlotAction() { }

    public static <S> Action.Independent<S> of(String name, ObjIntConsumer<S> step) {
        return new Action.Independent<>() {
            @Override
            public Arbitrary<Transformer<S>> transformer() {
                return Arbitraries.integers().between(0, 1000)
                    .map(slot -> Transformer.mutate(name + " #" + slot, s -> step.accept(s, slot)));
            }
        };
    }
}
