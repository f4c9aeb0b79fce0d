"""Organizers staff their event: invite tutors and co-organizers by email, see who is invited, revoke roles."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from exercises.models import Label
from hackathon import staffing
from hackathon.models import EventRole, Group, StaffInvitation
from tests.builders.events import make_event, open_exercise
from tests.builders.people import PASSWORD, make_organizer, make_participant, make_tutor, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]


def invite(client, event, email: str, role: str = "tutor"):  # type: ignore[no-untyped-def]
    return client.post(reverse("hackathon:staff", args=[event.slug]), {"email": email, "role": role}, follow=True)


def test_an_existing_account_becomes_tutor_at_once_and_is_told_by_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event()
    tutor = make_user("ada@example.org")
    client.force_login(make_organizer(event))
    with django_capture_on_commit_callbacks(execute=True):
        page = invite(client, event, "ADA@example.org").content.decode()
    assert "is now a tutor of" in page
    assert EventRole.objects.filter(event=event, user=tutor, role="tutor").exists()
    assert [m.to for m in mailoutbox] == [["ada@example.org"]]
    assert not StaffInvitation.objects.exists()


def test_a_new_person_signs_up_through_the_emailed_link_and_is_a_tutor_at_once(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event()
    client.force_login(make_organizer(event))
    with django_capture_on_commit_callbacks(execute=True):
        page = invite(client, event, "newcomer@example.org").content.decode()
    assert "an invitation link was emailed" in page
    staff_page = client.get(reverse("hackathon:staff", args=[event.slug])).content.decode()
    assert "Pending invitations" in staff_page and "newcomer@example.org" in staff_page
    link = re.search(r"http://\S+/invitations/\S+/", mailoutbox[0].body).group(0)
    client.logout()

    path = link.split("://", 1)[1].split("/", 1)[1]
    landing = client.get("/" + path).content.decode()
    assert "Sign up with newcomer@example.org" in landing
    client.post(
        reverse("account_signup"),
        {
            "email": "newcomer@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": "Nina",
            "last_name": "Rossi",
        },
    )
    newcomer = get_user_model().objects.get(email="newcomer@example.org")
    assert EventRole.objects.filter(event=event, user=newcomer, role="tutor").exists()
    assert StaffInvitation.objects.get().accepted_by == newcomer
    # The link proved the address: the new tutor is signed in, with no second confirmation to wait for, and the
    # link leads them on to declare their expertise.
    assert client.get(reverse("hackathon:tutoring", args=[event.slug])).status_code == 200
    back = client.get("/" + path)
    assert back.status_code == 302 and back["Location"] == reverse("hackathon:tutoring", args=[event.slug])


def test_signing_up_with_another_address_grants_nothing(client):
    event = make_event()
    StaffInvitation.objects.create(event=event, email="invited@example.org", role="tutor")
    client.post(
        reverse("account_signup"),
        {
            "email": "someone-else@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "first_name": "Sam",
            "last_name": "Else",
        },
    )
    assert get_user_model().objects.filter(email="someone-else@example.org").exists()
    assert not EventRole.objects.filter(event=event).exists()


def test_an_invitation_opened_by_the_wrong_account_says_which_address_it_is_for(client):
    event = make_event()
    invitation = StaffInvitation.objects.create(event=event, email="invited@example.org", role="organizer")
    client.force_login(make_user("other@example.org"))
    page = client.get(invitation.get_absolute_url(), follow=True).content.decode()
    assert "This invitation is for invited@example.org, and you are signed in as other@example.org" in page
    assert not EventRole.objects.filter(event=event).exists()


def test_a_withdrawn_invitation_link_stops_working(client):
    event = make_event()
    invitation = StaffInvitation.objects.create(event=event, email="invited@example.org", role="tutor")
    client.force_login(make_organizer(event))
    client.post(reverse("hackathon:withdraw_invitation", args=[event.slug, invitation.pk]))
    client.logout()
    assert client.get(invitation.get_absolute_url()).status_code == 404


def test_a_registered_participant_cannot_be_made_staff(client):
    event = make_event()
    participant = make_participant(event, make_user("lucia@example.org"))
    client.force_login(make_organizer(event))
    page = invite(client, event, "lucia@example.org").content.decode()
    assert "is registered as a participant" in page and "cancel their registration first" in page
    assert not EventRole.objects.filter(user=participant).exists()


def test_revoking_a_tutor_says_which_groups_they_leave_and_removes_them(client):
    event_exercise = open_exercise(make_event())
    event = event_exercise.event
    tutor = make_tutor(event)
    group = Group.objects.create(event=event, event_exercise=event_exercise, number=3)
    group.tutors.add(tutor)
    client.force_login(make_organizer(event))
    role = EventRole.objects.get(event=event, user=tutor)
    url = reverse("hackathon:revoke_role", args=[event.slug, role.pk])
    assert "They leave the groups they tutor (3)" in client.get(url).content.decode()
    client.post(url)
    assert not EventRole.objects.filter(pk=role.pk).exists()
    assert not group.tutors.exists()


def test_the_only_organizer_cannot_be_revoked(client):
    event = make_event()
    organizer = make_organizer(event)
    client.force_login(organizer)
    role = EventRole.objects.get(event=event, user=organizer)
    page = client.post(reverse("hackathon:revoke_role", args=[event.slug, role.pk]), follow=True).content.decode()
    assert "is the only organizer" in page and "Invite another organizer first" in page
    assert EventRole.objects.filter(pk=role.pk).exists()


def test_a_co_organizer_invited_by_email_can_manage_the_event(client):
    event = make_event()
    make_organizer(event)
    colleague = make_user("colleague@example.org")
    staffing.invite_staff(event=event, email="colleague@example.org", role="organizer", invited_by=colleague)
    client.force_login(colleague)
    assert client.get(reverse("hackathon:registrations", args=[event.slug])).status_code == 200


def test_a_tutor_declares_expertise_and_the_staff_page_shows_it(client):
    event = make_event()
    tutor = make_tutor(event)
    label = Label.objects.create(dimension="technology", name="CNN")
    client.force_login(tutor)
    client.post(reverse("hackathon:tutoring", args=[event.slug]), {"expertise": [label.pk], "max_groups": "2"})
    client.force_login(make_organizer(event))
    assert str(label) in client.get(reverse("hackathon:staff", args=[event.slug])).content.decode()


def test_a_stranger_cannot_invite(client):
    event = make_event()
    client.force_login(make_user())
    assert invite(client, event, "x@example.org").status_code == 403
    assert not StaffInvitation.objects.exists()


def test_the_admin_link_shows_only_to_staff_the_admin_lets_in(client):
    from django.contrib.auth.models import Permission

    plain_staff = make_user(staff=True)
    client.force_login(plain_staff)
    assert ">Admin</a>" not in client.get("/").content.decode(), "the admin would permit them nothing"
    plain_staff.user_permissions.add(Permission.objects.get(codename="view_event"))
    client.force_login(get_user_model().objects.get(pk=plain_staff.pk))
    assert ">Admin</a>" in client.get("/").content.decode()


def test_the_only_organizer_is_told_before_any_confirmation_that_the_role_stays(client):
    event = make_event()
    organizer = make_organizer(event)
    client.force_login(organizer)
    role = EventRole.objects.get(event=event, user=organizer)
    response = client.get(reverse("hackathon:revoke_role", args=[event.slug, role.pk]), follow=True)
    page = response.content.decode()
    assert response.redirect_chain and "is the only organizer" in page
    assert "Yes, revoke the role" not in page
    assert EventRole.objects.filter(pk=role.pk).exists()
