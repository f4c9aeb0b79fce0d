"""The b-tagging and glitch exercises sit in the catalog under their labels and release through nbgrader as a zip."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from exercises.bundles import build_data, builtin_bundle
from exercises.release import student_zip
from exercises.services import sync_builtin_exercises

FILTERS = {
    "btag-cms": [("technology", "LSTM"), ("technology", "DeepSets"), ("field", "high energy physics")],
    "gw-glitches": [("technology", "CNN"), ("field", "gravitational waves"), ("level", "advanced")],
}


@pytest.mark.django_db
@pytest.mark.parametrize("slug", sorted(FILTERS))
def test_each_exercise_is_found_by_its_labels_and_its_page_shows_the_metric_and_the_starter(client, slug: str) -> None:
    sync_builtin_exercises()
    title = builtin_bundle(slug).manifest.title
    for dimension, value in FILTERS[slug]:
        assert title in client.get(reverse("exercises:exercise_catalog"), {dimension: value}).content.decode()
    assert title not in client.get(reverse("exercises:exercise_catalog"), {"field": "medical physics"}).content.decode()
    page = client.get(reverse("exercises:exercise_detail", args=[slug])).content.decode()
    assert builtin_bundle(slug).manifest.metric.display_name in page
    assert "BEGIN SOLUTION" not in page and "def build_model() -&gt; keras.Model:" in page


@pytest.mark.parametrize(
    ("slug", "files"),
    [
        ("btag-cms", ["features.txt", "test_jets.csv", "test_tracks.npy", "train_jets.csv", "train_tracks.npy"]),
        ("gw-glitches", ["classes.txt", "test_images.npy", "train_images.npy", "train_labels.npy"]),
    ],
)
def test_the_student_zip_holds_the_released_notebook_and_the_public_data_only(
    tmp_path: Path, slug: str, files: list[str]
) -> None:
    bundle = builtin_bundle(slug)
    test_inputs = "test_tracks.npy" if slug == "btag-cms" else "test_images.npy"
    build_data(bundle, tmp_path / "public", tmp_path / "hidden", 5)
    data = student_zip(bundle, tmp_path / "public" / "data")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        notebook = archive.read(f"{slug}/{slug}.ipynb").decode()
        public_test = archive.read(f"{slug}/data/{test_inputs}")
    assert names == sorted([f"{slug}/{slug}.ipynb", f"{slug}/output/", *(f"{slug}/data/{name}" for name in files)])
    assert "BEGIN SOLUTION" not in notebook and "model.fit" not in notebook
    assert public_test == (tmp_path / "public" / "data" / test_inputs).read_bytes()
    assert public_test != (tmp_path / "hidden" / "data" / test_inputs).read_bytes()
    assert not any(name.endswith(".npz") for name in names)
