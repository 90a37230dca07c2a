"""Container registries: list tags, resolve digests and build times, with the fewest requests."""
