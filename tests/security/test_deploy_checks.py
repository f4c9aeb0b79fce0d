"""The production profile passes Django's deployment checks, and every form that posts carries a CSRF token."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_FOLDERS = [ROOT / app / "templates" for app in ("hackathon", "grading", "exercises")]
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.IGNORECASE | re.DOTALL)
POSTS = re.compile(r"""method\s*=\s*["']?post""", re.IGNORECASE)


def _production_environment(tmp_path: Path) -> dict[str, str]:
    keep = {name: value for name, value in os.environ.items() if name in ("PATH", "HOME", "LANG")}
    return {
        **keep,
        "HACKATHON_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HIDDEN_SET_SECRET": secrets.token_urlsafe(32),
        # check --deploy does not connect: these only have to be well formed.
        "DATABASE_URL": "postgres://hackathon@db.invalid:5432/hackathon",
        "CELERY_BROKER_URL": "redis://broker.invalid:6379/0",
        "ALLOWED_HOSTS": "hackathon.example.org",
        "EMAIL_HOST": "smtp.example.org",
        "VAR_DIR": str(tmp_path / "var"),
    }


@pytest.mark.slow
def test_the_production_profile_passes_the_deployment_checks(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_the_deployment_checks_would_catch_a_weakened_profile(tmp_path: Path) -> None:
    # The same run with HSTS switched off must fail: the check above is not vacuous.
    env = {**_production_environment(tmp_path), "SECURE_HSTS_SECONDS": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


def _posting_forms() -> list[tuple[str, str]]:
    forms = []
    for folder in TEMPLATE_FOLDERS:
        for template in sorted(folder.rglob("*.html")):
            for form in FORM.findall(template.read_text()):
                opening = form[: form.index(">") + 1]
                if POSTS.search(opening):
                    forms.append((str(template.relative_to(ROOT)), form))
    return forms


def test_there_are_posting_forms_to_check() -> None:
    assert len(_posting_forms()) >= 10


@pytest.mark.parametrize(("template", "form"), _posting_forms(), ids=lambda value: value[:60])
def test_every_form_that_posts_carries_a_csrf_token(template: str, form: str) -> None:
    assert "{% csrf_token %}" in form, f"{template}: a form posts without {{% csrf_token %}}:\n{form[:300]}"
