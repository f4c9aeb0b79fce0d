"""What every built-in exercise holds, checked for each: an exercise registered in exercises/bundles/ gets these tests.

Reproducible data, nbgrader markers the release can strip, a released notebook with no solution, and a reference
solution that reaches the manifest's target. What only one exercise promises stays in its own test module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from exercises.bundles import builtin_bundle, builtin_bundles
from exercises.release import student_notebook
from tests.builders.bundles import ReferenceRun, build_bundle, files_of

SLUGS = [bundle.slug for bundle in builtin_bundles()]
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def test_every_shipped_exercise_is_checked_here() -> None:
    assert {"breast-cancer", "lung-segmentation", "met-anomaly", "microcalcifications"} <= set(SLUGS)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_same_secret_seed_builds_the_same_files(tmp_path: Path, slug: str) -> None:
    first = build_bundle(slug, tmp_path / "a", 7)
    second = build_bundle(slug, tmp_path / "b", 7)
    for a_side, b_side in zip(first, second, strict=True):
        names = files_of(a_side)
        assert names and names == files_of(b_side)
        for name in names:
            assert (a_side / name).read_bytes() == (b_side / name).read_bytes(), name


@pytest.mark.parametrize("slug", SLUGS)
def test_the_source_notebook_carries_nbgrader_markers_and_metadata(slug: str) -> None:
    source = nbformat.read(builtin_bundle(slug).source_notebook, as_version=4)
    nbformat.validate(source)
    solutions = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert solutions and len(tests) == 1
    for cell in solutions:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        assert cell.metadata.nbgrader == {
            "solution": True,
            "grade": False,
            "locked": False,
            "schema_version": 3,
            "grade_id": cell.metadata.nbgrader["grade_id"],
        }
    (test,) = tests
    assert "### BEGIN HIDDEN TESTS" in test.source and "### END HIDDEN TESTS" in test.source
    assert test.metadata.nbgrader["points"] == 1 and test.metadata.nbgrader["locked"] is True
    grade_ids = [c.metadata.nbgrader["grade_id"] for c in source.cells if "nbgrader" in c.metadata]
    assert len(set(grade_ids)) == len(grade_ids)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_released_notebook_hides_the_solutions_and_the_hidden_tests(slug: str) -> None:
    released = "\n".join(cell.source for cell in student_notebook(builtin_bundle(slug).source_notebook).cells)
    for marker in MARKERS:
        assert marker not in released
    assert "raise NotImplementedError()" in released
    assert "output/" in released or 'OUTPUT / "' in released  # the visible instructions and checks stay


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_the_reference_solution_reaches_its_documented_target_on_both_parts(
    slug: str, reference_run: Callable[[str], ReferenceRun]
) -> None:
    manifest = builtin_bundle(slug).manifest
    scores = reference_run(slug).scores
    if manifest.metric.direction == "higher":
        assert scores.public >= manifest.target.reference and scores.private >= manifest.target.reference, scores
    else:
        assert scores.public <= manifest.target.reference and scores.private <= manifest.target.reference, scores
