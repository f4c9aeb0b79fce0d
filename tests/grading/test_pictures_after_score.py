"""The score is stored before the feedback pictures are drawn; pages and the API say while they are being drawn."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from grading import pictures, services
from grading.models import Submission
from tests.api.conftest import client_of
from tests.builders.events import open_event_exercise
from tests.builders.notebooks import CONSTANT_SCORES
from tests.builders.people import participant_of
from tests.builders.submissions import scored_submission
from tests.grading.test_grading_runs import graded, submitted

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

ROC = [{"file": "roc.png", "title": "ROC curve on the public part"}]


def row(submission: Submission) -> Submission:
    return Submission.objects.get(pk=submission.pk)


# --- The worker: score first, then the pictures -----------------------------------------------------------


def test_the_score_is_stored_before_the_pictures_are_drawn_then_the_pictures_beside_it(bwrap):
    submission = submitted(CONSTANT_SCORES)
    seen: dict[str, Any] = {}
    draw = services.draw_figures

    def drawing(*args: Any, **kwargs: Any) -> Any:
        now = row(submission)  # what any page or API call reads while the pictures are being drawn
        seen.update(status=now.status, score=now.score, state=now.pictures_state, figures=now.figures)
        return draw(*args, **kwargs)

    with mock.patch("grading.services.draw_figures", side_effect=drawing):
        final = graded(submission)
    assert (seen["status"], seen["score"], seen["state"]) == (Submission.Status.SCORED, 0.5, pictures.DRAWING)
    assert seen["figures"]["images"] == [] and "roc" in seen["figures"]["data"]
    assert (final.status, final.score, final.finished_at is not None) == (Submission.Status.SCORED, 0.5, True)
    assert final.figures == {"data": seen["figures"]["data"], "images": ROC}
    assert final.pictures_state == pictures.DRAWN
    assert (services.results_dir(final) / "roc.png").read_bytes().startswith(b"\x89PNG")


def test_a_picture_that_cannot_be_drawn_leaves_the_score_and_says_so(bwrap):
    submission = submitted(CONSTANT_SCORES)
    with mock.patch("exercises.kinds.figures.roc_curve", side_effect=RuntimeError("no fonts")):
        final = graded(submission)
    assert (final.status, final.score, final.private_score) == (Submission.Status.SCORED, 0.5, 0.5)
    assert "ROC AUC (area under the ROC curve) 0.5" in final.message
    assert final.figures["images"] == [] and final.figures["failed"] is True and "roc" in final.figures["data"]
    assert final.pictures_state == pictures.FAILED


def test_a_crash_while_drawing_keeps_the_score_runs_nothing_again_and_marks_the_pictures_failed(bwrap):
    submission = submitted(CONSTANT_SCORES)
    with mock.patch("grading.services.draw_figures", side_effect=RuntimeError("the worker broke")):
        final = graded(submission)
    assert (final.status, final.reason, final.score, final.attempts) == (Submission.Status.SCORED, "", 0.5, 1)
    assert final.pictures_state == pictures.FAILED and "roc" in final.figures["data"]
    final.enqueue_mock.assert_not_called()  # a stored score is never run again for its pictures


def test_a_run_taken_over_before_its_score_is_stored_draws_nothing_onto_the_others_row(bwrap):
    submission = submitted(CONSTANT_SCORES)
    evaluate = services.evaluate

    def evaluated_while_taken_over(*args: Any, **kwargs: Any) -> Any:
        Submission.objects.filter(pk=submission.pk).update(attempts=2)  # another worker claimed the run
        return evaluate(*args, **kwargs)

    with (
        mock.patch("grading.services.evaluate", side_effect=evaluated_while_taken_over),
        mock.patch("grading.services.draw_figures") as draw,
    ):
        final = graded(submission)
    draw.assert_not_called()
    assert (final.status, final.attempts, final.score, final.figures) == (Submission.Status.RUNNING, 2, None, {})
    assert not services.results_dir(final).exists()


def test_pictures_drawn_for_a_result_replaced_meanwhile_are_dropped(bwrap):
    submission = submitted(CONSTANT_SCORES)
    draw = services.draw_figures

    def drawing_while_rescored(*args: Any, **kwargs: Any) -> Any:
        # The organizers re-score (grading.boards.services); the run is queued again, without pictures.
        Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.QUEUED, score=None, figures={})
        return draw(*args, **kwargs)

    with mock.patch("grading.services.draw_figures", side_effect=drawing_while_rescored):
        final = graded(submission)
    assert (final.status, final.figures) == (Submission.Status.QUEUED, {})


def test_other_callers_of_run_and_score_still_get_the_pictures_in_the_result(bwrap, tmp_path):
    submission = submitted(CONSTANT_SCORES)
    data_dir, answers = services.dataset_for(submission)
    grading = services.run_and_score(
        submission.event_exercise.exercise,
        services.Path(submission.notebook.path),
        data_dir=data_dir,
        answers_path=answers,
        figures_dir=tmp_path / "figures",
    )
    assert (grading.status, grading.images, grading.pictures_complete) == (Submission.Status.SCORED, ROC, True)


# --- Where the drawing stands ---------------------------------------------------------------------------------


def test_pictures_never_stored_are_given_up_after_the_configured_time(settings):
    settings.GRADING_PICTURES_SECONDS = 60
    scored_at = timezone.now()
    drawing = pictures.being_drawn({"roc": {}})
    assert pictures.pictures_state(drawing, scored_at, now=scored_at + dt.timedelta(seconds=59)) == pictures.DRAWING
    assert pictures.pictures_state(drawing, scored_at, now=scored_at + dt.timedelta(seconds=61)) == pictures.FAILED
    assert pictures.pictures_state(pictures.drawn({}, ROC, complete=True), scored_at) == pictures.DRAWN
    assert pictures.pictures_state(pictures.drawn({}, ROC, complete=False), scored_at) == pictures.FAILED
    assert pictures.pictures_state({}, None) == pictures.NONE
    assert pictures.pictures_state(pictures.drawn({"roc": {}}, [], complete=True), scored_at) == pictures.NONE


# --- Pages and API --------------------------------------------------------------------------------------------


@pytest.fixture
def being_drawn():  # type: ignore[no-untyped-def]
    """A scored submission of a participant, whose pictures are being drawn."""
    event_exercise = open_event_exercise()
    person = participant_of(event_exercise)
    return person, scored_submission(event_exercise, person, figures=pictures.being_drawn({"roc": {}}))


def test_the_page_says_the_pictures_are_being_drawn_and_polls_until_they_are_shown(client, being_drawn):
    person, submission = being_drawn
    client.force_login(person)
    poll = f'hx-get="{reverse("grading:submission_pictures", args=[submission.uid])}"'
    page = client.get(submission.get_absolute_url()).content.decode()
    assert "Public score: <strong>0.8125</strong>" in page
    assert "Drawing the pictures" in page and poll in page
    fragment = client.get(reverse("grading:submission_pictures", args=[submission.uid])).content.decode()
    assert "Drawing the pictures" in fragment and poll in fragment and 'hx-trigger="every 2s"' in fragment
    Submission.objects.filter(pk=submission.pk).update(figures=pictures.drawn({"roc": {}}, ROC, complete=True))
    fragment = client.get(reverse("grading:submission_pictures", args=[submission.uid])).content.decode()
    assert "hx-get" not in fragment and "Drawing" not in fragment
    figure = reverse("grading:submission_figure", args=[submission.uid, "roc.png"])
    assert f'<img src="{figure}" alt="ROC curve on the public part">' in fragment


def test_pictures_that_never_arrive_stop_the_polling_and_are_said_to_have_failed(client, being_drawn, settings):
    person, submission = being_drawn
    long_ago = timezone.now() - dt.timedelta(seconds=settings.GRADING_PICTURES_SECONDS + 1)
    Submission.objects.filter(pk=submission.pk).update(finished_at=long_ago)
    client.force_login(person)
    for url in (submission.get_absolute_url(), reverse("grading:submission_pictures", args=[submission.uid])):
        page = client.get(url).content.decode()
        assert "The pictures could not be drawn; the score stands." in page
        assert "submission_pictures" not in page and "/pictures/" not in page


def test_a_result_without_pictures_shows_no_pictures_panel(client, being_drawn):
    person, submission = being_drawn
    Submission.objects.filter(pk=submission.pk).update(figures={})
    client.force_login(person)
    page = client.get(submission.get_absolute_url()).content.decode()
    assert 'id="pictures"' not in page and "/pictures/" not in page


def test_the_api_says_whether_the_pictures_are_drawn_beside_its_fields(being_drawn):
    person, submission = being_drawn
    api = client_of(person)
    body = api.get(f"/api/v1/submissions/{submission.uid}/").json()
    assert (body["status"], body["is_final"], body["score"], body["pictures"]) == ("scored", True, 0.8125, "drawing")
    Submission.objects.filter(pk=submission.pk).update(figures=pictures.drawn({"roc": {}}, ROC, complete=True))
    assert api.get(f"/api/v1/submissions/{submission.uid}/").json()["pictures"] == "drawn"
    listed = api.get("/api/v1/submissions/").json()["results"]
    assert [(row["uid"], row["pictures"]) for row in listed] == [(str(submission.uid), "drawn")]
