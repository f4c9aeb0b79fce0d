"""Queries about events that pages read."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from itertools import groupby

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.shortcuts import get_object_or_404

from hackathon import assignment
from hackathon.charts import Chart, bar_chart
from hackathon.models import (
    STRUCTURES,
    Event,
    EventRole,
    Feedback,
    Group,
    Registration,
    Session,
    StaffInvitation,
    TutorProfile,
)
from hackathon.permissions import AnyUser, is_site_staff


def visible_events(user: AnyUser) -> QuerySet[Event]:
    """Return the events a person may see: published ones, plus those they organize."""
    events = Event.objects.all()
    if not is_site_staff(user):
        own = Q(roles__user_id=user.pk, roles__role=EventRole.Role.ORGANIZER) if user.is_authenticated else Q()
        events = events.filter(Q(published=True) | own) if own else events.filter(published=True)
    return events.annotate(
        confirmed_count=Count(
            "registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED), distinct=True
        )
    ).distinct()


def my_event_roles(user: AnyUser) -> dict[int, list[str]]:
    """Map event id to the roles the person holds there, for the home page's badges."""
    if not user.is_authenticated:
        return {}
    roles: dict[int, list[str]] = {}
    for event_id, role in EventRole.objects.filter(user=user).values_list("event_id", "role"):
        roles.setdefault(event_id, []).append(role)
    confirmed = Registration.objects.filter(user=user, status=Registration.Status.CONFIRMED)
    for event_id in confirmed.values_list("event_id", flat=True):
        roles.setdefault(event_id, []).append("participant")
    return roles


def get_visible_event(user: AnyUser, slug: str) -> Event:
    """Return the event by slug if the person may see it, else raise 404."""
    return get_object_or_404(visible_events(user), slug=slug)


def timetable(event: Event) -> list[tuple[dt.date, list[Session]]]:
    """Return the programme as (day, sessions of that day in time order), days in order."""
    sessions = event.sessions.order_by("day", "starts_at", "title")
    return [(day, list(items)) for day, items in groupby(sessions, key=lambda s: s.day)]


def registration_of(user: AnyUser, event: Event) -> Registration | None:
    if not user.is_authenticated:
        return None
    return event.registrations.filter(user_id=user.pk).prefetch_related("preferences__event_exercise__exercise").first()


def event_registrations(event: Event, *, status: str = "") -> QuerySet[Registration]:
    """Return the event's registrations with what the list and the CSV show, in registration order."""
    registrations = event.registrations.select_related("user", "group").prefetch_related(
        "preferences__event_exercise__exercise"
    )
    if status:
        registrations = registrations.filter(status=status)
    return registrations.order_by("created_at", "id")


def waiting_positions(event: Event) -> dict[int, int]:
    """Map each waiting registration's id to its place on the list (1 is next), in Registration.WAITING_ORDER."""
    waiting = event.registrations.filter(status=Registration.Status.WAITING).order_by(*Registration.WAITING_ORDER)
    return {pk: n for n, pk in enumerate(waiting.values_list("pk", flat=True), start=1)}


def get_event_registration(event: Event, pk: int) -> Registration:
    """Return one of this event's registrations, else 404: another event's rows are never reached."""
    return get_object_or_404(event.registrations.select_related("user"), pk=pk)


def get_event_group(event: Event, number: int) -> Group:
    return get_object_or_404(event.groups.select_related("event_exercise__exercise", "event"), number=number)


def _groups_with_people(groups: QuerySet[Group]) -> QuerySet[Group]:
    confirmed = Registration.objects.filter(status=Registration.Status.CONFIRMED).select_related("user")
    return groups.select_related("event_exercise__exercise").prefetch_related(
        Prefetch("members", queryset=confirmed.order_by("user__last_name", "user__email")), "tutors"
    )


def event_groups(event: Event) -> QuerySet[Group]:
    return _groups_with_people(event.groups.all())


def groups_tutored_by(user: AnyUser, event: Event) -> QuerySet[Group]:
    """Return only the groups of this event that the person tutors."""
    if not user.is_authenticated:
        return Group.objects.none()
    return _groups_with_people(event.groups.filter(tutors=user))


