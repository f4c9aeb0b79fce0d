"""After the deadline: the reference solution and consenting notebooks released to the event's people; the debrief."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from grading import closing
from grading.api_auth import create_token
from grading.errors import ReleaseRefused, SharingRefused
from grading.models import AuditEntry, Disqualification, ReleasedNotebook, Submission
from hackathon.models import EventExercise, Extension
from tests.builders.events import make_event, make_groups, open_exercise
from tests.builders.exercises import breast_cancer_exercise
from tests.builders.notebooks import CONSTANT_SCORES, FEATURE_SCORES, notebook_bytes
from tests.builders.people import join, make_organizer, make_participant, make_tutor, make_user

pytestmark = pytest.mark.django_db


def closed_exercise(**fields: Any) -> EventExercise:
    """The breast-cancer exercise of a new event, closed an hour ago."""
    return open_exercise(
        fields.pop("event", None) or make_event(),
        fields.pop("exercise", None) or breast_cancer_exercise(),
        opened=dt.timedelta(days=1),
        closes_in=-dt.timedelta(hours=1),
        **fields,
    )


def submission(event_exercise: EventExercise, participant: Any, *, score: float | None = None, **fields: Any):
    """A graded submission with its notebook on disk; scored when given a score."""
    fields.setdefault("status", Submission.Status.SCORED if score is not None else Submission.Status.QUEUED)
    made = Submission(event_exercise=event_exercise, participant=participant, score=score, **fields)
    made.notebook.save("n.ipynb", ContentFile(notebook_bytes(FEATURE_SCORES)), save=False)
    made.save()
    return made


def failed(event_exercise: EventExercise, participant: Any, message: str) -> Submission:
    return submission(
        event_exercise,
        participant,
        status=Submission.Status.FAILED,
        reason=Submission.Reason.EXCEPTION,
        message=message,
        failed_cell=1,
    )


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def debrief_url(event_exercise: EventExercise) -> str:
    return f"/events/{event_exercise.event.slug}/exercises/{event_exercise.exercise.slug}/debrief/"


def test_the_reference_solution_is_released_with_its_solutions_and_without_hidden_tests():
    event_exercise = closed_exercise()
    organizer, participant = make_organizer(event_exercise.event), make_participant(event_exercise.event)

    response = signed_in(organizer).post(debrief_url(event_exercise) + "release/", {"what": "reference"})

    assert response.status_code == 302
    released = ReleasedNotebook.objects.get(event_exercise=event_exercise)
    assert released.kind == ReleasedNotebook.Kind.REFERENCE and released.released_by == organizer
    page = signed_in(participant).get(released.get_absolute_url())
    assert page.status_code == 200
    text = page.content.decode()
    assert "LogisticRegression" in text
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "is_unique" not in text
    download = signed_in(participant).get(released.get_absolute_url() + "download/")
    assert download["Content-Disposition"] == 'attachment; filename="breast-cancer-solution.ipynb"'
    notebook = json.loads(download.content)
    assert any("LogisticRegression" in "".join(cell["source"]) for cell in notebook["cells"])


def test_a_notebook_whose_author_did_not_agree_can_never_be_released():
    event_exercise = closed_exercise()
    organizer = make_organizer(event_exercise.event)
    shy = submission(event_exercise, make_participant(event_exercise.event), score=0.99)

    with pytest.raises(ReleaseRefused, match="did not agree"):
        closing.release_submission(submission=shy, actor=organizer)
    response = signed_in(organizer).post(debrief_url(event_exercise) + "release/", {"submission": str(shy.uid)})

    assert response.status_code == 302
    assert not ReleasedNotebook.objects.exists()
    page = signed_in(organizer).get(debrief_url(event_exercise)).content.decode()
    assert "did not agree" in page
    assert f'value="{shy.uid}"' not in page  # no Release button for it


def test_a_consenting_notebook_is_released_as_sent_without_outputs_and_shows_to_the_events_people():
    event_exercise = closed_exercise()
    event = event_exercise.event
    organizer, author, reader = make_organizer(event), make_participant(event), make_participant(event)
    author.first_name, author.last_name = "Ada", "Rossi"
    author.save()
    shared = submission(event_exercise, author, score=0.93, share_notebook=True)

    response = signed_in(organizer).post(debrief_url(event_exercise) + "release/", {"submission": str(shared.uid)})

    assert response.status_code == 302
    released = ReleasedNotebook.objects.get(submission=shared)
    assert released.title == "Notebook of Ada Rossi, public score 0.9300"
    assert all(cell.get("outputs", []) == [] for cell in released.notebook["cells"])
    debrief = signed_in(reader).get(debrief_url(event_exercise)).content.decode()
    assert "Notebook of Ada Rossi" in debrief
    assert "mean_radius" in signed_in(reader).get(released.get_absolute_url()).content.decode()


def test_nothing_is_released_and_no_debrief_shows_before_the_deadline():
    now = timezone.now()
    event_exercise = closed_exercise(closes_at=now + dt.timedelta(hours=2))
    organizer, participant = make_organizer(event_exercise.event), make_participant(event_exercise.event)
    open_one = submission(event_exercise, participant, score=0.9, share_notebook=True)

    with pytest.raises(ReleaseRefused, match="release notebooks after that"):
        closing.release_reference(event_exercise=event_exercise, actor=organizer)
    with pytest.raises(ReleaseRefused):
        closing.release_submission(submission=open_one, actor=organizer)
    page = signed_in(participant).get(debrief_url(event_exercise))

    assert page.status_code == 200
    text = page.content.decode()
    assert "The debrief opens when the exercise closes" in text
    assert "Most common errors" not in text
    assert not ReleasedNotebook.objects.exists()


def test_nothing_is_released_while_a_participant_still_works_under_an_extension():
    event_exercise = closed_exercise()
    organizer, participant = make_organizer(event_exercise.event), make_participant(event_exercise.event)
    until = timezone.now() + dt.timedelta(hours=3)
    Extension.objects.create(event_exercise=event_exercise, user=participant, until=until, reason="Ill on Tuesday")

    with pytest.raises(ReleaseRefused, match=f"until {timezone.localtime(until):%d %b %Y at %H:%M}"):
        closing.release_reference(event_exercise=event_exercise, actor=organizer)
    assert not closing.has_closed(event_exercise)
    assert closing.has_closed(event_exercise, at=until)
    assert (
        "The debrief opens when the exercise closes"
        in signed_in(participant).get(debrief_url(event_exercise)).content.decode()
    )


def test_a_person_still_solving_the_exercise_in_another_edition_reads_none_of_its_released_notebooks():
    finished = closed_exercise()
    running = closed_exercise(event=make_event(), closes_at=timezone.now() + dt.timedelta(days=1))
    organizer = make_organizer(finished.event)
    both = make_participant(finished.event)
    make_participant(running.event, both)
    only_here = make_participant(finished.event)
    released = closing.release_reference(event_exercise=finished, actor=organizer)

    refused = signed_in(both).get(released.get_absolute_url())
    assert refused.status_code == 403
    assert f"You still take part in this exercise in {running.event.title}" in refused.content.decode()
    assert signed_in(both).get(released.get_absolute_url() + "download/").status_code == 403
    assert signed_in(only_here).get(released.get_absolute_url()).status_code == 200
    Extension.objects.create(event_exercise=running, user=both, until=timezone.now() + dt.timedelta(days=2), reason="x")
    assert closing.still_solving_elsewhere(both, finished, at=timezone.now() + dt.timedelta(days=1, hours=1)) == running
    assert closing.still_solving_elsewhere(both, finished, at=timezone.now() + dt.timedelta(days=3)) is None


def test_released_notebooks_are_read_only_by_the_events_people():
    event_exercise = closed_exercise()
    event = event_exercise.event
    organizer = make_organizer(event)
    released = closing.release_reference(event_exercise=event_exercise, actor=organizer)
    url = released.get_absolute_url()
    other_event = make_event()

    assert signed_in(make_participant(event)).get(url).status_code == 200
    assert signed_in(make_tutor(event)).get(url).status_code == 200
    assert signed_in(make_participant(other_event)).get(url).status_code == 404
    assert signed_in(make_organizer(other_event)).get(url).status_code == 404
    assert signed_in(make_user()).get(url + "download/").status_code == 404
    assert signed_in(make_participant(other_event)).get(debrief_url(event_exercise)).status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page


def test_only_the_events_organizers_release_or_withdraw():
    event_exercise = closed_exercise()
    event = event_exercise.event
    release = debrief_url(event_exercise) + "release/"

    assert signed_in(make_participant(event)).post(release, {"what": "reference"}).status_code == 403
    assert signed_in(make_tutor(event)).post(release, {"what": "reference"}).status_code == 403
    assert signed_in(make_organizer(make_event())).post(release, {"what": "reference"}).status_code == 404
    assert not ReleasedNotebook.objects.exists()

    released = closing.release_reference(event_exercise=event_exercise, actor=make_organizer(event))
    withdraw = f"{debrief_url(event_exercise)}notebooks/{released.pk}/withdraw/"
    assert signed_in(make_organizer(make_event())).post(withdraw).status_code == 404
    assert signed_in(make_participant(event)).post(withdraw).status_code == 403
    assert signed_in(make_organizer(event)).post(withdraw).status_code == 302
    assert not ReleasedNotebook.objects.exists()


def test_a_submission_of_another_exercise_cannot_be_released_through_this_one():
    event_exercise = closed_exercise()
    elsewhere = closed_exercise()
    foreign = submission(elsewhere, make_participant(elsewhere.event), score=0.9, share_notebook=True)

    response = signed_in(make_organizer(event_exercise.event)).post(
        debrief_url(event_exercise) + "release/", {"submission": str(foreign.uid)}
    )

    assert response.status_code == 404
    assert not ReleasedNotebook.objects.exists()


def test_the_debrief_shows_the_score_distribution_common_errors_and_released_notebooks():
    event_exercise = closed_exercise()
    event = event_exercise.event
    organizer = make_organizer(event)
    ada, bea, cleo = (make_participant(event) for _ in range(3))
    ada.first_name, ada.last_name = "Ada", "Secret"
    ada.save()
    submission(event_exercise, ada, score=0.91, private_score=0.123456)
    submission(event_exercise, ada, score=0.95, private_score=0.654321)
    submission(event_exercise, bea, score=0.62)
    cheat = submission(event_exercise, cleo, score=0.9999)
    Disqualification.objects.create(submission=cheat, reason="Looked the labels up.", by=organizer)
    failed(event_exercise, ada, "Cell 1 raised KeyError: 'radius'")
    failed(event_exercise, bea, "Cell 1 raised KeyError: 'rad'")
    failed(event_exercise, cleo, "Cell 1 raised KeyError: 'mean radius'")
    failed(event_exercise, cleo, "Cell 1 raised NameError: name 'np' is not defined")
    closing.release_reference(event_exercise=event_exercise, actor=organizer)

    found = closing.debrief(event_exercise)
    page = signed_in(bea).get(debrief_url(event_exercise)).content.decode()

    assert found.participants_scored == 2  # the disqualified run does not count
    assert found.best == 0.95 and found.median == pytest.approx((0.95 + 0.62) / 2)
    assert sum(bar.value for bar in found.distribution.bars) == 2
    # Cleo's NameError hit her alone: its message may quote her code, so it is hers, not a common error.
    assert [(e.signature.ename, e.people, e.count) for e in found.errors] == [("KeyError", 3, 3)]
    assert "2 participants scored" in page and "0.9500" in page
    assert "KeyError" in page and "NameError" not in page
    assert "Reference solution of Breast cancer" in page
    # Aggregates only: no one's name next to an error, no private score, no per-case data.
    assert "Secret" not in page
    assert "0.1235" not in page and "0.6543" not in page
    assert "Release the reference solution" not in page and "Top submissions" not in page


def test_the_organizers_debrief_lists_each_participants_best_submission_with_their_consent():
    event_exercise = closed_exercise()
    event = event_exercise.event
    ada, bea = make_participant(event), make_participant(event)
    submission(event_exercise, ada, score=0.8, share_notebook=True)
    best = submission(event_exercise, ada, score=0.97)
    submission(event_exercise, bea, score=0.9, share_notebook=True)

    top = closing.top_submissions(event_exercise)

    assert [(row.submission.score, row.consented) for row in top] == [(0.97, False), (0.9, True)]
    assert top[0].submission == best


def test_consent_to_share_is_recorded_from_the_submit_form_and_off_by_default():
    now = timezone.now()
    event_exercise = closed_exercise(closes_at=now + dt.timedelta(hours=1))
    participant = make_participant(event_exercise.event)
    client = signed_in(participant)
    url = f"/events/{event_exercise.event.slug}/exercises/{event_exercise.exercise.slug}/submit/"

    with mock.patch("grading.services.enqueue"):
        for shared in (True, False):
            notebook = io.BytesIO(notebook_bytes(CONSTANT_SCORES))
            notebook.name = "mine.ipynb"
            fields: dict[str, Any] = {"notebook": notebook, "kind": "graded"}
            if shared:
                fields["share_notebook"] = "on"
            assert client.post(url, fields).status_code == 302

    assert list(Submission.objects.order_by("id").values_list("share_notebook", flat=True)) == [True, False]
    page = client.get(f"/events/{event_exercise.event.slug}/exercises/{event_exercise.exercise.slug}/").content
    assert b"the organizers may show this notebook" in page


def test_consent_to_share_is_a_field_of_the_api_off_by_default():
    now = timezone.now()
    event_exercise = closed_exercise(closes_at=now + dt.timedelta(hours=1))
    participant = make_participant(event_exercise.event)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=participant, name='tests').secret}")

    answers = []
    with mock.patch("grading.services.enqueue"):
        for extra in ({"share_notebook": "true"}, {}):
            notebook = io.BytesIO(notebook_bytes(CONSTANT_SCORES))
            notebook.name = "mine.ipynb"
            fields = {"exercise": event_exercise.exercise.slug, "notebook": notebook, **extra}
            answers.append(client.post("/api/v1/submissions/", fields, format="multipart").json())

    assert [answer["share_notebook"] for answer in answers] == [True, False]
    assert list(Submission.objects.order_by("id").values_list("share_notebook", flat=True)) == [True, False]


def test_the_command_line_client_sends_consent_only_when_asked(tmp_path):
    from grading.client import Api, Config, parser

    notebook = tmp_path / "mine.ipynb"
    notebook.write_bytes(notebook_bytes(CONSTANT_SCORES))
    sent: list[dict[str, str]] = []

    def record(self: Api, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        sent.append(kwargs["data"])
        return {}

    with mock.patch.object(Api, "_call", record):
        api = Api(Config(url="http://site.example", token="t", event=""))
        api.submit("breast-cancer", notebook, check=False, share=True)
        api.submit("breast-cancer", notebook, check=False)

    assert sent[0]["share_notebook"] == "true" and "share_notebook" not in sent[1]
    assert parser().parse_args(["breast-cancer", "mine.ipynb", "--share"]).share is True
    assert parser().parse_args(["breast-cancer", "mine.ipynb"]).share is False


# --- Giving and withdrawing consent after submitting ------------------------------------------------------------


def sharing_url(shared: Submission) -> str:
    return f"/submissions/{shared.uid}/sharing/"


def api_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user, name='tests').secret}")
    return client


def consent_log(event_exercise: EventExercise) -> list[tuple[str, int | None]]:
    entries = AuditEntry.objects.filter(event_exercise=event_exercise).order_by("at", "id")
    return [(entry.action, entry.actor_id) for entry in entries]


def test_the_author_who_stops_sharing_before_the_release_can_no_longer_be_released():
    event_exercise = closed_exercise()
    organizer, author = make_organizer(event_exercise.event), make_participant(event_exercise.event)
    shared = submission(event_exercise, author, score=0.93, share_notebook=True)
    page = signed_in(author).get(shared.get_absolute_url()).content.decode()
    assert "Stop sharing" in page

    response = signed_in(author).post(sharing_url(shared), {"share": "no"})

    assert response.status_code == 302 and response["Location"] == shared.get_absolute_url()
    shared.refresh_from_db()
    assert shared.share_notebook is False
    assert consent_log(event_exercise) == [(AuditEntry.Action.UNSHARE, author.pk)]
    with pytest.raises(ReleaseRefused, match="did not agree"):
        closing.release_submission(submission=shared, actor=organizer)
    released = signed_in(organizer).post(debrief_url(event_exercise) + "release/", {"submission": str(shared.uid)})
    assert released.status_code == 302 and not ReleasedNotebook.objects.exists()
    assert "did not agree" in signed_in(organizer).get(debrief_url(event_exercise)).content.decode()


def test_stopping_after_the_release_takes_the_notebook_off_the_debrief_and_its_address_answers_404():
    event_exercise = closed_exercise()
    event = event_exercise.event
    organizer, author, reader = make_organizer(event), make_participant(event), make_participant(event)
    tutor = make_tutor(event)
    author.first_name, author.last_name = "Ada", "Rossi"
    author.save()
    shared = submission(event_exercise, author, score=0.93, share_notebook=True)
    released = closing.release_submission(submission=shared, actor=organizer)
    url = released.get_absolute_url()
    assert signed_in(reader).get(url + "download/").status_code == 200
    assert "It is released" in signed_in(author).get(shared.get_absolute_url()).content.decode()

    assert signed_in(author).post(sharing_url(shared), {"share": "no"}).status_code == 302

    assert not ReleasedNotebook.objects.exists()
    for person in (reader, tutor, organizer, author):
        assert "Notebook of Ada Rossi" not in signed_in(person).get(debrief_url(event_exercise)).content.decode()
        for address in (url, url + "download/"):
            answer = signed_in(person).get(address)
            assert answer.status_code == 404
            assert "its author stopped sharing it" in answer.content.decode()
    own_page = signed_in(author).get(shared.get_absolute_url())
    assert (
        own_page.status_code == 200
        and "Share my notebook with the event after the deadline" in own_page.content.decode()
    )
    entry = AuditEntry.objects.get(event_exercise=event_exercise)
    assert (entry.action, entry.submission_id, entry.reason) == (
        AuditEntry.Action.UNSHARE,
        shared.pk,
        "Its release was taken back.",
    )


def test_the_author_may_agree_after_submitting_and_the_organizers_then_release_it_themselves():
    event_exercise = closed_exercise()
    organizer, author = make_organizer(event_exercise.event), make_participant(event_exercise.event)
    shy = submission(event_exercise, author, score=0.93)
    assert "did not agree" in signed_in(organizer).get(debrief_url(event_exercise)).content.decode()

    response = signed_in(author).post(sharing_url(shy), {"share": "yes"})

    assert response.status_code == 302
    shy.refresh_from_db()
    assert shy.share_notebook is True
    assert consent_log(event_exercise) == [(AuditEntry.Action.SHARE, author.pk)]
    assert not ReleasedNotebook.objects.exists()  # agreeing releases nothing by itself
    page = signed_in(organizer).get(debrief_url(event_exercise)).content.decode()
    assert "agreed" in page and f'value="{shy.uid}"' in page  # a Release button now
    signed_in(organizer).post(debrief_url(event_exercise) + "release/", {"submission": str(shy.uid)})
    assert ReleasedNotebook.objects.get().submission == shy


def test_consent_may_change_before_the_deadline_too_and_asking_for_what_holds_writes_nothing():
    event_exercise = closed_exercise(closes_at=timezone.now() + dt.timedelta(hours=2))
    author = make_participant(event_exercise.event)
    mine = submission(event_exercise, author, score=0.9)

    assert closing.set_notebook_sharing(submission=mine, author=author, share=True) is True
    assert closing.set_notebook_sharing(submission=mine, author=author, share=True) is False
    assert closing.set_notebook_sharing(submission=mine, author=author, share=False) is True

    mine.refresh_from_db()
    assert mine.share_notebook is False
    assert consent_log(event_exercise) == [(AuditEntry.Action.SHARE, author.pk), (AuditEntry.Action.UNSHARE, author.pk)]


def test_nobody_but_the_author_gives_or_withdraws_consent_and_a_refusal_changes_nothing():
    event_exercise = closed_exercise()
    event = event_exercise.event
    tutor, organizer = make_tutor(event), make_organizer(event)
    (group,) = make_groups(event_exercise, tutor)
    author, neighbour = join(event, group), join(event, group)
    shared = submission(event_exercise, author, score=0.93, share_notebook=True)
    shy = submission(event_exercise, author, score=0.5)
    released = closing.release_submission(submission=shared, actor=organizer)

    for target, share in ((shared, "no"), (shy, "yes")):
        assert signed_in(neighbour).post(sharing_url(target), {"share": share}).status_code == 404
        assert signed_in(make_participant(make_event())).post(sharing_url(target), {"share": share}).status_code == 404
        assert signed_in(tutor).post(sharing_url(target), {"share": share}).status_code == 403
        assert signed_in(organizer).post(sharing_url(target), {"share": share}).status_code == 403
        assert Client().post(sharing_url(target), {"share": share}).status_code == 302  # to the sign-in page
        body = {"share_notebook": share == "yes"}
        assert api_client(neighbour).patch(f"/api/v1/submissions/{target.uid}/", body).status_code == 404
        assert api_client(tutor).patch(f"/api/v1/submissions/{target.uid}/", body).status_code == 403
        assert api_client(organizer).patch(f"/api/v1/submissions/{target.uid}/", body).status_code == 403
    with pytest.raises(SharingRefused):
        closing.set_notebook_sharing(submission=shared, author=organizer, share=False)

    assert list(Submission.objects.order_by("id").values_list("share_notebook", flat=True)) == [True, False]
    assert ReleasedNotebook.objects.get() == released
    assert consent_log(event_exercise) == []
    assert "Stop sharing" not in signed_in(organizer).get(shared.get_absolute_url()).content.decode()


def test_changing_consent_on_the_page_needs_a_post_with_its_csrf_token():
    event_exercise = closed_exercise()
    author = make_participant(event_exercise.event)
    shared = submission(event_exercise, author, score=0.93, share_notebook=True)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(author)

    assert signed_in(author).get(sharing_url(shared)).status_code == 405
    assert strict.post(sharing_url(shared), {"share": "no"}).status_code == 403
    shared.refresh_from_db()
    assert shared.share_notebook is True
    page = strict.get(shared.get_absolute_url())
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else strict.cookies["csrftoken"].value
    assert strict.post(sharing_url(shared), {"share": "no", "csrfmiddlewaretoken": token}).status_code == 302
    shared.refresh_from_db()
    assert shared.share_notebook is False


def test_the_author_changes_consent_through_the_api_and_a_withdrawal_takes_back_the_release():
    event_exercise = closed_exercise()
    organizer, author = make_organizer(event_exercise.event), make_participant(event_exercise.event)
    shared = submission(event_exercise, author, score=0.93, share_notebook=True)
    closing.release_submission(submission=shared, actor=organizer)
    client, url = api_client(author), f"/api/v1/submissions/{shared.uid}/"

    withdrawn = client.patch(url, {"share_notebook": False}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["share_notebook"] is False
    assert not ReleasedNotebook.objects.exists()
    given = client.patch(url, {"share_notebook": True}, format="json")
    assert given.status_code == 200 and given.json()["share_notebook"] is True
    assert not ReleasedNotebook.objects.exists()  # releasing it again is the organizers' act
    missing = client.patch(url, {}, format="json")
    assert missing.status_code == 400 and "share_notebook" in missing.json()["errors"]

    shared.refresh_from_db()
    assert shared.share_notebook is True
    assert consent_log(event_exercise) == [(AuditEntry.Action.UNSHARE, author.pk), (AuditEntry.Action.SHARE, author.pk)]
    schema = client.get("/api/v1/schema/?format=json").json()
    assert "patch" in schema["paths"]["/api/v1/submissions/{uid}/"]


def test_a_release_ordered_with_stale_consent_is_refused_once_the_author_withdrew():
    event_exercise = closed_exercise()
    organizer, author = make_organizer(event_exercise.event), make_participant(event_exercise.event)
    shared = submission(event_exercise, author, score=0.93, share_notebook=True)
    stale = Submission.objects.get(pk=shared.pk)  # what the organizer's request loaded before the withdrawal

    closing.set_notebook_sharing(submission=shared, author=author, share=False)

    with pytest.raises(ReleaseRefused, match="did not agree"):
        closing.release_submission(submission=stale, actor=organizer)
    assert not ReleasedNotebook.objects.exists()
