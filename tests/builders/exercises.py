"""Builders of catalog exercises: rows without a bundle on disk, or the built-in breast-cancer bundle for real runs."""

from __future__ import annotations

import itertools
from typing import Any

from exercises.bundles import builtin_bundle
from exercises.models import Exercise, Label
from exercises.services import save_exercise

_numbers = itertools.count(1)


def make_exercise(slug: str | None = None, *, labels: dict[str, list[str]] | None = None) -> Exercise:
    """Create a catalog exercise row (no bundle on disk) carrying the given labels per dimension."""
    slug = slug or f"exercise-{next(_numbers)}"
    exercise = Exercise.objects.create(
        slug=slug,
        title=slug.replace("-", " ").title(),
        summary="An exercise for tests.",
        description="An exercise for tests.",
        levels=["base", "advanced"],
        metric="roc_auc",
        direction="higher",
        output_kind="scores_csv",
        device="cpu",
        wall_seconds=60,
        memory_mb=512,
        processes=8,
        cpus=1.0,
        target_reference=0.9,
        target_baseline=0.5,
        bundle_path=f"/nonexistent/{slug}",
    )
    for dimension, names in (labels or {}).items():
        for name in names:
            exercise.labels.add(Label.objects.get_or_create(dimension=dimension, name=name)[0])
    return exercise


def breast_cancer_exercise(**limits: Any) -> Exercise:
    """Return the built-in breast-cancer exercise, with limits overridden for a test."""
    exercise = save_exercise(builtin_bundle("breast-cancer"), builtin=True)
    if limits:
        Exercise.objects.filter(pk=exercise.pk).update(**limits)
        exercise.refresh_from_db()
    return exercise
