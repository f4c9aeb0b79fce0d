"""Environment defaults of a test run, set before Django reads its settings (loaded with `-p` in pyproject.toml)."""

import os

# Warm sandboxes are on by default (make run, deployments). A test run starts many sandbox configurations and
# worker processes, each of which would warm its own in the background: the tests that prove the pool turn it
# on. Set in the environment, so that the workers and sites the tests start inherit it too.
os.environ.setdefault("SANDBOX_WARM_POOL", "0")
