"""Home Guardian's engine: plain Python that decodes, detects, decides and hashes, HA-free."""