def group_of(user: AnyUser, event: Event) -> Group | None:
    """Return the participant's own group in the event, if they have one."""
    registration = registration_of(user, event)
    if registration is None or registration.status != Registration.Status.CONFIRMED or not registration.group_id:
        return None
    return _groups_with_people(event.groups.filter(pk=registration.group_id)).first()


def event_tutors(event: Event) -> list[AbstractBaseUser]:
    return [role.user for role in event.roles.filter(role=EventRole.Role.TUTOR).select_related("user")]


def tutor_profile(event: Event, user: AnyUser) -> TutorProfile | None:
    return event.tutor_profiles.filter(user_id=user.pk).prefetch_related("expertise").first()


def assignment_input(
    event: Event,
) -> tuple[list[assignment.Participant], list[assignment.UseCase], list[assignment.Tutor]]:
    """Read the event's confirmed participants, use cases and available tutors as the optimizer's values."""
    participants = [
        assignment.Participant(
            id=r.pk, ranking=tuple(p.event_exercise_id for p in sorted(r.preferences.all(), key=lambda p: p.rank))
        )
        for r in event.registrations.filter(status=Registration.Status.CONFIRMED)
        .prefetch_related("preferences")
        .order_by("id")
    ]
    use_cases = [
        assignment.UseCase(
            id=ee.pk, title=ee.exercise.title, labels=frozenset(lb.name for lb in ee.exercise.labels.all())
        )
        for ee in event.event_exercises.select_related("exercise").prefetch_related("exercise__labels").order_by("id")
    ]
    profiles = {p.user_id: p for p in event.tutor_profiles.prefetch_related("expertise")}
    tutors = []
    for user_id in event.roles.filter(role=EventRole.Role.TUTOR).order_by("user_id").values_list("user_id", flat=True):
        profile = profiles.get(user_id)
        # A tutor who declared no available day is left out; one who declared nothing yet counts as free.
        if profile is not None and (not profile.available_days or profile.max_groups == 0):
            continue
        tutors.append(
            assignment.Tutor(
                id=user_id,
                expertise=frozenset(lb.name for lb in profile.expertise.all()) if profile else frozenset(),
                max_groups=profile.max_groups if profile else 1,
            )
        )
    return participants, use_cases, tutors


def current_group_report(event: Event) -> assignment.AssignmentReport:
    """Report on the groups as they stand now, manual moves included."""
    participants, use_cases, _available = assignment_input(event)
    expertise: dict[int, set[str]] = {}
    for user_id, name in event.tutor_profiles.values_list("user_id", "expertise__name"):
        expertise.setdefault(user_id, set())
        if name:
            expertise[user_id].add(name)
    tutor_ids = event.roles.filter(role=EventRole.Role.TUTOR).values_list("user_id", flat=True)
    tutors = [assignment.Tutor(id=t, expertise=frozenset(expertise.get(t, set()))) for t in tutor_ids]
    groups = [
        assignment.PlannedGroup(
            number=g.number,
            use_case=g.event_exercise_id,
            members=tuple(m.pk for m in g.members.all()),
            tutors=tuple(t.pk for t in g.tutors.all()),
        )
        for g in event_groups(event)
    ]
    return assignment.summarize(
        groups, participants, use_cases, tutors, participants_per_tutor=event.participants_per_tutor
    )


def _chart(title: str, counts: dict[str, int] | Counter[str]) -> Chart:
    return bar_chart(title, counts.items())


@dataclass(frozen=True)
class FeedbackSummary:
    answers: int
    average_rating: float | None
    ratings: Chart
    went_well: tuple[str, ...]
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class EventReport:
    registrations: Chart
    structures: Chart
    career_stages: Chart
    experience: Chart
    registrations_per_day: Chart
    confirmed: int
    feedback: FeedbackSummary


