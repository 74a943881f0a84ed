package dev.cairn;

/**
 * Signalled to an event subscriber whose buffer overflowed: it fell more than its buffer
 * behind the writers, so its subscription ended (the events buffered before the overflow were
 * delivered first). A subscriber that needs every change re-reads the trees it follows and
 * subscribes again.
 */
public final class EventsLostException extends CairnException {
    private static final long serialVersionUID = 1L;

    public EventsLostException(String message) {
        super(message);
    }
}
