"""The API's interactive docs are served by the site itself, with no script or style from another origin."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_swagger_ui_loads_only_same_origin_assets_and_points_at_the_schema(client):
    page = client.get(reverse("api:swagger"))
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the page should load Swagger UI's assets"
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources
    assert any("swagger-ui" in s for s in sources)
    script = client.get(reverse("api:swagger") + "?script=")
    assert script.status_code == 200
    assert reverse("api:schema") in script.content.decode()


def test_the_reference_page_links_to_the_interactive_docs(client):
    page = client.get(reverse("api:docs")).content.decode()
    assert reverse("api:swagger") in page
