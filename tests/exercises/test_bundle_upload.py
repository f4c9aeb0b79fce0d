"""Staff and organizers add an exercise by uploading its folder as a zip; a bad zip is refused and leaves nothing."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exercises.bundles import BUILTIN_BUNDLES_DIR
from exercises.models import Exercise
from exercises.selectors import catalog
from exercises.services import sync_builtin_exercises
from grading import bundle_builds
from tests.builders.events import make_event
from tests.builders.people import make_organizer, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.production_profile]
SOURCE = BUILTIN_BUNDLES_DIR / "breast-cancer"


def bundle_zip(*, slug: str = "my-cancer-study", replace: dict[str, bytes] | None = None, extra=()) -> bytes:
    """Zip the breast-cancer bundle under a new slug, with files replaced or added."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(SOURCE.iterdir()):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if path.name == "manifest.toml":
                data = data.replace(b'slug = "breast-cancer"', f'slug = "{slug}"'.encode())
            data = (replace or {}).get(path.name, data)
            archive.writestr(f"{slug}/{path.name}", data)
        for name, data in extra:
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(client, payload: bytes):
    return client.post(reverse("exercises:exercise_upload"), {"bundle": SimpleUploadedFile("bundle.zip", payload)})


@pytest.fixture
def staff_client(client):
    client.force_login(make_user(staff=True))
    return client


@pytest.mark.slow
def test_staff_upload_a_bundle_and_it_appears_in_the_catalog_once_built_in_the_sandbox(staff_client, bwrap):
    response = upload(staff_client, bundle_zip())
    exercise = Exercise.objects.get(slug="my-cancer-study")
    assert response.status_code == 302
    assert response["Location"] == reverse("exercises:exercise_upload_status", args=[exercise.slug])
    assert not exercise.builtin and not exercise.published and exercise.build_status == Exercise.Build.CHECKING
    assert Path(exercise.bundle_path) == Path(bwrap.PRIVATE_DATA_ROOT) / "bundles" / "my-cancer-study"
    assert exercise not in catalog()
    exercise = bundle_builds.check_uploaded_bundle(exercise.pk)  # what the worker's task runs
    assert exercise.build_status == Exercise.Build.READY and exercise.published, exercise.build_message
    assert exercise.title in staff_client.get(reverse("exercises:exercise_catalog")).content.decode()
    assert leftovers(bwrap) == ["my-cancer-study"]


@pytest.mark.slow
def test_an_event_s_organizer_uploads_a_bundle_and_follows_its_check(client, bwrap):
    organizer = make_organizer(make_event())
    client.force_login(organizer)
    assert "Add an exercise" in client.get(reverse("exercises:exercise_catalog")).content.decode()
    assert client.get(reverse("exercises:exercise_upload")).status_code == 200
    upload(client, bundle_zip())
    exercise = Exercise.objects.get(slug="my-cancer-study")
    assert exercise.uploaded_by == organizer
    status = reverse("exercises:exercise_upload_status", args=[exercise.slug])
    assert "Being built and checked on the workers" in client.get(status).content.decode()
    bundle_builds.check_uploaded_bundle(exercise.pk)
    assert "Built and checked" in client.get(status).content.decode()
    client.force_login(make_organizer(make_event()))
    assert client.get(status).status_code == 404  # another organizer does not read this upload's page


def leftovers(settings) -> list[str]:
    root = Path(settings.PRIVATE_DATA_ROOT) / "bundles"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not a zip at all", "not a readable zip"),
        (bundle_zip(extra=[("../escape.txt", b"x")]), "outside the folder"),
        (bundle_zip(replace={"manifest.toml": b'slug = "my-cancer-study"\ntitle = 3\n'}), "title"),
        (bundle_zip(slug="breast-cancer"), "exists already"),
    ],
    ids=["not-a-zip", "path-escape", "bad-manifest", "taken-slug"],
)
def test_a_bad_bundle_is_refused_with_the_reason_and_nothing_is_kept(staff_client, settings, payload, message):
    sync_builtin_exercises()  # the built-in breast-cancer takes its slug
    before = Exercise.objects.count()
    response = upload(staff_client, payload)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Exercise.objects.count() == before
    assert leftovers(settings) == []


@pytest.mark.slow
def test_a_hidden_set_with_one_class_is_refused_at_publication(staff_client, bwrap):
    one_class = (SOURCE / "data.py").read_text() + (
        "\n\n_original_build = build\n\n"
        "def build(public_dir, hidden_dir, secret_seed):\n"
        "    import numpy as np\n"
        "    _original_build(public_dir, hidden_dir, secret_seed)\n"
        "    answers = dict(np.load(hidden_dir / 'answers.npz'))\n"
        "    answers['labels'] = np.ones_like(answers['labels'])\n"
        "    np.savez(hidden_dir / 'answers.npz', **answers)\n"
    )
    response = upload(staff_client, bundle_zip(replace={"data.py": one_class.encode()}))
    assert response.status_code == 302
    exercise = bundle_builds.check_uploaded_bundle(Exercise.objects.get(slug="my-cancer-study").pk)
    assert exercise.build_status == Exercise.Build.FAILED
    assert "holds only class" in staff_client.get(response["Location"]).content.decode()
    assert not Exercise.objects.filter(slug="my-cancer-study", published=True).exists()
    assert leftovers(bwrap) == []
    # The fixed bundle takes the failed upload's slug.
    assert upload(staff_client, bundle_zip()).status_code == 302
    assert Exercise.objects.get(slug="my-cancer-study").build_status == Exercise.Build.CHECKING


def test_people_who_organize_no_event_cannot_upload(client):
    client.force_login(make_user())
    assert "Add an exercise" not in client.get(reverse("exercises:exercise_catalog")).content.decode()
    assert upload(client, bundle_zip()).status_code == 403
    assert not Exercise.objects.filter(slug="my-cancer-study").exists()
