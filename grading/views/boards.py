"""Pages of the leaderboards: each exercise's board and its JSON, the event board, and the organizer's view."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from grading import selectors
from grading.boards import activity
from grading.boards import cache as board_cache
from grading.boards import selectors as board_selectors
from grading.boards import services as board_services
from grading.boards.ranking import Audience, Part, Ranking, board_json, combined_board, is_revealed
from grading.errors import BoardActionRefused
from grading.models import AuditEntry, BoardSettings, Disqualification, Submission, result_fields_through
from grading.permissions import board_audience
from hackathon.confirmation import confirm_page
from hackathon.models import Event, EventExercise
from hackathon.selectors import get_visible_event
from hackathon.spreadsheets import csv_writer

# --- Forms --------------------------------------------------------------------------------------------------


class BoardSettingsForm(forms.ModelForm):
    class Meta:
        model = BoardSettings
        fields = ["freeze_minutes", "reveal_at", "ladder", "ladder_step", "final_picks", "show_targets"]
        labels = {
            "freeze_minutes": "Freeze the public board this many minutes before the end",
            "reveal_at": "Reveal the private board at",
            "ladder": "Ladder mode",
            "ladder_step": "Ladder step",
            "final_picks": "Final picks per participant",
            "show_targets": "Show the baseline and reference rows",
        }
        widgets = {"reveal_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason (kept in the audit log)", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


# --- Helpers ------------------------------------------------------------------------------------------------


def _event_and_audience(request: HttpRequest, slug: str) -> tuple[Event, Audience]:
    """Return the event and how the person reads its boards; 404 for people outside the event."""
    event = get_visible_event(request.user, slug)
    audience = board_audience(request.user, event)
    if audience is None:
        raise Http404("Only the event's participants, tutors and organizers see its boards.")
    return event, audience


def _organizer_event(request: HttpRequest, slug: str) -> Event:
    event, audience = _event_and_audience(request, slug)
    if audience is not Audience.ORGANIZER:
        raise PermissionDenied("Only the event's organizers can do this.")
    return event


def _choice(request: HttpRequest, name: str, kind: type[Part] | type[Ranking], default: Any) -> Any:
    try:
        return kind(request.GET.get(name, default))
    except ValueError:
        return default


def _board_context(request: HttpRequest, slug: str, exercise_slug: str) -> dict[str, Any]:
    event_exercise, audience = board_selectors.get_board_access(request.user, slug, exercise_slug)
    event = event_exercise.event
    part = _choice(request, "part", Part, Part.PUBLIC)
    ranking = _choice(request, "ranking", Ranking, Ranking.PARTICIPANTS)
    board = board_cache.cached_board(event_exercise, audience=audience, part=part, ranking=ranking)
    return {
        "event": event,
        "event_exercise": event_exercise,
        "exercise": event_exercise.exercise,
        "board": board,
        "audience": audience,
        "is_organizer": audience is Audience.ORGANIZER,
        "query": f"part={part}&ranking={ranking}",
    }


# --- Everyone in the event ----------------------------------------------------------------------------------


@login_required
def exercise_board(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    return render(request, "grading/boards/exercise_board.html", _board_context(request, slug, exercise_slug))


@login_required
def exercise_board_rows(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    """The board's table alone, polled by htmx."""
    return render(request, "grading/boards/_board_table.html", _board_context(request, slug, exercise_slug))


@login_required
def exercise_board_json(request: HttpRequest, slug: str, exercise_slug: str) -> JsonResponse:
    context = _board_context(request, slug, exercise_slug)
    return JsonResponse(board_json(context["board"], viewer_id=request.user.pk))


@login_required
def event_board(request: HttpRequest, slug: str) -> HttpResponse:
    """The combined board of the event's exercises, with a link to each exercise's own board."""
    event, audience = _event_and_audience(request, slug)
    part = _choice(request, "part", Part, Part.PUBLIC)
    each = board_selectors.event_boards(event, audience=audience, part=part)
    context = {
        "event": event,
        "part": part,
        "combined": combined_board(event, each),
        "boards": each,
        "event_exercises": list(event.event_exercises.select_related("exercise").order_by("pk")),
        "is_organizer": audience is Audience.ORGANIZER,
    }
    return render(request, "grading/boards/event_board.html", context)


