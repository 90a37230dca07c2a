"""The use cases and the modules they share (plan, read, write, report); no use case imports another."""
