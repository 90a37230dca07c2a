"""Domain values, pure and I/O-free: image references, semantic versions, key paths, the tag grammar."""
