"""Pages of the event domain: events and their programme, registration, groups, tutoring, reports."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from hackathon import forms, permissions, selectors, services, staffing
from hackathon.confirmation import confirm_page
from hackathon.models import Event, EventRole, Registration, StaffInvitation
from hackathon.spreadsheets import csv_writer
from sandbox.errors import UserFacingError

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    events = selectors.visible_events(request.user)
    roles = selectors.my_event_roles(request.user)
    rows = [(event, roles.get(event.id, [])) for event in events]
    return render(request, "hackathon/home.html", {"rows": rows})


def favicon(request: HttpRequest) -> HttpResponse:
    """Send browsers asking for /favicon.ico (on pages that name no icon, such as the admin's) to the site's icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = selectors.get_visible_event(request.user, slug)
    registration = selectors.registration_of(request.user, event)
    now = timezone.now()
    context = {
        "event": event,
        "roles": sorted(permissions.roles_in(request.user, event)),
        "can_manage": permissions.can_manage_event(request.user, event),
        "can_tutor": permissions.can_tutor_event(request.user, event),
        "can_register": permissions.can_register(request.user, event)
        and (registration is None or registration.status == Registration.Status.CANCELLED),
        "can_give_feedback": permissions.can_give_feedback(request.user, event),
        "registration": registration,
        "waiting_position": registration.waiting_position() if registration else None,
        "registration_open": event.registration_is_open(now),
        "places_taken": services.places_taken(event),
        "timetable": selectors.timetable(event),
        "my_group": selectors.group_of(request.user, event),
    }
    return render(request, "hackathon/event_detail.html", context)


def _managed_event(request: HttpRequest, slug: str) -> Event:
    """Return the event if the person organizes it: 404 when they cannot see it, 403 when they may not manage."""
    event = selectors.get_visible_event(request.user, slug)
    if not permissions.can_manage_event(request.user, event):
        raise PermissionDenied("Only the event's organizers can open this page.")
    return event


def _refused(request: HttpRequest, error: UserFacingError) -> None:
    messages.error(request, error.message)


# --- Events and programme ---------------------------------------------------------------------------------


@login_required
def event_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_create_event(request.user):
        raise PermissionDenied("Only site staff can create events.")
    form = forms.EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "exercises"}
        with transaction.atomic():
            event = services.create_event(organizer=request.user, **data)
            services.set_event_exercises(event=event, exercises=list(form.cleaned_data["exercises"]))
        messages.success(request, f"{event.title} is created. Add its programme and staff below.")
        return redirect("hackathon:event_edit", slug=event.slug)
    return render(request, "hackathon/event_form.html", {"form": form, "event": None})


