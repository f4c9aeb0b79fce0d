"""Announcements: the audience is resolved when sent and recorded, shown until read, emailed to who wants it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from grading.tutoring import audiences
from hackathon import announcements
from hackathon.errors import AnnouncementRefused
from hackathon.models import Announcement, AnnouncementReceipt, Preferences, Registration
from tests.builders.people import make_participant, make_user
from tests.builders.submissions import exception, submission

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]

FAILED = "failed"


def _send(setting, audience, *, author=None, body="The data set was **fixed**: download it again."):  # type: ignore[no-untyped-def]
    return announcements.send_announcement(
        author=author or setting.organizer, event=setting.event, title="Data fixed", body=body, audience=audience
    )


def _ids(*people) -> frozenset[int]:  # type: ignore[no-untyped-def]
    return frozenset(p.pk for p in people)


# --- Audiences -------------------------------------------------------------------------------------------


def test_the_event_audience_is_every_confirmed_participant_and_no_one_waiting(setting):
    waiting = make_participant(setting.event, status=Registration.Status.WAITING)
    audience = announcements.everyone(setting.event)
    assert audience.user_ids == _ids(setting.ada, setting.bob, setting.cy, setting.dee)
    assert waiting.pk not in audience.user_ids


def test_a_status_audience_holds_the_registrants_with_that_status_only(setting):
    waiting = make_participant(setting.event, status=Registration.Status.WAITING)
    audience = announcements.with_status(setting.event, Registration.Status.WAITING)
    assert audience.user_ids == _ids(waiting)
    assert audience.text == "Registrants: on the waiting list"


def test_a_groups_audience_holds_the_members_of_the_chosen_groups(setting):
    audience = announcements.in_groups(setting.event, [setting.other_group])
    assert audience.user_ids == _ids(setting.cy)
    assert audience.text == "Group 2"


def test_an_exercise_audience_holds_its_groups_members_and_whoever_submitted_to_it(setting):
    submission(setting.event_exercise, setting.dee)  # dee has no group but worked on the exercise
    audience = audiences.exercise_participants(setting.event_exercise)
    assert audience.user_ids == _ids(setting.ada, setting.bob, setting.cy, setting.dee)


def test_an_error_audience_holds_everyone_whose_latest_run_failed_with_that_error(setting):
    ee = setting.event_exercise
    memory = exception(3, "MemoryError", "Unable to allocate 2.5 GiB for an array with shape (1000, 1000)")
    example = submission(ee, setting.ada, FAILED, minutes_ago=5, **memory)
    # Bob hit it too, with other numbers in the message: the same error.
    submission(
        ee,
        setting.bob,
        FAILED,
        minutes_ago=4,
        **exception(3, "MemoryError", "Unable to allocate 7 GiB for an array with shape (20, 30)"),
    )
    # Cy hit it, then fixed it: his latest run scored, so he is not in the audience.
    submission(ee, setting.cy, FAILED, minutes_ago=9, **memory)
    submission(ee, setting.cy, minutes_ago=1, score=0.8)
    # Dee's latest run failed with another error.
    submission(ee, setting.dee, FAILED, minutes_ago=2, **exception(1, "NameError", "name 'x' is not defined"))
    audience = audiences.failed_with(setting.organizer, setting.event, str(example.uid))
    assert audience.user_ids == _ids(setting.ada, setting.bob)
    assert audience.kind == Announcement.Audience.ERROR
    assert "MemoryError in cell 4" in audience.text


def test_a_tutors_error_audience_reaches_only_the_members_of_their_groups(setting):
    ee = setting.event_exercise
    error = exception(2, "KeyError", "'label'")
    example = submission(ee, setting.ada, FAILED, **error)
    submission(ee, setting.cy, FAILED, **error)  # group 2, not the tutor's
    assert audiences.failed_with(setting.tutor, setting.event, str(example.uid)).user_ids == _ids(setting.ada)
    assert audiences.failed_with(setting.organizer, setting.event, str(example.uid)).user_ids == _ids(
        setting.ada, setting.cy
    )


# --- Sending, recording, reading ------------------------------------------------------------------------


def test_the_audience_is_recorded_when_sent_and_later_members_do_not_get_it(setting):
    announcement = _send(setting, announcements.in_groups(setting.event, [setting.group]))
    late = make_participant(setting.event)
    Registration.objects.filter(user=late).update(group=setting.group)
    assert set(announcement.recipients.all()) == {setting.ada, setting.bob}
    assert announcement.audience_text == "Group 1"
    assert not AnnouncementReceipt.objects.filter(user=late).exists()


def test_a_recipient_sees_the_banner_until_they_mark_it_read(client, setting):
    announcement = _send(setting, announcements.everyone(setting.event))
    client.force_login(setting.ada)
    page = client.get(reverse("hackathon:event_detail", args=[setting.event.slug])).content.decode()
    assert reverse("hackathon:announcement_banner") in page  # every page fetches the banner once loaded
    banner = client.get(reverse("hackathon:announcement_banner")).content.decode()
    assert "Data fixed" in banner and "<strong>fixed</strong>" in banner
    response = client.post(
        reverse("hackathon:mark_announcements_read"), {"announcement": announcement.pk}, HTTP_HX_REQUEST="1"
    )
    assert "Data fixed" not in response.content.decode()
    assert "Data fixed" not in client.get(reverse("hackathon:announcement_banner")).content.decode()
    assert AnnouncementReceipt.objects.get(user=setting.ada).read_at is not None
    # Still listed on the person's announcements page, as read.
    assert "Data fixed" in client.get(reverse("hackathon:my_announcements")).content.decode()


def test_marking_read_changes_only_ones_own_receipt(client, setting):
    announcement = _send(setting, announcements.everyone(setting.event))
    client.force_login(setting.ada)
    client.post(reverse("hackathon:mark_announcements_read"), {"announcement": announcement.pk})
    assert AnnouncementReceipt.objects.filter(read_at__isnull=True).count() == 3
    client.force_login(setting.stranger)
    client.post(reverse("hackathon:mark_announcements_read"), {"announcement": announcement.pk})
    assert AnnouncementReceipt.objects.filter(read_at__isnull=True).count() == 3


def test_someone_outside_the_audience_sees_no_banner(client, setting):
    _send(setting, announcements.in_groups(setting.event, [setting.other_group]))
    client.force_login(setting.ada)
    assert "Data fixed" not in client.get(reverse("hackathon:announcement_banner")).content.decode()


def test_a_script_in_the_markdown_never_reaches_a_page_or_the_api(client, setting):
    body = 'Read this <script>alert("x")</script>, [that](javascript:alert(1)) and <b onclick="steal()">this</b>.'
    _send(setting, announcements.everyone(setting.event), body=body)
    client.force_login(setting.ada)
    shown = []
    for url in (reverse("hackathon:announcement_banner"), reverse("hackathon:my_announcements")):
        page = client.get(url).content.decode()
        shown += re.findall(r'<div class="announcement-body">(.*?)</div>', page, re.DOTALL)
    shown.append(client.get("/api/v1/announcements/").json()["results"][0]["html"])
    assert len(shown) == 3
    for html in shown:
        assert "Read this" in html
        assert not re.search(r"<script|<[^>]*\bon\w+=|<a[^>]*javascript:", html, re.IGNORECASE)


def test_the_email_goes_to_each_recipient_who_did_not_turn_it_off(
    setting, mailoutbox, emails_at_once, django_capture_on_commit_callbacks
):
    Preferences.objects.create(user=setting.bob, announcements_by_email=False)
    with django_capture_on_commit_callbacks(execute=True):
        announcement = _send(setting, announcements.in_groups(setting.event, [setting.group, setting.other_group]))
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.org", "cy@example.org"]
    assert mailoutbox[0].subject == f"[{setting.event.title}] Data fixed"
    assert "download it again" in mailoutbox[0].body
    assert set(announcement.receipts.filter(emailed_at__isnull=False).values_list("user_id", flat=True)) == _ids(
        setting.ada, setting.cy
    )
    # Delivered twice, the task mails nobody twice.
    assert announcements.email_announcement(announcement.pk) == 0
    assert len(mailoutbox) == 2


def test_a_person_turns_announcement_emails_off_on_their_preferences_page(client, setting):
    client.force_login(setting.ada)
    response = client.post(reverse("hackathon:preferences"), {"time_zone": "Asia/Tokyo"})  # the box unticked
    assert response.status_code == 302
    saved = Preferences.objects.get(user=setting.ada)
    assert saved.announcements_by_email is False and saved.time_zone == "Asia/Tokyo"
    assert client.post(reverse("hackathon:preferences"), {"time_zone": "Mars/Olympus"}).status_code == 400


# --- Who may write to whom ------------------------------------------------------------------------------


def test_a_tutor_writes_to_their_own_groups(setting):
    announcement = _send(setting, announcements.in_groups(setting.event, [setting.group]), author=setting.tutor)
    assert set(announcement.recipients.all()) == {setting.ada, setting.bob}


@pytest.mark.parametrize("audience", ["other_group", "everyone"])
def test_a_tutor_cannot_write_beyond_their_groups(setting, audience):
    chosen = (
        announcements.in_groups(setting.event, [setting.other_group])
        if audience == "other_group"
        else announcements.everyone(setting.event)
    )
    with pytest.raises(AnnouncementRefused, match="groups you tutor"):
        _send(setting, chosen, author=setting.tutor)
    assert not Announcement.objects.exists()


def test_a_participant_or_a_stranger_cannot_announce(setting):
    for person in (setting.ada, setting.stranger, make_user()):
        with pytest.raises(AnnouncementRefused):
            _send(setting, announcements.everyone(setting.event), author=person)
    assert not Announcement.objects.exists()


def test_an_empty_audience_is_refused_with_a_sentence(setting):
    with pytest.raises(AnnouncementRefused, match="Nobody is in this audience"):
        _send(setting, announcements.with_status(setting.event, Registration.Status.OFFERED))


def test_the_tutors_form_offers_only_their_groups_and_the_server_holds_to_it(client, setting):
    client.force_login(setting.tutor)
    url = reverse("grading:announcement_new", args=[setting.event.slug])
    page = client.get(url).content.decode()
    assert "Group 1" in page and "Group 2" not in page and "Registrants with a status" not in page
    body = {"title": "Hi", "body": "Hello", "audience": "groups", "groups": [setting.other_group.pk]}
    assert client.post(url, body).status_code == 400
    assert not Announcement.objects.exists()


def test_from_an_error_on_the_dashboard_an_organizer_writes_to_its_audience(client, setting):
    ee = setting.event_exercise
    error = exception(2, "FileNotFoundError", "[Errno 2] No such file or directory: 'data/train.csv'")
    example = submission(ee, setting.ada, FAILED, **error)
    submission(ee, setting.cy, FAILED, **error)
    client.force_login(setting.organizer)
    dashboard = client.get(reverse("grading:tutor_dashboard", args=[setting.event.slug])).content.decode()
    link = f"{reverse('grading:announcement_new', args=[setting.event.slug])}?error={example.uid}"
    assert link in dashboard
    form = client.get(link).content.decode()
    assert "FileNotFoundError" in form and "2 people now" in form
    response = client.post(
        link,
        {"title": "Data path", "body": "The files are under `data/`.", "audience": "error", "error": str(example.uid)},
    )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert set(announcement.recipients.all()) == {setting.ada, setting.cy}
    history = client.get(reverse("grading:event_announcements", args=[setting.event.slug])).content.decode()
    assert "Data path" in history and "FileNotFoundError" in history and "2 recipients, 0 read" in history


def test_the_api_lists_ones_announcements_and_marks_them_read(setting):
    from tests.api.conftest import client_of

    announcement = _send(setting, announcements.everyone(setting.event))
    api = client_of(setting.ada)
    listed = api.get("/api/v1/announcements/?unread=1").json()["results"]
    assert [(a["id"], a["title"], a["read"]) for a in listed] == [(announcement.pk, "Data fixed", False)]
    assert "<strong>fixed</strong>" in listed[0]["html"]
    assert api.post("/api/v1/announcements/read/", {"ids": [announcement.pk]}, format="json").status_code == 200
    assert api.get("/api/v1/announcements/?unread=1").json()["results"] == []
    assert api.get("/api/v1/announcements/").json()["results"][0]["read"] is True
