"""Exercise tests share one run of each reference solution per session: the target check for all, and one's own."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.builders.bundles import ReferenceRun, reference_runs


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ReferenceRun]:
    return reference_runs(tmp_path_factory)
