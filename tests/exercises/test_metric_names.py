"""Pages name each exercise's metric as its manifest does, never by its code name."""

from __future__ import annotations

import pytest
from django.urls import reverse

from exercises.manifest import load_manifest
from tests.builders.events import make_event, open_exercise
from tests.builders.exercises import breast_cancer_exercise
from tests.builders.people import make_organizer, person
from tests.builders.submissions import scored
from tests.foundation.test_readme import ROOT

pytestmark = pytest.mark.django_db
BUNDLES = ROOT / "exercises" / "bundles"


def test_the_manifest_gives_the_metric_its_display_name():
    exercise = breast_cancer_exercise()
    assert exercise.metric == "roc_auc"
    assert exercise.metric_label == "ROC AUC (area under the ROC curve)"


def test_a_manifest_without_a_display_name_gets_the_metric_own_label(tmp_path):
    text = (BUNDLES / "breast-cancer" / "manifest.toml").read_text()
    without = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("display_name"))
    assert without != text
    (tmp_path / "manifest.toml").write_text(without)
    assert load_manifest(tmp_path / "manifest.toml").metric.display_name == "ROC AUC"


@pytest.mark.parametrize("page", ["event_exercise", "exercise_board", "catalog", "organizer_boards"])
def test_no_page_shows_the_metric_code_name(client, page):
    event_exercise = open_exercise(make_event(), breast_cancer_exercise())
    event = event_exercise.event
    ada = person(event, "Ada L")
    scored(event_exercise, ada, 0.9, 0.8)
    client.force_login(make_organizer(event) if page == "organizer_boards" else ada)
    url = {
        "event_exercise": reverse("grading:event_exercise", args=[event.slug, event_exercise.exercise.slug]),
        "exercise_board": reverse("grading:exercise_board", args=[event.slug, event_exercise.exercise.slug]),
        "catalog": reverse("exercises:exercise_catalog"),
        "organizer_boards": reverse("grading:organizer_boards", args=[event.slug]),
    }[page]
    text = client.get(url).content.decode()
    assert "ROC AUC" in text
    assert "roc_auc" not in text
