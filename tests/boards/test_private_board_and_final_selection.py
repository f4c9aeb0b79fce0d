"""The private board stays hidden from participants until revealed, and ranks each participant's final selection."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.boards.ranking import Audience, Part
from grading.boards.selectors import exercise_board
from grading.boards.services import board_settings_for, pick_final_submissions, reveal_board, reveal_due_boards
from grading.errors import BoardActionRefused
from grading.models import AuditEntry, BoardSettings, FinalPick
from tests.builders.events import make_event, open_exercise
from tests.builders.people import make_organizer, person
from tests.builders.submissions import scored

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


@pytest.fixture
def contest():  # type: ignore[no-untyped-def]
    """Ada leads the public board, but her best public submission does worse on the private part than Bob's."""
    event_exercise = open_exercise(make_event())
    event = event_exercise.event
    ada, bob = person(event, "Ada L"), person(event, "Bob M")
    ada_best = scored(event_exercise, ada, 0.95, 0.80)
    ada_other = scored(event_exercise, ada, 0.90, 0.93)
    scored(event_exercise, bob, 0.85, 0.88)
    return event_exercise, ada, bob, ada_best, ada_other


def private_rows(event_exercise, audience=Audience.ORGANIZER):  # type: ignore[no-untyped-def]
    board = exercise_board(event_exercise, audience=audience, part=Part.PRIVATE)
    return board, [(row.name, row.score) for row in board.ranked]


def test_participants_see_no_private_score_until_the_board_is_revealed(client, contest):
    event_exercise, ada, *_ = contest
    board, rows = private_rows(event_exercise, Audience.PARTICIPANT)
    assert board.hidden and rows == []
    client.force_login(ada)
    url = reverse("grading:exercise_board", args=[event_exercise.event.slug, event_exercise.exercise.slug])
    page = client.get(url, {"part": "private"}).content.decode()
    assert "hidden until the organizers reveal it" in page
    assert "0.88" not in page and "0.8" not in page.split("Standings")[1]
    data = client.get(url.replace("board/", "board.json"), {"part": "private"}).json()
    assert data["hidden"] is True and data["rows"] == []


def test_organizers_always_see_the_private_board_ranked_by_each_best_public_submission(contest):
    event_exercise, *_ = contest
    board, rows = private_rows(event_exercise)
    assert not board.hidden
    # Ada's best public submission counts (0.80 private), not her best private one (0.93).
    assert rows == [("Bob M", 0.88), ("Ada L", 0.8)]


def test_an_organizer_reveals_the_private_board_once_and_the_log_says_who(contest):
    event_exercise, *_ = contest
    organizer = make_organizer(event_exercise.event)
    assert reveal_board(actor=organizer, event_exercise=event_exercise) is True
    assert reveal_board(actor=organizer, event_exercise=event_exercise) is False
    board, rows = private_rows(event_exercise, Audience.PARTICIPANT)
    assert not board.hidden and rows == [("Bob M", 0.88), ("Ada L", 0.8)]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REVEAL)
    assert entry.actor == organizer and entry.event_exercise == event_exercise


def test_a_participant_cannot_reveal_the_private_board(contest):
    event_exercise, ada, *_ = contest
    with pytest.raises(BoardActionRefused):
        reveal_board(actor=ada, event_exercise=event_exercise)
    assert private_rows(event_exercise, Audience.PARTICIPANT)[0].hidden


def test_the_periodic_task_reveals_boards_whose_time_has_come_and_only_those(contest):
    event_exercise, *_ = contest
    later = open_exercise(make_event())
    now = timezone.now()
    BoardSettings.objects.create(event_exercise=event_exercise, reveal_at=now - dt.timedelta(minutes=1))
    BoardSettings.objects.create(event_exercise=later, reveal_at=now + dt.timedelta(hours=1))
    assert reveal_due_boards(now) == [event_exercise.pk]
    assert reveal_due_boards(now) == []
    assert BoardSettings.objects.get(event_exercise=event_exercise).revealed_at == now
    assert BoardSettings.objects.get(event_exercise=later).revealed_at is None
    assert AuditEntry.objects.filter(action=AuditEntry.Action.REVEAL, actor=None).count() == 1


def test_picked_submissions_count_for_the_final_ranking(contest):
    event_exercise, ada, bob, ada_best, ada_other = contest
    BoardSettings.objects.create(event_exercise=event_exercise, final_picks=2)
    pick_final_submissions(participant=ada, event_exercise=event_exercise, uids=[str(ada_other.uid)])
    assert private_rows(event_exercise)[1] == [("Ada L", 0.93), ("Bob M", 0.88)]


def test_a_participant_picks_at_most_n_of_their_own_scored_submissions(contest):
    event_exercise, ada, bob, ada_best, ada_other = contest
    BoardSettings.objects.create(event_exercise=event_exercise, final_picks=1)
    with pytest.raises(BoardActionRefused, match="at most 1"):
        pick_final_submissions(
            participant=ada, event_exercise=event_exercise, uids=[str(ada_best.uid), str(ada_other.uid)]
        )
    bobs = event_exercise.submissions.get(participant=bob)
    with pytest.raises(BoardActionRefused, match="your own"):
        pick_final_submissions(participant=ada, event_exercise=event_exercise, uids=[str(bobs.uid)])
    assert not FinalPick.objects.exists()


def test_the_selection_locks_when_the_exercise_closes(client, contest):
    event_exercise, ada, bob, ada_best, ada_other = contest
    board_settings_for(event_exercise)
    BoardSettings.objects.filter(event_exercise=event_exercise).update(final_picks=2)
    pick_final_submissions(participant=ada, event_exercise=event_exercise, uids=[str(ada_best.uid)])
    after = event_exercise.closes_at + dt.timedelta(seconds=1)
    with pytest.raises(BoardActionRefused, match="locked"):
        pick_final_submissions(participant=ada, event_exercise=event_exercise, uids=[str(ada_other.uid)], now=after)
    assert list(FinalPick.objects.values_list("submission_id", flat=True)) == [ada_best.pk]


def test_the_final_selection_page_saves_a_participants_picks(client, contest):
    event_exercise, ada, bob, ada_best, ada_other = contest
    BoardSettings.objects.create(event_exercise=event_exercise, final_picks=2)
    client.force_login(ada)
    url = reverse("grading:final_selection", args=[event_exercise.event.slug, event_exercise.exercise.slug])
    page = client.get(url).content.decode()
    assert "Pick up to <strong>2</strong>" in page and str(ada_other.uid) in page
    response = client.post(url, {"pick": [str(ada_other.uid)]}, follow=True)
    assert "1 submission(s) picked" in response.content.decode()
    assert FinalPick.objects.get().submission == ada_other
