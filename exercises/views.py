"""Pages of the public exercise catalog."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from exercises import selectors, services
from exercises.errors import InvalidBundle
from exercises.forms import BundleUploadForm
from exercises.models import Exercise, Label
from exercises.notebook_html import markdown_html, notebook_html
from exercises.permissions import can_see_upload, can_upload_bundles
from exercises.release import student_notebook
from sandbox.errors import UserFacingError

MAX_BUNDLE_ZIP_BYTES = 200 * 2**20  # bundles hold code and notebooks; data sets are built, not uploaded


def catalog(request: HttpRequest) -> HttpResponse:
    chosen = {key: request.GET.get(key, "") for key in ("technology", "field", "tool", "level")}
    exercises = selectors.catalog(**chosen)
    choices = selectors.label_choices()
    dimensions = [(d.value, d.label, choices[d.value], chosen[d.value]) for d in Label.Dimension]
    context = {
        "exercises": exercises,
        "chosen": chosen,
        "dimensions": dimensions,
        "can_upload": can_upload_bundles(request.user),
    }
    return render(request, "exercises/catalog.html", context)


def exercise_detail(request: HttpRequest, slug: str) -> HttpResponse:
    exercise = selectors.get_published_exercise(slug)
    bundle = services.bundle_of(exercise)
    preview = notebook_html(student_notebook(bundle.source_notebook))
    context = {"exercise": exercise, "preview": preview, "description_html": markdown_html(exercise.description)}
    return render(request, "exercises/exercise_detail.html", context)


@login_required
def upload_bundle(request: HttpRequest) -> HttpResponse:
    if not can_upload_bundles(request.user):
        raise PermissionDenied("Only site staff and the organizers of an event can add exercises to the catalog.")
    form = BundleUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["bundle"]
        try:
            if upload.size > MAX_BUNDLE_ZIP_BYTES:
                raise InvalidBundle(
                    f"The zip is over {MAX_BUNDLE_ZIP_BYTES // 2**20} MB; leave generated data out of it."
                )
            with tempfile.NamedTemporaryFile(suffix=".zip") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
                handle.flush()
                exercise = services.upload_bundle(Path(handle.name), uploader_id=request.user.pk)
        except UserFacingError as error:
            form.add_error("bundle", error.message)
        else:
            messages.success(
                request, f"{exercise.title} is uploaded; the workers now build its data in the sandbox and check it."
            )
            return redirect("exercises:exercise_upload_status", slug=exercise.slug)
    return render(request, "exercises/upload.html", {"form": form})


@login_required
def upload_status(request: HttpRequest, slug: str) -> HttpResponse:
    """Where an uploaded bundle's build and check stand, and why it failed: for its uploader and site staff."""
    exercise = get_object_or_404(Exercise, slug=slug, builtin=False)
    if not can_see_upload(request.user, exercise):
        raise Http404("No upload of yours has this name.")
    return render(request, "exercises/upload_status.html", {"exercise": exercise})
