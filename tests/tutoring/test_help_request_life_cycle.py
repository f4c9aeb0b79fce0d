"""A help request is raised, waits its turn, is claimed, answered in a thread and resolved; mail and pages follow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.errors import HelpRequestRefused
from grading.models import HelpMessage, HelpRequest
from grading.tutoring import selectors as tutoring
from grading.tutoring import services as help_requests
from hackathon.models import Registration
from tests.builders.submissions import submission

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

OPEN, CLAIMED, RESOLVED = HelpRequest.Status.OPEN, HelpRequest.Status.CLAIMED, HelpRequest.Status.RESOLVED


def ask(client, setting, person, message: str = "My validation loss goes up from the first epoch.", **extra):
    client.force_login(person)
    with_mail = {"message": message, **extra}
    return client.post(reverse("grading:raise_help_request", args=[setting.event.slug]), with_mail, follow=True)


def test_the_whole_life_of_a_request_from_raising_to_resolving(
    client, setting, mailoutbox, django_capture_on_commit_callbacks
):
    # The participant raises it: the group's tutor is mailed, the participant sees their place.
    with django_capture_on_commit_callbacks(execute=True):
        page = ask(client, setting, setting.ada)
    request = HelpRequest.objects.get()
    assert (request.status, request.group, request.participant) == (OPEN, setting.group, setting.ada)
    assert "number 1 in your group" in page.content.decode()
    assert [m.to for m in mailoutbox] == [["tina@example.org"]]
    assert "validation loss" in mailoutbox[0].body
    assert reverse("grading:help_request", args=[setting.event.slug, request.pk]) in mailoutbox[0].body

    # The tutor sees it in their queue and claims it.
    client.force_login(setting.tutor)
    queue = client.get(reverse("grading:tutor_help_queue", args=[setting.event.slug])).content.decode()
    assert "validation loss" in queue and "Take it" in queue
    client.post(reverse("grading:claim_help_request", args=[setting.event.slug, request.pk]))
    request.refresh_from_db()
    assert (request.status, request.claimed_by) == (CLAIMED, setting.tutor)
    assert request.claimed_at is not None

    # The tutor answers: the participant is mailed and reads it on their page.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("grading:answer_help_request", args=[setting.event.slug, request.pk]),
            {"text": "Lower the learning rate to 1e-4 and add early stopping."},
        )
    assert mailoutbox[-1].to == ["ada@example.org"]
    assert "early stopping" in mailoutbox[-1].body
    client.force_login(setting.ada)
    panel = client.get(reverse("grading:my_help", args=[setting.event.slug])).content.decode()
    assert "early stopping" in panel and "tina@example.org is on it" in panel

    # The participant replies in the thread, which mails the tutor who took it; the tutor resolves the request.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("grading:answer_help_request", args=[setting.event.slug, request.pk]),
            {"text": "That worked, thanks!", "back": "my_event"},
        )
    assert mailoutbox[-1].to == ["tina@example.org"]
    assert "That worked, thanks!" in mailoutbox[-1].body and "replied" in mailoutbox[-1].subject
    client.force_login(setting.tutor)
    client.post(reverse("grading:resolve_help_request", args=[setting.event.slug, request.pk]))
    request.refresh_from_db()
    assert request.status == RESOLVED and request.resolved_at is not None
    assert list(request.messages.values_list("author__email", flat=True)) == ["tina@example.org", "ada@example.org"]

    # Once resolved, the participant's panel stops polling and they may ask again.
    client.force_login(setting.ada)
    assert client.get(reverse("grading:my_help", args=[setting.event.slug])).status_code == 286
    ask(client, setting, setting.ada, "Now my predictions file has the wrong number of rows.")
    assert HelpRequest.objects.filter(participant=setting.ada).count() == 2


def test_requests_wait_in_their_groups_queue_in_the_order_they_came(setting):
    first = help_requests.raise_help_request(
        participant=setting.ada, event=setting.event, message="First in line here."
    )
    elsewhere = help_requests.raise_help_request(
        participant=setting.cy, event=setting.event, message="Another group's question."
    )
    second = help_requests.raise_help_request(participant=setting.bob, event=setting.event, message="Second in line.")
    HelpRequest.objects.filter(pk=first.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    first.refresh_from_db()
    assert [tutoring.place_in_queue(r) for r in (first, second, elsewhere)] == [1, 2, 1]
    assert list(tutoring.help_queue(setting.tutor, setting.event)) == [first, second]
    assert list(tutoring.help_queue(setting.other_tutor, setting.event)) == [elsewhere]
    help_requests.claim_help_request(help_request=first, tutor=setting.tutor)
    second.refresh_from_db()
    assert tutoring.place_in_queue(second) == 1
    assert tutoring.place_in_queue(first) is None


def test_only_the_groups_tutors_and_organizers_may_claim_answer_or_resolve(client, setting):
    request = help_requests.raise_help_request(
        participant=setting.ada, event=setting.event, message="Why is my AUC exactly 0.5?"
    )
    for who in ("other_tutor", "bob", "stranger"):
        client.force_login(getattr(setting, who))
        for action in ("claim_help_request", "answer_help_request", "resolve_help_request"):
            url = reverse(f"grading:{action}", args=[setting.event.slug, request.pk])
            assert client.post(url, {"text": "Let me see."}).status_code == 404, (who, action)
    request.refresh_from_db()
    assert request.status == OPEN and not request.messages.exists()
    client.force_login(setting.organizer)
    client.post(reverse("grading:claim_help_request", args=[setting.event.slug, request.pk]))
    request.refresh_from_db()
    assert request.claimed_by == setting.organizer


def test_a_participant_cannot_claim_their_own_request(client, setting):
    request = help_requests.raise_help_request(
        participant=setting.ada, event=setting.event, message="Need a hand here."
    )
    client.force_login(setting.ada)
    assert client.post(reverse("grading:claim_help_request", args=[setting.event.slug, request.pk])).status_code == 404


def test_a_request_claimed_by_one_tutor_cannot_be_taken_by_another(setting):
    second_tutor = setting.other_tutor
    setting.group.tutors.add(second_tutor)
    request = help_requests.raise_help_request(participant=setting.ada, event=setting.event, message="Shapes mismatch.")
    help_requests.claim_help_request(help_request=request, tutor=setting.tutor)
    with pytest.raises(HelpRequestRefused, match="already taken"):
        help_requests.claim_help_request(help_request=request, tutor=second_tutor)
    request.refresh_from_db()
    assert request.claimed_by == setting.tutor


def test_a_tutors_answer_to_a_waiting_request_takes_it(setting):
    request = help_requests.raise_help_request(participant=setting.ada, event=setting.event, message="Kernel died.")
    help_requests.answer_help_request(help_request=request, author=setting.tutor, text="Which cell?")
    request.refresh_from_db()
    assert (request.status, request.claimed_by) == (CLAIMED, setting.tutor)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("help", "at least 10 characters"),
        ("   ", "at least 10 characters"),
        ("x" * (HelpRequest.MESSAGE_MAX_CHARS + 1), f"under {HelpRequest.MESSAGE_MAX_CHARS} characters"),
    ],
)
def test_a_request_of_the_wrong_length_is_refused_with_a_clear_message(client, setting, message, expected):
    page = ask(client, setting, setting.ada, message).content.decode()
    assert expected in page
    assert not HelpRequest.objects.exists()


def test_an_empty_or_overlong_reply_is_refused(client, setting):
    request = help_requests.raise_help_request(participant=setting.ada, event=setting.event, message="Loss is NaN.")
    client.force_login(setting.tutor)
    url = reverse("grading:answer_help_request", args=[setting.event.slug, request.pk])
    page = client.post(url, {"text": "  "}, follow=True).content.decode()
    assert "Write your message before sending it." in page
    page = client.post(url, {"text": "y" * (HelpMessage.MAX_CHARS + 1)}, follow=True).content.decode()
    assert f"under {HelpMessage.MAX_CHARS} characters" in page
    assert not HelpMessage.objects.exists()


def test_a_second_request_while_one_waits_is_refused(client, setting):
    ask(client, setting, setting.ada)
    page = ask(client, setting, setting.ada, "And another thing entirely.").content.decode()
    assert "already have a help request waiting" in page
    assert HelpRequest.objects.count() == 1


def test_a_request_can_be_tied_to_ones_own_submission_only(client, setting):
    mine = submission(setting.event_exercise, setting.ada, "failed")
    theirs = submission(setting.event_exercise, setting.bob, "failed")
    page = ask(client, setting, setting.ada, "Why did this one fail?", submission=str(theirs.uid)).content.decode()
    assert "not one of yours" in page
    assert not HelpRequest.objects.exists()
    ask(client, setting, setting.ada, "Why did this one fail?", submission=str(mine.uid))
    assert HelpRequest.objects.get().submission == mine
    client.force_login(setting.tutor)
    body = client.get(reverse("grading:help_request", args=[setting.event.slug, HelpRequest.objects.get().pk])).content
    assert mine.get_absolute_url().encode() in body


def test_the_submission_page_offers_its_owner_a_help_request_about_it(client, setting):
    mine = submission(setting.event_exercise, setting.ada, "failed")
    client.force_login(setting.ada)
    body = client.get(mine.get_absolute_url()).content.decode()
    link = reverse("grading:my_event", args=[setting.event.slug]) + f"?submission={mine.uid}"
    assert link in body
    assert f'<option value="{mine.uid}" selected>' in client.get(link).content.decode()


def test_only_confirmed_participants_may_ask(setting):
    with pytest.raises(HelpRequestRefused, match="Only confirmed participants"):
        help_requests.raise_help_request(participant=setting.tutor, event=setting.event, message="A tutor's question.")


def test_a_request_without_a_group_goes_to_the_organizers(setting, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = help_requests.raise_help_request(
            participant=setting.dee, event=setting.event, message="I have no group yet, can someone help?"
        )
    assert request.group is None
    assert [m.to for m in mailoutbox] == [["olga@example.org"]]
    assert list(tutoring.help_queue(setting.organizer, setting.event)) == [request]
    assert list(tutoring.help_queue(setting.tutor, setting.event)) == []


def test_a_request_raised_before_a_group_follows_its_participant_to_their_groups_tutors(client, setting):
    client.force_login(setting.dee)
    page = client.post(
        reverse("grading:raise_help_request", args=[setting.event.slug]),
        {"message": "I have no group yet, can someone help?"},
        follow=True,
    ).content.decode()
    assert "You have no group yet, so your request is with the organizers" in page
    assert "with your group&#x27;s tutors." not in page
    request = HelpRequest.objects.get(participant=setting.dee)
    assert list(tutoring.help_queue(setting.tutor, setting.event)) == []
    Registration.objects.filter(event=setting.event, user=setting.dee).update(group=setting.group)
    assert list(tutoring.help_queue(setting.tutor, setting.event)) == [request]
    assert list(tutoring.help_queue(setting.other_tutor, setting.event)) == []
    help_requests.claim_help_request(tutor=setting.tutor, help_request=request)
    assert HelpRequest.objects.get(pk=request.pk).claimed_by == setting.tutor


def test_a_participants_follow_up_on_a_waiting_request_goes_to_the_groups_tutors(
    setting, mailoutbox, django_capture_on_commit_callbacks
):
    request = help_requests.raise_help_request(participant=setting.ada, event=setting.event, message="Loss is NaN.")
    with django_capture_on_commit_callbacks(execute=True):
        help_requests.answer_help_request(help_request=request, author=setting.ada, text="It starts at epoch 3.")
    assert [m.to for m in mailoutbox] == [["tina@example.org"]]
    assert "It starts at epoch 3." in mailoutbox[0].body
    request.refresh_from_db()
    assert request.status == OPEN  # a participant's own message takes nothing


def test_organizers_see_every_open_request_and_how_long_it_has_waited(client, setting):
    old = help_requests.raise_help_request(participant=setting.ada, event=setting.event, message="Waiting a while.")
    help_requests.raise_help_request(participant=setting.cy, event=setting.event, message="Just asked this one.")
    taken = help_requests.raise_help_request(participant=setting.bob, event=setting.event, message="Taken already.")
    HelpRequest.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(minutes=12))
    HelpRequest.objects.filter(pk=taken.pk).update(created_at=timezone.now() - dt.timedelta(minutes=6))
    taken.refresh_from_db()
    help_requests.claim_help_request(help_request=taken, tutor=setting.tutor)
    overview = tutoring.event_help_overview(setting.event)
    assert (overview.open_count, overview.claimed_count) == (2, 1)
    assert overview.longest_wait_s == pytest.approx(12 * 60, abs=5)
    assert overview.median_time_to_claim_s == pytest.approx(6 * 60, abs=5)
    assert [w.help_request.participant for w in overview.waiting] == [setting.ada, setting.bob, setting.cy]
    client.force_login(setting.organizer)
    body = client.get(reverse("grading:event_help_requests", args=[setting.event.slug])).content.decode()
    assert "12 min" in body and "Waiting a while." in body and "Just asked this one." in body
    polled = client.get(
        reverse("grading:event_help_requests", args=[setting.event.slug]), headers={"HX-Request": "true"}
    )
    assert b"<html" not in polled.content and b"Waiting a while." in polled.content
