"""Unpacking an uploaded bundle zip: escapes, links, floods and bombs are refused before anything lands."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from exercises.archives import extract_bundle_zip
from exercises.bundles import builtin_bundle
from exercises.errors import InvalidBundle, InvalidManifest


def bundle_files(prefix: str = "breast-cancer/") -> dict[str, bytes]:
    folder = builtin_bundle("breast-cancer").path
    return {
        prefix + name: (folder / name).read_bytes()
        for name in ("manifest.toml", "data.py", "source.ipynb", "baseline.ipynb")
    }


def make_zip(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_a_zipped_exercise_folder_unpacks_into_a_valid_bundle(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "upload.zip", bundle_files())
    bundle = extract_bundle_zip(upload, tmp_path / "dest")
    assert bundle.slug == "breast-cancer" and bundle.path == tmp_path / "dest" / "breast-cancer"
    assert bundle.manifest == builtin_bundle("breast-cancer").manifest
    assert (bundle.path / "data.py").read_bytes() == (builtin_bundle("breast-cancer").path / "data.py").read_bytes()


def test_files_zipped_at_the_root_unpack_into_a_folder_named_after_the_slug(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "upload.zip", bundle_files(prefix=""))
    bundle = extract_bundle_zip(upload, tmp_path / "dest")
    assert bundle.path == tmp_path / "dest" / "breast-cancer"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("breast-cancer/../../escaped.py", "points outside the folder"),
        ("../escaped.py", "points outside the folder"),
        ("/tmp/escaped.py", "absolute path"),
        ("C:/escaped.py", "absolute path"),
        ("breast-cancer\\..\\escaped.py", "unusable name"),
    ],
)
def test_an_entry_that_escapes_the_folder_is_refused_and_nothing_is_written(
    tmp_path: Path, name: str, message: str
) -> None:
    upload = make_zip(tmp_path / "upload.zip", {**bundle_files(), name: b"print('owned')"})
    with pytest.raises(InvalidBundle, match=message):
        extract_bundle_zip(upload, tmp_path / "dest" / "inner")
    assert everything_under(tmp_path / "dest") == []
    assert not (tmp_path / "escaped.py").exists() and not Path("/tmp/escaped.py").exists()


def test_a_symbolic_link_entry_is_refused(tmp_path: Path) -> None:
    upload = make_zip(tmp_path / "upload.zip", bundle_files(), links={"breast-cancer/data.csv": "/etc/passwd"})
    with pytest.raises(InvalidBundle, match="symbolic link"):
        extract_bundle_zip(upload, tmp_path / "dest")
    assert everything_under(tmp_path / "dest") == []


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    files = {**bundle_files(), **{f"breast-cancer/extra/{i}.txt": b"x" for i in range(20)}}
    upload = make_zip(tmp_path / "upload.zip", files)
    with pytest.raises(InvalidBundle, match="24 entries, more than the 10 allowed"):
        extract_bundle_zip(upload, tmp_path / "dest", max_entries=10)


def test_a_bundle_too_large_when_unpacked_is_refused(tmp_path: Path) -> None:
    import os

    files = {**bundle_files(), "breast-cancer/big.bin": os.urandom(300_000)}
    upload = make_zip(tmp_path / "upload.zip", files)
    with pytest.raises(InvalidBundle, match="unpacks to more than"):
        extract_bundle_zip(upload, tmp_path / "dest", max_total_bytes=200_000)
    assert everything_under(tmp_path / "dest") == []


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tmp_path: Path) -> None:
    files = {**bundle_files(), "breast-cancer/zeros.bin": bytes(20_000_000)}
    upload = make_zip(tmp_path / "upload.zip", files)
    assert upload.stat().st_size < 200_000  # 20 MB of zeros deflate to a few kilobytes
    with pytest.raises(InvalidBundle, match="zip bomb"):
        extract_bundle_zip(upload, tmp_path / "dest")
    assert everything_under(tmp_path / "dest") == []


def test_a_zip_without_a_manifest_is_refused(tmp_path: Path) -> None:
    files = {k: v for k, v in bundle_files().items() if not k.endswith("manifest.toml")}
    with pytest.raises(InvalidBundle, match="no manifest.toml"):
        extract_bundle_zip(make_zip(tmp_path / "upload.zip", files), tmp_path / "dest")


def test_a_bad_manifest_inside_the_zip_is_refused_naming_the_field(tmp_path: Path) -> None:
    files = bundle_files()
    manifest = files["breast-cancer/manifest.toml"].replace(b'direction = "higher"', b'direction = "up"')
    upload = make_zip(tmp_path / "upload.zip", {**files, "breast-cancer/manifest.toml": manifest})
    with pytest.raises(InvalidManifest, match="metric.direction: must be one of higher, lower"):
        extract_bundle_zip(upload, tmp_path / "dest")


def test_a_slug_that_is_not_a_safe_folder_name_is_refused(tmp_path: Path) -> None:
    files = bundle_files()
    manifest = files["breast-cancer/manifest.toml"].replace(b'slug = "breast-cancer"', b'slug = "../x"')
    upload = make_zip(tmp_path / "upload.zip", {**files, "breast-cancer/manifest.toml": manifest})
    with pytest.raises(InvalidBundle, match="slug must be lower-case words"):
        extract_bundle_zip(upload, tmp_path / "dest")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    upload = tmp_path / "upload.zip"
    upload.write_bytes(b"not a zip at all")
    with pytest.raises(InvalidBundle, match="not a readable zip"):
        extract_bundle_zip(upload, tmp_path / "dest")
