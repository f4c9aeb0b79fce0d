"""Exercise tests share one run of each reference solution per session, and build uploaded bundles in bubblewrap.

The reference run serves the target check of every exercise and one exercise's own assertions; uploaded bundles
are built in the bubblewrap sandbox, as a worker would.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.builders.bundles import ReferenceRun, reference_runs
from tests.grading.conftest import bwrap  # noqa: F401 - the fixture, skipping with the reason where bwrap cannot run


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ReferenceRun]:
    return reference_runs(tmp_path_factory)
