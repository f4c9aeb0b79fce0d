"""The README documents every setting the settings module reads, and shows the two set-up commands first."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "hackathon" / "config" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|float|list|path|networks|pairs)\(\s*"([A-Z_]+)"', source)) | set(
        re.findall(r'_required_in_production\(\s*"([A-Z_]+)"', source)
    )


def test_every_setting_read_from_the_environment_has_a_row_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    missing = variables_read_by_settings() - documented
    assert variables_read_by_settings(), "the settings module reads no variable: the pattern is out of date"
    assert not missing, f"settings without a README row: {sorted(missing)}"


def test_the_readme_opens_with_make_run_and_make_test():
    head = (ROOT / "README.md").read_text().split("## ", 1)[0]
    assert "make run" in head and "make test" in head


def test_the_readme_names_every_variable_make_run_reads():
    # A newcomer whose port 8000 is taken must find PORT without reading deploy/run-dev.sh.
    script = (ROOT / "deploy" / "run-dev.sh").read_text()
    read = set(re.findall(r"\$\{([A-Z_]+):-", script)) - {"SITE_URL"}  # SITE_URL has its row in the settings table
    head = (ROOT / "README.md").read_text().split("## ", 1)[0]
    assert read >= {"HOST", "PORT"}, "run-dev.sh reads other variables now: the pattern is out of date"
    assert not [name for name in read if f"`{name}" not in head], f"variables of make run the README omits: {read}"
