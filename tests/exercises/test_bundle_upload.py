"""Site staff add an exercise by uploading its folder as a zip; a bad zip is refused and leaves nothing behind."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exercises.bundles import BUILTIN_BUNDLES_DIR
from exercises.models import Exercise
from exercises.services import sync_builtin_exercises
from tests.builders.people import make_user

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


def test_staff_upload_a_bundle_and_it_appears_in_the_catalog(staff_client, settings):
    response = upload(staff_client, bundle_zip())
    exercise = Exercise.objects.get(slug="my-cancer-study")
    assert response.status_code == 302 and response["Location"] == exercise.get_absolute_url()
    assert not exercise.builtin
    assert Path(exercise.bundle_path) == Path(settings.PRIVATE_DATA_ROOT) / "bundles" / "my-cancer-study"
    assert exercise.title in staff_client.get(reverse("exercises:exercise_catalog")).content.decode()


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


def test_a_hidden_set_with_one_class_is_refused_at_publication(staff_client, settings):
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
    assert response.status_code == 200
    assert "holds only class" in response.content.decode()
    assert not Exercise.objects.filter(slug="my-cancer-study").exists()
    assert leftovers(settings) == []


def test_organizers_who_are_not_staff_cannot_upload(client):
    client.force_login(make_user())
    assert upload(client, bundle_zip()).status_code == 403
    assert not Exercise.objects.filter(slug="my-cancer-study").exists()
