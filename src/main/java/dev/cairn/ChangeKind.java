package dev.cairn;

/** What happened to a record: it was created, its data or metadata changed, or it was removed. */
public enum ChangeKind { CREATED, CHANGED, REMOVED }
