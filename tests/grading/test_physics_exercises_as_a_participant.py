"""A participant submits to the b-tagging and glitch exercises and reads the score, secondaries and picture."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.urls import reverse

from exercises.bundles import builtin_bundle
from exercises.services import save_exercise
from grading import services
from grading.models import Submission
from tests.builders.events import open_event_exercise
from tests.builders.people import participant_of

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CASES = {
    # slug: (a participant's first notebook: the bundle's baseline, the picture, what the page names)
    "btag-cms": (
        "rejection.png",
        [
            "Light-jet rejection at 60% b-jet efficiency",
            "c-jet rejection at 60% b-jet efficiency: ",
            "ROC AUC, b-jets against light jets: ",
        ],
    ),
    "gw-glitches": ("confusion.png", ["Macro-averaged F1 score", "Accuracy: ", "Recall of power line: "]),
}


@pytest.mark.parametrize("slug", sorted(CASES))
def test_a_participant_submits_a_first_notebook_and_reads_the_score_and_the_aggregate_picture(
    bwrap, client, slug: str, tmp_path: Path
) -> None:
    picture, shown = CASES[slug]
    bundle = builtin_bundle(slug)
    event_exercise = open_event_exercise(save_exercise(bundle, builtin=True))
    participant = participant_of(event_exercise)
    with mock.patch("grading.services.enqueue"):
        submission = services.submit_notebook(
            participant=participant,
            event_exercise=event_exercise,
            raw=bundle.baseline_notebook.read_bytes(),
            kind=Submission.Kind.GRADED,
        )
        services.grade_submission(submission.pk)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SCORED, submission.message
    assert submission.score == pytest.approx(bundle.manifest.target.baseline, rel=0.15)
    assert [image["file"] for image in submission.figures["images"]] == [picture]

    client.force_login(participant)
    page = client.get(reverse("grading:submission_detail", args=[submission.uid])).content.decode()
    for text in shown:
        assert text in page
    assert "_private" not in page  # the private part's values wait for the reveal
    image = client.get(reverse("grading:submission_figure", args=[submission.uid, picture]))
    assert image.status_code == 200 and b"".join(image.streaming_content).startswith(b"\x89PNG")