@login_required
def event_edit(request: HttpRequest, slug: str) -> HttpResponse:
    event = _managed_event(request, slug)
    old_dates = {"old_starts": event.starts_on, "old_ends": event.ends_on}
    data = request.POST or None
    form = forms.EventForm(data, instance=event)
    formset = forms.ProgrammeFormSet(data, instance=event, prefix="sessions")
    windows = forms.ExerciseWindowFormSet(
        data, instance=event, prefix="windows", queryset=event.event_exercises.select_related("exercise")
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid() and windows.is_valid():
        try:
            with transaction.atomic():
                event = form.save()
                formset.save()
                windows.save()
                notes = services.follow_event_dates(event=event, **old_dates)
                attached = services.set_event_exercises(event=event, exercises=list(form.cleaned_data["exercises"]))
        except UserFacingError as error:
            _refused(request, error)
        else:
            for note in notes:
                messages.info(request, note)
            for event_exercise in attached:
                messages.info(
                    request,
                    f"The workers now run the reference and baseline of {event_exercise.exercise.title} on this "
                    "event's test set; its page shows both scores against their targets.",
                )
            messages.success(request, "The event, its exercises and its programme are saved.")
            return redirect("hackathon:event_detail", slug=event.slug)
    context = {"form": form, "formset": formset, "windows": windows, "event": event}
    return render(request, "hackathon/event_form.html", context)


# --- Registration -----------------------------------------------------------------------------------------


@login_required
def register(request: HttpRequest, slug: str) -> HttpResponse:
    event = selectors.get_visible_event(request.user, slug)
    if not permissions.can_register(request.user, event):
        raise PermissionDenied("The event's organizers and tutors do not register as participants.")
    form = forms.RegistrationForm(request.POST or None, event=event, user=request.user)
    if request.method == "POST" and form.is_valid():
        details = services.RegistrationDetails(
            affiliation=form.cleaned_data["affiliation"],
            affiliation_other=form.cleaned_data["affiliation_other"],
            career_stage=form.cleaned_data["career_stage"],
            ml_experience=form.cleaned_data["ml_experience"],
            ranking=form.cleaned_data["ranking"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
        )
        try:
            registration = services.register(event=event, user=request.user, details=details)
        except UserFacingError as error:
            _refused(request, error)
            return redirect("hackathon:event_detail", slug=event.slug)
        messages.success(request, _registration_message(registration))
        return redirect("hackathon:event_detail", slug=event.slug)
    return render(request, "hackathon/register.html", {"event": event, "form": form})


def _registration_message(registration: Registration) -> str:
    return {
        Registration.Status.CONFIRMED: "You are registered: your place is confirmed.",
        Registration.Status.PENDING: "You are registered; the organizers will confirm your place.",
        Registration.Status.WAITING: "The event is full: you are on the waiting list and will be emailed if a "
        "place frees up.",
    }.get(registration.status, "Your registration is saved.")


def _own_registration_action(action: Callable[..., Registration], success: str) -> Callable:
    @login_required
    @require_POST
    def view(request: HttpRequest, slug: str) -> HttpResponse:
        event = selectors.get_visible_event(request.user, slug)
        registration = selectors.registration_of(request.user, event)
        if registration is None:
            messages.error(request, "You have no registration for this event.")
        else:
            try:
                action(registration=registration)
                messages.success(request, success)
            except UserFacingError as error:
                _refused(request, error)
        return redirect("hackathon:event_detail", slug=event.slug)

    return view


@login_required
def cancel_registration(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask first (GET: what cancelling gives up), then cancel on the confirmation's POST."""
    event = selectors.get_visible_event(request.user, slug)
    registration = selectors.registration_of(request.user, event)
    if registration is None or registration.status in (Registration.Status.CANCELLED, Registration.Status.REJECTED):
        messages.error(request, "You have no registration to cancel for this event.")
        return redirect("hackathon:event_detail", slug=event.slug)
    if request.method == "POST":
        try:
            services.cancel_registration(registration=registration)
            messages.success(request, "Your registration is cancelled; any place it held passes to the waiting list.")
        except UserFacingError as error:
            _refused(request, error)
        return redirect("hackathon:event_detail", slug=event.slug)
    return confirm_page(
        request,
        event=event,
        heading=f"Cancel your registration for {event.title}?",
        consequences=services.what_cancelling_gives_up(registration),
        button="Yes, cancel my registration",
        back=event.get_absolute_url(),
    )


accept_offer = _own_registration_action(services.accept_offer, "The place is yours: see you at the event.")


@login_required
def registrations(request: HttpRequest, slug: str) -> HttpResponse:
    event = _managed_event(request, slug)
    status = request.GET.get("status", "")
    positions = selectors.waiting_positions(event)
    context = {
        "event": event,
        "rows": [(r, positions.get(r.pk)) for r in selectors.event_registrations(event, status=status)],
        "statuses": Registration.Status.choices,
        "status": status,
        "places_taken": services.places_taken(event),
    }
    return render(request, "hackathon/registrations.html", context)


@login_required
@require_POST
def decide_registration(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = _managed_event(request, slug)
    registration = selectors.get_event_registration(event, pk)
    decision = request.POST.get("decision")
    try:
        if decision == "offer":
            services.offer_place_by_hand(registration=registration)
            taken = services.places_taken(event)
            messages.success(
                request,
                f"{registration.person_name} is offered a place and was emailed; {taken} of {event.capacity} "
                "places are now taken or on offer.",
            )
        elif decision in ("approve", "reject"):
            approve = decision == "approve"
            services.decide_registration(registration=registration, approve=approve)
            verb = "approved" if approve else "rejected"
            messages.success(request, f"The registration of {registration.person_name} is {verb}.")
        else:
            messages.error(request, "Choose Approve, Reject or Offer a place for the registration.")
    except UserFacingError as error:
        _refused(request, error)
    return redirect("hackathon:registrations", slug=event.slug)


@login_required
def export_registrations(request: HttpRequest, slug: str) -> HttpResponse:
    event = _managed_event(request, slug)
    text = services.export_registrations(event, list(selectors.event_registrations(event)))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-registrations.csv"'
    return response


@login_required
def import_registrations(request: HttpRequest, slug: str) -> HttpResponse:
    """Upload a CSV: first a dry run listing the changes, then the same file again with confirm to apply."""
    event = _managed_event(request, slug)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    plan = None
    if request.method == "POST" and form.is_valid():
        apply = form.cleaned_data["confirm"]
        try:
            plan = services.import_registrants(event=event, text=form.cleaned_data["csv"], dry_run=not apply)
        except UserFacingError as error:
            _refused(request, error)
        else:
            if plan.applied:
                made = ", ".join(f"{n} {Registration.Status(s).label.lower()}" for s, n in plan.statuses.items())
                messages.success(request, f"Imported {sum(plan.statuses.values())} registrants ({made or 'none new'}).")
                return redirect("hackathon:registrations", slug=event.slug)
    context = {"event": event, "form": form, "plan": plan, "text": form.cleaned_data.get("csv", "") if plan else ""}
    return render(request, "hackathon/import.html", context)


# --- Tutors and groups ------------------------------------------------------------------------------------


@login_required
def tutoring(request: HttpRequest, slug: str) -> HttpResponse:
    event = selectors.get_visible_event(request.user, slug)
    if not permissions.can_tutor_event(request.user, event):
        raise PermissionDenied("Only the event's tutors declare expertise and availability.")
    profile = selectors.tutor_profile(event, request.user)
    initial = (
        {
            "expertise": list(profile.expertise.all()),
            "available_days": profile.available_days,
            "max_groups": profile.max_groups,
        }
        if profile
        else None
    )
    form = forms.TutorProfileForm(request.POST or None, event=event, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.declare_tutoring(event=event, user=request.user, **form.cleaned_data)
        messages.success(request, "Your expertise and availability are saved.")
        return redirect("hackathon:my_groups", slug=event.slug)
    return render(request, "hackathon/tutoring.html", {"event": event, "form": form})


@login_required
def groups(request: HttpRequest, slug: str) -> HttpResponse:
    """The organizer's groups page: run the assignment, read its report, move people by hand."""
    event = _managed_event(request, slug)
    tutors = selectors.event_tutors(event)
    move_participant = forms.MoveParticipantForm(event=event)
    move_tutor = forms.MoveTutorForm(event=event, tutors=tutors)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "move_participant":
                move_participant = forms.MoveParticipantForm(request.POST, event=event)
                if move_participant.is_valid():
                    _warn(request, services.move_participant(event=event, **move_participant.cleaned_data))
                    return redirect("hackathon:groups", slug=event.slug)
            if action == "move_tutor":
                move_tutor = forms.MoveTutorForm(request.POST, event=event, tutors=tutors)
                if move_tutor.is_valid():
                    _warn(request, services.move_tutor(event=event, **move_tutor.cleaned_data))
                    return redirect("hackathon:groups", slug=event.slug)
        except UserFacingError as error:
            _refused(request, error)
    report = selectors.current_group_report(event)
    by_number = {g.number: g for g in report.groups}
    groups_now = selectors.event_groups(event)
    context = {
        "event": event,
        "rows": [(group, by_number[group.number]) for group in groups_now],
        "report": report,
        "idle_tutors": [t for t in tutors if t.pk in report.idle_tutors],
        "move_participant": move_participant,
        "move_tutor": move_tutor,
    }
    return render(request, "hackathon/groups.html", context)


@login_required
def assign_groups(request: HttpRequest, slug: str) -> HttpResponse:
    """Form the groups, or form them again: ask first, saying what is replaced, then run on the POST."""
    event = _managed_event(request, slug)
    if request.method == "POST":
        try:
            report = services.assign_groups(event=event)
        except UserFacingError as error:
            _refused(request, error)
        else:
            messages.success(
                request,
                f"Formed {len(report.groups)} group{'s' if len(report.groups) != 1 else ''}; "
                f"{report.first_choice} of {report.participants} "
                "participants got their first choice.",
            )
        return redirect("hackathon:groups", slug=event.slug)
    return confirm_page(
        request,
        event=event,
        heading="Form the groups again?" if event.groups.exists() else "Form the groups?",
        consequences=services.what_assigning_replaces(event),
        button="Yes, form the groups",
        back=reverse("hackathon:groups", args=[event.slug]),
    )


def _warn(request: HttpRequest, warnings: list[str]) -> None:
    if warnings:
        for warning in warnings:
            messages.warning(request, warning)
    else:
        messages.success(request, "Moved; every group touched still meets the tutor ratio.")


@login_required
def my_groups(request: HttpRequest, slug: str) -> HttpResponse:
    """A participant's own group, or the groups a tutor follows: nobody else's."""
    event = selectors.get_visible_event(request.user, slug)
    if not (permissions.can_tutor_event(request.user, event) or permissions.can_take_part(request.user, event)):
        raise PermissionDenied("Only the event's participants and tutors have groups.")
    tutored = list(selectors.groups_tutored_by(request.user, event))
    context = {"event": event, "tutored": tutored, "own": selectors.group_of(request.user, event)}
    return render(request, "hackathon/my_groups.html", context)


@login_required
def group_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    event = selectors.get_visible_event(request.user, slug)
    group = selectors.get_event_group(event, number)
    if not permissions.can_see_group(request.user, group):
        # 404, not 403: someone outside the group learns nothing about it, as for any object not theirs.
        raise Http404("Only the group's tutors, its members and the organizers see this group.")
    group = selectors.event_groups(event).get(pk=group.pk)
    return render(request, "hackathon/group_detail.html", {"event": event, "group": group})


# --- Staff -------------------------------------------------------------------------------------------------


@login_required
def staff(request: HttpRequest, slug: str) -> HttpResponse:
    """The organizer's staff page: who organizes and tutors, who is invited, and the form to invite more."""
    event = _managed_event(request, slug)
    form = forms.StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = staffing.invite_staff(event=event, invited_by=request.user, **form.cleaned_data)
        except UserFacingError as error:
            _refused(request, error)
        else:
            messages.success(request, done)
            return redirect("hackathon:staff", slug=event.slug)
    context = {
        "event": event,
        "form": form,
        "roles": selectors.event_staff(event),
        "invitations": staffing.pending_invitations(event),
    }
    return render(request, "hackathon/staff.html", context)


@login_required
def revoke_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = _managed_event(request, slug)
    role = selectors.get_event_role(event, pk)
    if request.method == "POST":
        try:
            staffing.revoke_role(role=role)
        except UserFacingError as error:
            _refused(request, error)
        else:
            messages.success(request, f"{role.user.get_full_name() or role.user.email} is no longer on the staff.")
        return redirect("hackathon:staff", slug=event.slug)
    if refusal := staffing.why_role_stays(role):  # say so before asking, not after the confirmation
        messages.error(request, refusal)
        return redirect("hackathon:staff", slug=event.slug)
    return confirm_page(
        request,
        event=event,
        heading=f"Revoke the {role.get_role_display().lower()} role of {role.user.get_full_name() or role.user.email}?",
        consequences=staffing.what_revoking_removes(role),
        button="Yes, revoke the role",
        back=reverse("hackathon:staff", args=[event.slug]),
    )


@login_required
@require_POST
def withdraw_invitation(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    event = _managed_event(request, slug)
    invitation = selectors.get_event_invitation(event, pk)
    try:
        staffing.withdraw_invitation(invitation=invitation)
        messages.success(request, f"The invitation of {invitation.email} is withdrawn; its link no longer works.")
    except UserFacingError as error:
        _refused(request, error)
    return redirect("hackathon:staff", slug=event.slug)


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: grant the role to the invited address's account, or lead the person through sign-up."""
    invitation = selectors.get_invitation(token)
    event = invitation.event
    if not invitation.is_pending and request.user.is_authenticated and invitation.accepted_by_id == request.user.pk:
        # Back from signing up through the link: the sign-up itself granted the role.
        return _welcome_staff(request, invitation)
    if invitation.is_pending and request.user.is_authenticated:
        try:
            staffing.accept_invitation(invitation=invitation, user=request.user)
        except UserFacingError as error:
            _refused(request, error)
        else:
            return _welcome_staff(request, invitation)
    elif invitation.is_pending:
        # Following the emailed link proves the address: the sign-up with it needs no second confirmation.
        get_adapter(request).stash_verified_email(request, invitation.email)
    context = {"invitation": invitation, "event": event, "has_account": staffing.verified_owner(invitation.email)}
    return render(request, "hackathon/invitation.html", context)


def _welcome_staff(request: HttpRequest, invitation: StaffInvitation) -> HttpResponse:
    event = invitation.event
    messages.success(request, f"You are now {staffing.a_role(invitation.get_role_display().lower())} of {event.title}.")
    if invitation.role == EventRole.Role.TUTOR:
        messages.info(request, "Tell the organizers what you know and when you can help.")
        return redirect("hackathon:tutoring", slug=event.slug)
    return redirect("hackathon:event_detail", slug=event.slug)


# --- Feedback and reports ---------------------------------------------------------------------------------


@login_required
def feedback(request: HttpRequest, slug: str) -> HttpResponse:
    event = selectors.get_visible_event(request.user, slug)
    if not permissions.can_give_feedback(request.user, event):
        raise PermissionDenied("The feedback form opens to the event's participants once the event begins.")
    form = forms.FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.give_feedback(event=event, user=request.user, **form.cleaned_data)
        messages.success(request, "Thank you: your feedback is saved.")
        return redirect("hackathon:event_detail", slug=event.slug)
    return render(request, "hackathon/feedback.html", {"event": event, "form": form})


@login_required
def report(request: HttpRequest, slug: str) -> HttpResponse:
    event = _managed_event(request, slug)
    context = {"event": event, "report": selectors.event_report(event)}
    return render(request, "hackathon/report.html", context)


@login_required
def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """The report's counts as one CSV: chart, category, count."""
    event = _managed_event(request, slug)
    data = selectors.event_report(event)
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["chart", "category", "count"])
    for chart in (
        data.registrations,
        data.structures,
        data.career_stages,
        data.experience,
        data.registrations_per_day,
        data.feedback.ratings,
    ):
        for bar in chart.bars:
            writer.writerow([chart.title, bar.label, bar.value])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-report.csv"'
    return response


@login_required
def editions(request: HttpRequest) -> HttpResponse:
    if not permissions.can_compare_editions(request.user):
        raise PermissionDenied("The cross-edition report is for organizers.")
    rows = selectors.editions(request.user)
    return render(request, "hackathon/editions.html", {"rows": rows, "chart": selectors.editions_chart(rows)})