def event_report(event: Event) -> EventReport:
    """Gather the organizer's report: registrations, who the participants are, the feedback."""
    registrations = event.registrations.all()
    by_status = dict(registrations.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    status_chart = {label: by_status.get(value, 0) for value, label in Registration.Status.choices}
    confirmed = registrations.filter(status=Registration.Status.CONFIRMED)
    structure_names = dict(STRUCTURES)
    # Institutions outside the institute count together: the chart compares the institute's structures.
    structures = Counter(structure_names.get(code, code) for code in confirmed.values_list("affiliation", flat=True))
    stages = Counter(confirmed.values_list("career_stage", flat=True))
    experience = Counter(confirmed.values_list("ml_experience", flat=True))
    per_day = registrations.annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id")).order_by("day")
    feedback = Feedback.objects.filter(event=event)
    ratings = Counter(feedback.values_list("rating", flat=True))
    average = feedback.aggregate(avg=Avg("rating"))["avg"]
    return EventReport(
        registrations=_chart("Registrations by status", status_chart),
        structures=_chart("Participants by structure", dict(structures.most_common())),
        career_stages=_chart(
            "Participants by career stage",
            {label: stages.get(value, 0) for value, label in Registration.CareerStage.choices}
            | ({"Not given": stages[""]} if stages.get("") else {}),
        ),
        experience=_chart(
            "Participants by machine-learning experience",
            {label: experience.get(value, 0) for value, label in Registration.Experience.choices}
            | ({"Not given": experience[""]} if experience.get("") else {}),
        ),
        registrations_per_day=_chart(
            "Registrations per day", {f"{row['day']:%d %b %Y}": row["n"] for row in per_day if row["day"]}
        ),
        confirmed=confirmed.count(),
        feedback=FeedbackSummary(
            answers=feedback.count(),
            average_rating=round(average, 1) if average is not None else None,
            ratings=_chart("Ratings (1 poor – 5 excellent)", {str(n): ratings.get(n, 0) for n in range(1, 6)}),
            went_well=tuple(t for t in feedback.values_list("went_well", flat=True) if t),
            suggestions=tuple(t for t in feedback.values_list("suggestions", flat=True) if t),
        ),
    )


@dataclass(frozen=True)
class Edition:
    event: Event
    participants: int
    registrations: int


def editions(user: AnyUser) -> list[Edition]:
    """Return the editions the person may see, oldest first, with their participants (confirmed) and registrations.

    Like every list, it starts from what the person may see: another organizer's unpublished event stays out.
    """
    events = (
        Event.objects.filter(pk__in=visible_events(user).values("pk"))
        .annotate(
            participants=Count("registrations", filter=Q(registrations__status=Registration.Status.CONFIRMED)),
            all_registrations=Count("registrations"),
        )
        .order_by("starts_on", "title")
    )
    return [Edition(event=e, participants=e.participants, registrations=e.all_registrations) for e in events]


def editions_chart(rows: list[Edition]) -> Chart:
    return bar_chart(
        "Participants per edition", ((f"{r.event.title} ({r.event.starts_on:%b %Y})", r.participants) for r in rows)
    )


def event_staff(event: Event) -> list[tuple[EventRole, list[str]]]:
    """The event's organizers and tutors, organizers first, each with the expertise they declared for this event."""
    expertise = {
        profile.user_id: [str(label) for label in profile.expertise.all()]
        for profile in event.tutor_profiles.prefetch_related("expertise")
    }
    roles = event.roles.select_related("user").order_by("role", "user__last_name", "user__email")
    return [(role, expertise.get(role.user_id, [])) for role in roles]


def get_event_role(event: Event, pk: int) -> EventRole:
    """Return one staff role of the event, or 404: a role of another event is never found through this one."""
    role = event.roles.select_related("user", "event").filter(pk=pk).first()
    if role is None:
        raise Http404("This event has no such staff role.")
    return role


def get_event_invitation(event: Event, pk: int) -> StaffInvitation:
    invitation = event.staff_invitations.filter(pk=pk).first()
    if invitation is None:
        raise Http404("This event has no such invitation.")
    return invitation


def get_invitation(token: str) -> StaffInvitation:
    """Return the invitation a link names, or 404 (a withdrawn invitation's link stops working)."""
    invitation = StaffInvitation.objects.select_related("event").filter(token=token).first()
    if invitation is None:
        raise Http404(
            "This invitation link is not valid: it may have been withdrawn. Ask the organizers for a new one."
        )
    return invitation
