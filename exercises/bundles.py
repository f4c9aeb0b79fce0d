"""Find, load and build exercise bundles: a folder with a manifest, a data builder and two notebooks."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from exercises.errors import InvalidBundle, InvalidManifest
from exercises.manifest import Manifest, load_manifest

BUILTIN_BUNDLES_DIR = Path(__file__).resolve().parent / "bundles"
REQUIRED_FILES = ("manifest.toml", "data.py", "source.ipynb", "baseline.ipynb")


@dataclass(frozen=True)
class Bundle:
    """One exercise on disk and its validated manifest."""

    path: Path
    manifest: Manifest

    @property
    def slug(self) -> str:
        return self.manifest.slug

    @property
    def source_notebook(self) -> Path:
        """The nbgrader source notebook: run as is, it is the reference solution."""
        return self.path / "source.ipynb"

    @property
    def baseline_notebook(self) -> Path:
        """The trivial baseline notebook."""
        return self.path / "baseline.ipynb"

    @property
    def data_builder(self) -> Path:
        """The data.py whose build() writes the public and hidden data."""
        return self.path / "data.py"


def load_bundle(path: Path) -> Bundle:
    """Load the bundle in folder `path`; raise InvalidBundle or InvalidManifest saying what to fix."""
    path = Path(path)
    if not path.is_dir():
        raise InvalidBundle(f"There is no exercise folder at {path.name}; upload a folder with a manifest.toml.")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise InvalidBundle(f"The exercise {path.name} lacks {', '.join(missing)}; add them and upload again.")
    manifest = load_manifest(path / "manifest.toml")
    if manifest.slug != path.name:
        raise InvalidManifest("slug", f"must equal the folder name {path.name!r}, but it is {manifest.slug!r}")
    return Bundle(path=path, manifest=manifest)


def builtin_bundles() -> list[Bundle]:
    """Return the exercises shipped with the platform, sorted by slug."""
    folders = sorted(p for p in BUILTIN_BUNDLES_DIR.iterdir() if (p / "manifest.toml").is_file())
    return [load_bundle(folder) for folder in folders]


def builtin_bundle(slug: str) -> Bundle:
    """Return the shipped exercise `slug`; raise InvalidBundle if there is none."""
    folder = BUILTIN_BUNDLES_DIR / slug
    if "/" in slug or slug.startswith(".") or not (folder / "manifest.toml").is_file():
        raise InvalidBundle(f"There is no built-in exercise called {slug!r}.")
    return load_bundle(folder)


def build_data(bundle: Bundle, public_dir: Path, hidden_dir: Path, secret_seed: int) -> None:
    """Run the bundle's data.py build() to write its public and hidden data.

    This imports and runs the bundle's own code in this process: call it only for the built-in bundles, which
    ship with the platform. Uploaded bundles build in the sandbox (exercises.data_builds).
    """
    public_dir, hidden_dir = Path(public_dir), Path(hidden_dir)
    module_name = f"_exercise_data_{bundle.slug.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, bundle.data_builder)
    if spec is None or spec.loader is None:
        raise InvalidBundle(f"The data.py of {bundle.slug} cannot be imported.")
    module = importlib.util.module_from_spec(spec)
    # dataclasses and pickling look the module up by name while it runs; drop it afterwards
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
        build = getattr(module, "build", None)
        if not callable(build):
            raise InvalidBundle(f"The data.py of {bundle.slug} must define build(public_dir, hidden_dir, secret_seed).")
        public_dir.mkdir(parents=True, exist_ok=True)
        hidden_dir.mkdir(parents=True, exist_ok=True)
        build(public_dir, hidden_dir, int(secret_seed))
    finally:
        sys.modules.pop(module_name, None)
    check_built_data(bundle, public_dir, hidden_dir)


def check_built_data(bundle: Bundle, public_dir: Path, hidden_dir: Path) -> None:
    """Raise InvalidBundle unless a build wrote data/ and answers.npz into both the public and the hidden folder."""
    for expected in (public_dir / "data", hidden_dir / "data"):
        if not expected.is_dir():
            raise InvalidBundle(f"The build() of {bundle.slug} did not write {expected.parent.name}/data/.")
    for expected in (public_dir / "answers.npz", hidden_dir / "answers.npz"):
        if not expected.is_file():
            raise InvalidBundle(f"The build() of {bundle.slug} did not write {expected.parent.name}/answers.npz.")
