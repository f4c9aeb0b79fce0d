"""Unpacking a release without a platform: paths that would leave the exercise's folder are never written."""

from __future__ import annotations

import io
import zipfile

import pytest
from hackathon_jupyter import workspace
from hackathon_jupyter.platform import PlatformError


def release(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_release_path_that_climbs_out_of_the_folder_or_is_absolute_is_skipped(tmp_path):
    folder = tmp_path / "home" / "hackathon" / "ev" / "ex"
    payload = release({"ex/ex.ipynb": b"{}", "ex/../../../../escaped.txt": b"x", "/etc/absolute.txt": b"x"})
    result = workspace.unpack(payload, folder, event="ev", exercise="ex")
    assert result.written == ["ex.ipynb"]
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "home" / "escaped.txt").exists()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [".hackathon.json", "ex.ipynb"]


def test_an_answer_that_is_not_a_zip_is_said_in_a_sentence(tmp_path):
    with pytest.raises(PlatformError, match="not a zip"):
        workspace.unpack(b"<html>proxy error</html>", tmp_path / "f", event="ev", exercise="ex")


@pytest.mark.parametrize("event", ["../up", "a/b", "", "spaces here"])
def test_event_and_exercise_names_are_slugs(tmp_path, event):
    with pytest.raises(PlatformError, match="is not a valid name"):
        workspace.exercise_folder(tmp_path, event, "ex")
