"""Build an exercise's data inside the sandbox: run its bundle's data.py build() into output/public and output/hidden.

Runs as untrusted work: it sees the bundle folder read-only at bundle/, writes only output/, has no network and
none of the platform's files or secrets. The secret seed comes in BUNDLE_SECRET_SEED. Errors go to stderr as
sentences; the exit status says whether it worked.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path


def main() -> int:
    """Import bundle/data.py and call its build(public_dir, hidden_dir, secret_seed); return the exit status."""
    seed = int(os.environ["BUNDLE_SECRET_SEED"])
    bundle = Path.cwd() / "bundle"
    sys.path.insert(0, str(bundle))  # data.py may import helper modules kept beside it
    spec = importlib.util.spec_from_file_location("_exercise_data", bundle / "data.py")
    if spec is None or spec.loader is None:
        print("data.py cannot be imported.", file=sys.stderr)
        return 2
    module = importlib.util.module_from_spec(spec)
    sys.modules["_exercise_data"] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    build = getattr(module, "build", None)
    if not callable(build):
        print("data.py must define build(public_dir, hidden_dir, secret_seed).", file=sys.stderr)
        return 2
    public, hidden = Path.cwd() / "output" / "public", Path.cwd() / "output" / "hidden"
    public.mkdir(parents=True, exist_ok=True)
    hidden.mkdir(parents=True, exist_ok=True)
    build(public, hidden, seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
