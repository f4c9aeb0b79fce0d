"""Pages of submitting and feedback: an event's exercise, a submission's result and its pictures."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from exercises.errors import DatasetNotReady
from exercises.notebook_html import markdown_html, notebook_html
from exercises.release import student_zip
from exercises.services import bundle_of, ensure_dataset
from grading import closing, gpu_budget, selectors, services
from grading.errors import SharingRefused, SubmissionRefused
from grading.forms import SubmissionForm
from grading.models import Submission
from grading.permissions import can_change_sharing, visible_result
from hackathon import permissions
from hackathon.deadlines import deadline_for
from hackathon.selectors import get_visible_event

FIGURE_NAME = re.compile(r"^[a-z0-9-]+\.png$")


def _participant_exercise(request: HttpRequest, slug: str, exercise_slug: str):  # type: ignore[no-untyped-def]
    event = get_visible_event(request.user, slug)
    if not (permissions.can_take_part(request.user, event) or permissions.can_manage_event(request.user, event)):
        raise Http404("Only the event's participants see its exercises.")
    return event, selectors.get_open_event_exercise(event, exercise_slug)


@login_required
def event_exercise(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    event, event_exercise = _participant_exercise(request, slug, exercise_slug)
    deadline = deadline_for(event_exercise, request.user)
    context = {
        "event": event,
        "event_exercise": event_exercise,
        "exercise": event_exercise.exercise,
        "description_html": markdown_html(event_exercise.exercise.description),
        "remaining": services.remaining_today(participant=request.user, event_exercise=event_exercise),
        "per_day": services.submissions_per_day(event_exercise),
        "gpu_budget": gpu_budget.gpu_budget(event=event, participant=request.user)
        if event_exercise.exercise.queue == "gpu"
        else None,
        "submissions": selectors.my_submissions(request.user, event_exercise)[:50],
        "form": SubmissionForm(),
        "debrief_open": closing.has_closed(event_exercise),
        "can_submit": permissions.can_take_part(request.user, event) and deadline.is_open(),
        "window_refusal": deadline.refusal(),
        "deadline": deadline,
        "manages": permissions.can_manage_event(request.user, event),
    }
    if context["manages"]:
        context["reference_checks"] = list(event_exercise.reference_checks.select_related("requested_by")[:5])
    return render(request, "grading/event_exercise.html", context)


@login_required
def my_submissions(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    """The live list of one's submissions (polled by htmx)."""
    _, event_exercise = _participant_exercise(request, slug, exercise_slug)
    submissions = selectors.my_submissions(request.user, event_exercise)[:50]
    return render(request, "grading/_submission_rows.html", {"submissions": submissions})


@login_required
@require_POST
def submit(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    event, event_exercise = _participant_exercise(request, slug, exercise_slug)
    back = redirect("grading:event_exercise", slug=event.slug, exercise_slug=exercise_slug)
    form = SubmissionForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose the .ipynb file of your notebook, then press Submit.")
        return back
    if refusal := deadline_for(event_exercise, request.user).refusal():
        messages.error(request, refusal)
        return back
    upload = form.cleaned_data["notebook"]
    raw = upload.read(settings.SUBMISSION_MAX_BYTES + 1)  # one byte over is enough to refuse it
    try:
        submission = services.submit_notebook(
            participant=request.user,
            event_exercise=event_exercise,
            raw=raw,
            filename=upload.name,
            kind=form.cleaned_data["kind"],
            share_notebook=form.cleaned_data["share_notebook"],
        )
    except SubmissionRefused as error:
        messages.error(request, error.message)
        return back
    messages.success(request, "Your notebook is queued. This page follows it until its result is in.")
    return redirect(submission)


@login_required
def download(request: HttpRequest, slug: str, exercise_slug: str) -> HttpResponse:
    """The released notebook and the public data of an exercise, as one zip."""
    event, event_exercise = _participant_exercise(request, slug, exercise_slug)
    try:
        dataset = ensure_dataset(event_exercise.exercise, event_exercise.secret_seed)
    except DatasetNotReady as error:  # an uploaded bundle's data builds on the workers only
        messages.error(request, error.message)
        return redirect("grading:event_exercise", slug=event.slug, exercise_slug=exercise_slug)
    payload = student_zip(bundle_of(event_exercise.exercise), dataset.public_data)
    response = HttpResponse(payload, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{event_exercise.exercise.slug}.zip"'
    return response


def _detail_context(request: HttpRequest, submission: Submission) -> dict:
    event = submission.event_exercise.event
    return {
        "submission": submission,
        "event": event,
        "exercise": submission.event_exercise.exercise,
        "position": selectors.queue_position(submission),
        "wait": selectors.estimated_wait_seconds(submission),
        "is_own": submission.participant_id == request.user.pk,
        "can_change_sharing": can_change_sharing(request.user, submission),
        "result": visible_result(submission, request.user),
        "decimals": settings.BOARD_DECIMALS,
    }


@login_required
def submission_detail(request: HttpRequest, uid: str) -> HttpResponse:
    submission = selectors.get_visible_submission(request.user, uid, with_results=True)
    context = _detail_context(request, submission)
    if submission.executed_notebook:
        context["notebook_html"] = notebook_html(submission.executed_notebook, failed_cell=submission.failed_cell)
    return render(request, "grading/submission_detail.html", context)


@login_required
@require_POST
def submission_sharing(request: HttpRequest, uid: str) -> HttpResponse:
    """Give (`share=yes`) or withdraw (`share=no`) the author's consent to show the notebook after the deadline."""
    submission = selectors.get_visible_submission(request.user, uid)
    if not can_change_sharing(request.user, submission):
        raise PermissionDenied("Only the notebook's author can agree to share it or stop sharing it.")
    share = request.POST.get("share")
    if share not in ("yes", "no"):
        messages.error(request, "Choose whether to share this notebook, then press the button again.")
        return redirect(submission)
    try:
        closing.set_notebook_sharing(submission=submission, author=request.user, share=share == "yes")
    except SharingRefused as error:
        messages.error(request, error.message)
        return redirect(submission)
    if share == "yes":
        messages.success(
            request,
            "You agreed to share this notebook: after the deadline the organizers may show it, with your name, "
            "to the event's people. You can stop sharing it here at any time.",
        )
    else:
        messages.success(request, "You stopped sharing this notebook: nobody else can read it on the debrief any more.")
    return redirect(submission)


@login_required
def submission_status(request: HttpRequest, uid: str) -> HttpResponse:
    """The status panel alone, polled by htmx until the result is in; then the page reloads once."""
    submission = selectors.get_visible_submission(request.user, uid)
    response = render(request, "grading/_submission_status.html", _detail_context(request, submission))
    if submission.is_final and request.headers.get("HX-Request") and request.GET.get("was") != submission.status:
        response["HX-Refresh"] = "true"
    return response


@login_required
def submission_pictures(request: HttpRequest, uid: str) -> HttpResponse:
    """The pictures panel alone, polled by htmx while the pictures of a stored score are being drawn."""
    submission = selectors.get_visible_submission(request.user, uid)
    return render(request, "grading/_submission_pictures.html", {"submission": submission})


@login_required
def submission_figure(request: HttpRequest, uid: str, name: str) -> HttpResponse:
    submission = selectors.get_visible_submission(request.user, uid)
    listed = {image["file"] for image in (submission.figures or {}).get("images", [])}
    if not FIGURE_NAME.match(name) or name not in listed:
        raise Http404("No such picture.")
    path = Path(services.results_dir(submission)) / name
    if not path.is_file():
        raise Http404("No such picture.")
    return FileResponse(path.open("rb"), content_type="image/png")
