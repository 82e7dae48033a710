"""The hash-chained audit log: who did what, when, to which record."""
