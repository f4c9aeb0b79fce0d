"""Exercise bundles, their data, metrics and release, and the public catalog of exercises."""
