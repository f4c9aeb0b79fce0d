"""Attacks on share consent changed after submitting and on the pictures drawn after the score (issue 22)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from grading import pictures
from grading.api_auth import create_token
from grading.models import Submission
from tests.builders.events import make_groups, open_event_exercise
from tests.builders.people import join, make_organizer, make_participant, make_tutor
from tests.builders.submissions import scored_submission

pytestmark = pytest.mark.django_db

ROC = [{"file": "roc.png", "title": "ROC curve on the public part"}]


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bearer(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, name='tests').secret}")
    return client


def test_a_consent_patch_that_also_sends_score_status_or_owner_changes_only_the_consent():
    event_exercise = open_event_exercise()
    author, other = make_participant(event_exercise.event), make_participant(event_exercise.event)
    mine = scored_submission(event_exercise, author, share_notebook=False)
    body = {
        "share_notebook": True,
        "score": 1.0,
        "private_score": 1.0,
        "status": "queued",
        "participant": other.pk,
        "kind": "check",
        "secondary": {"auc": 1.0},
        "message": "forged",
        "finished_at": None,
    }
    answer = bearer(author).patch(f"/api/v1/submissions/{mine.uid}/", body, format="json")

    assert answer.status_code == 200
    row = Submission.objects.get(pk=mine.pk)
    assert row.share_notebook is True
    assert (row.score, row.private_score, row.status) == (0.8125, 0.7, Submission.Status.SCORED)
    assert (row.participant_id, row.kind, row.message) == (author.pk, mine.kind, "Scored.")
    assert row.finished_at == mine.finished_at
    assert answer.json()["score"] == 0.8125


def test_a_consent_patch_from_a_signed_in_browser_without_its_csrf_token_is_refused():
    event_exercise = open_event_exercise()
    author = make_participant(event_exercise.event)
    mine = scored_submission(event_exercise, author, share_notebook=True)
    forged = APIClient(enforce_csrf_checks=True)
    forged.force_login(author)

    answer = forged.patch(f"/api/v1/submissions/{mine.uid}/", {"share_notebook": False}, format="json")

    assert answer.status_code == 403
    assert Submission.objects.get(pk=mine.pk).share_notebook is True


def test_the_pictures_fragment_of_another_persons_run_answers_404_to_participants_and_other_tutors():
    event_exercise = open_event_exercise()
    tutor, other_tutor = make_tutor(event_exercise.event), make_tutor(event_exercise.event)
    first, second = make_groups(event_exercise, tutor, other_tutor)
    author, neighbour = join(event_exercise.event, first), join(event_exercise.event, first)
    stranger = join(event_exercise.event, second)
    for kind in (Submission.Kind.CHECK, Submission.Kind.GRADED):
        for figures in (pictures.being_drawn({"roc": {}}), pictures.drawn({"roc": {}}, ROC, complete=True)):
            theirs = scored_submission(event_exercise, author, kind=kind, figures=figures)
            fragment = reverse("grading:submission_pictures", args=[theirs.uid])
            figure = reverse("grading:submission_figure", args=[theirs.uid, "roc.png"])
            for outsider in (neighbour, stranger, other_tutor, make_participant(open_event_exercise().event)):
                assert signed_in(outsider).get(fragment).status_code == 404
                assert signed_in(outsider).get(figure).status_code == 404
                listed = bearer(outsider).get("/api/v1/submissions/").json()
                assert str(theirs.uid) not in str(listed)
                assert bearer(outsider).get(f"/api/v1/submissions/{theirs.uid}/").status_code == 404
            assert Client().get(fragment).status_code == 302  # to the sign-in page
            for insider in (author, tutor, make_organizer(event_exercise.event)):
                assert signed_in(insider).get(fragment).status_code == 200


@pytest.mark.parametrize(
    "figures",
    [
        {"drawing": "yes"},
        ["not", "a", "dict"],
        "drawing",
        {"images": [{"file": "roc.png", "title": "<script>alert(1)</script>\x00"}]},
    ],
)
def test_figures_that_no_worker_writes_never_break_the_page_or_poll_for_ever(figures, settings):
    # Only the worker writes figures (grading.pictures), so no participant reaches this; a row edited by hand must
    # still show its score (pictures_state called .get on any JSON value), and polling must end in time.
    event_exercise = open_event_exercise()
    author = make_participant(event_exercise.event)
    theirs = scored_submission(event_exercise, author, figures=figures)
    client = signed_in(author)
    page = client.get(theirs.get_absolute_url())
    fragment = client.get(reverse("grading:submission_pictures", args=[theirs.uid]))
    assert page.status_code == 200 and fragment.status_code == 200
    assert "<script>alert(1)" not in fragment.content.decode()
    settings.GRADING_PICTURES_SECONDS = -1
    assert "hx-get" not in client.get(reverse("grading:submission_pictures", args=[theirs.uid])).content.decode()