@login_required
def final_selection(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    """A participant picks the submissions that count for the final ranking, until the exercise closes."""
    event, _ = _event_and_audience(request, slug)
    event_exercise = selectors.get_open_event_exercise(event, exercise_slug)
    options = board_selectors.options_of(event_exercise)
    if request.method == "POST":
        try:
            picked = board_services.pick_final_submissions(
                participant=request.user, event_exercise=event_exercise, uids=request.POST.getlist("pick")
            )
        except BoardActionRefused as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Saved: {len(picked)} submission(s) picked for the final ranking.")
        return redirect("grading:final_selection", slug=event.slug, exercise_slug=exercise_slug)
    mine = (
        selectors.my_submissions(request.user, event_exercise)
        .filter(kind=Submission.Kind.GRADED, status=Submission.Status.SCORED, disqualification__isnull=True)
        .select_related("final_pick")
    )
    context = {
        "event": event,
        "exercise": event_exercise.exercise,
        "event_exercise": event_exercise,
        "options": options,
        "submissions": [(s, hasattr(s, "final_pick")) for s in mine],
        "locked": timezone.now() >= event_exercise.closes_at,
        "decimals": board_selectors.board_decimals(),
    }
    return render(request, "grading/boards/final_selection.html", context)


# --- Organizers ---------------------------------------------------------------------------------------------


def _organizer_context(event: Event) -> dict[str, Any]:
    return {
        "event": event,
        "exercises": board_selectors.organizer_overview(event),
        "activity": activity.event_activity(event),
        "generated_at": timezone.now(),
    }


@login_required
def organizer_boards(request: HttpRequest, slug: str) -> HttpResponse:
    """Every exercise's live boards, the queues, the failures and the scores' progression, in one view."""
    event = _organizer_event(request, slug)
    context = _organizer_context(event)
    context["audit"] = (
        AuditEntry.objects.filter(event_exercise__event=event)
        .select_related("actor", "submission", "event_exercise__exercise")
        .defer(*result_fields_through("submission"))
        .order_by("-at", "-id")[:50]
    )
    return render(request, "grading/boards/organizer.html", context)


@login_required
def organizer_boards_live(request: HttpRequest, slug: str) -> HttpResponse:
    event = _organizer_event(request, slug)
    return render(request, "grading/boards/_organizer_live.html", _organizer_context(event))


@login_required
def boards_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """Every board of the event, live and complete, as one CSV for the organizers."""
    event = _organizer_event(request, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-boards.csv"'
    writer = csv_writer(response)
    writer.writerow(
        [
            "board",
            "exercise",
            "part",
            "ranking",
            "rank",
            "kind",
            "name",
            "group",
            "score",
            "submitted_at",
            "submissions",
            "submission",
            "extended",
        ]
    )
    for part in Part:
        for ranking in Ranking:
            for board in board_selectors.event_boards(event, audience=Audience.ORGANIZER, part=part, ranking=ranking):
                for row in board.rows:
                    writer.writerow(
                        [
                            "exercise",
                            board.exercise_title,
                            part,
                            ranking,
                            row.rank if row.rank is not None else "",
                            row.kind,
                            row.name,
                            row.group_number or "",
                            row.score,
                            row.submitted_at.isoformat() if row.submitted_at else "",
                            row.submissions,
                            row.submission_uid or "",
                            "yes" if row.extended else "",
                        ]
                    )
        combined = combined_board(event, board_selectors.event_boards(event, audience=Audience.ORGANIZER, part=part))
        for crow in combined.rows:
            writer.writerow(
                [
                    "combined",
                    "all exercises",
                    part,
                    "participants",
                    crow.rank,
                    "participant",
                    crow.name,
                    "",
                    crow.mean_normalized_rank,
                    "",
                    "",
                    "",
                    "",
                ]
            )
    return response


def _organizer_exercise(request: HttpRequest, slug: str, exercise_slug: str) -> tuple[Event, EventExercise]:
    event = _organizer_event(request, slug)
    return event, selectors.get_open_event_exercise(event, exercise_slug)


@login_required
def board_settings(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    event, event_exercise = _organizer_exercise(request, slug, exercise_slug)
    # Unsaved defaults until the organizers save: neither a look nor a refused form writes a row.
    options = board_selectors.options_of(event_exercise)
    form = BoardSettingsForm(request.POST or None, instance=options)
    if request.method == "POST" and form.is_valid():
        try:
            board_services.save_board_settings(actor=request.user, options=form.save(commit=False))
        except BoardActionRefused as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Saved the board settings of {event_exercise.exercise.title}.")
            return redirect("grading:organizer_boards", slug=event.slug)
    context = {"event": event, "event_exercise": event_exercise, "exercise": event_exercise.exercise, "form": form}
    context["revealed"] = is_revealed(options, timezone.now())
    return render(request, "grading/boards/settings.html", context)


@login_required
def reveal_board(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    """Ask first (GET: who will see what), then reveal the private board on the confirmation's POST."""
    event, event_exercise = _organizer_exercise(request, slug, exercise_slug)
    if request.method != "POST":
        title = event_exercise.exercise.title
        return confirm_page(
            request,
            event=event,
            heading=f"Reveal the private board of {title}?",
            consequences=[
                f"Every participant, tutor and organizer of {event.title} sees the private scores of {title} "
                "at once, and the final ranking they decide.",
                "The private board cannot be hidden again, and the public board stops being frozen.",
            ],
            button="Yes, reveal the private board",
            back=reverse("grading:organizer_boards", args=[event.slug]),
        )
    if board_services.reveal_board(actor=request.user, event_exercise=event_exercise):
        messages.success(request, f"The private board of {event_exercise.exercise.title} is now open to everyone.")
    else:
        messages.info(request, "That private board was already revealed.")
    return redirect("grading:organizer_boards", slug=event.slug)


@login_required
def rescore_exercise(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    """Confirm, then run every graded submission of the exercise again on its (fixed) hidden set."""
    event, event_exercise = _organizer_exercise(request, slug, exercise_slug)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ids = board_services.rescore_exercise(
                actor=request.user, event_exercise=event_exercise, reason=form.cleaned_data["reason"]
            )
        except BoardActionRefused as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"Queued {len(ids)} submissions to be scored again; the log keeps their old scores."
            )
            return redirect("grading:organizer_boards", slug=event.slug)
    count = event_exercise.submissions.filter(kind=Submission.Kind.GRADED, status__in=Submission.FINAL).count()
    context = {
        "event": event,
        "exercise": event_exercise.exercise,
        "event_exercise": event_exercise,
        "form": form,
        "count": count,
    }
    return render(request, "grading/boards/rescore.html", context)


def _organizer_submission(request: HttpRequest, uid: str) -> Submission:
    submission = selectors.get_visible_submission(request.user, uid)
    if board_audience(request.user, submission.event_exercise.event) is not Audience.ORGANIZER:
        raise PermissionDenied("Only the event's organizers can disqualify or reinstate a submission.")
    return submission


@login_required
def disqualify_submission(request: HttpRequest, uid: str) -> HttpResponse:
    submission = _organizer_submission(request, uid)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            board_services.disqualify(actor=request.user, submission=submission, reason=form.cleaned_data["reason"])
        except BoardActionRefused as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "The submission is disqualified and off every board.")
            return redirect("grading:organizer_boards", slug=submission.event_exercise.event.slug)
    context = {
        "submission": submission,
        "event": submission.event_exercise.event,
        "exercise": submission.event_exercise.exercise,
        "form": form,
        "disqualification": Disqualification.objects.filter(submission=submission).select_related("by").first(),
        "decimals": board_selectors.board_decimals(),
    }
    return render(request, "grading/boards/disqualify.html", context)


@login_required
@require_POST
def reinstate_submission(request: HttpRequest, uid: str) -> HttpResponse:
    submission = _organizer_submission(request, uid)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the submission is reinstated; the reason is kept in the audit log.")
        return redirect("grading:disqualify_submission", uid=submission.uid)
    try:
        board_services.reinstate(actor=request.user, submission=submission, reason=form.cleaned_data["reason"])
    except BoardActionRefused as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The submission is back on the boards.")
    return redirect("grading:organizer_boards", slug=submission.event_exercise.event.slug)
