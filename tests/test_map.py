"""The /map page and the report form's location picker: a plain list that works without
JavaScript, vendored assets from our own origin, config in data- attributes, no inline
script."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from flask import render_template_string

import config
from challenges.services import change_status
from extensions import db
from tests.factories import make_organiser, make_problem, make_user
from tests.querycount import counting

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Tags(HTMLParser):
    """Every start tag's attributes, and the text inside each <script>."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_bodies: list[str] = []
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.script_bodies.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_bodies[-1] += data

    def all(self, tag: str, has: str | None = None, **match) -> list[dict[str, str | None]]:
        """Tags named `tag` with attribute `has` (any value) and the attribute values in `match`."""
        return [attrs for name, attrs in self.tags
                if name == tag and (has is None or has in attrs)
                and all(attrs.get(k) == v for k, v in match.items())]


def page(client, url="/map") -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def assets(html: str) -> list[str]:
    tags = Tags(html)
    return [a["src"] for a in tags.all("script")] + [a["href"] for a in tags.all("link", rel="stylesheet")]


def test_map_page_lists_problems_as_text_with_links_and_status_in_words(client):
    organiser = make_organiser()
    problem = make_problem(make_user(), title="Wobbly bollard", address="Queen Square")
    change_status(db.session, actor=organiser, problem=problem, status="in_progress")
    db.session.commit()
    html = page(client)
    assert f'<a href="/problems/{problem.id}">Wobbly bollard</a>' in html
    assert ">in progress</span>" in html
    assert "Queen Square" in html
    assert "1 problem" in html


def test_map_page_filters_with_a_plain_get_form(client):
    organiser = make_organiser()
    make_problem(make_user(), title="Pothole one", category="pothole")
    make_problem(make_user(), title="Litter one", category="litter")
    fixed = make_problem(make_user(), title="Fixed litter", category="litter")
    change_status(db.session, actor=organiser, problem=fixed, status="fixed")
    db.session.commit()

    html = page(client)
    [form] = Tags(html).all("form", **{"class": "filters"})
    assert form.get("method") == "get" and "action" not in form

    html = page(client, "/map?category=litter")
    assert "Litter one" in html and "Fixed litter" in html and "Pothole one" not in html
    html = page(client, "/map?category=litter&status=open,confirmed,in_progress")
    assert "Litter one" in html and "Fixed litter" not in html
    [map_div] = Tags(html).all("div", id="problem-map")
    assert map_div["data-geojson-url"] == "/api/v1/problems.geojson?category=litter&status=open,confirmed,in_progress"
    assert "Pothole one" in page(client, "/map?category=nonsense&status=bogus")


def test_map_page_list_is_paginated(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    reporter = make_user()
    for n in range(5):
        make_problem(reporter, title=f"Problem number {n}")
    first = page(client, "/map?category=pothole")
    assert first.count("Problem number") == 2 and "Page 1 of 3" in first
    [older] = Tags(first).all("a", rel="next")
    assert "category=pothole" in older["href"] and "page=2" in older["href"]
    assert page(client, "/map?page=3").count("Problem number") == 1


def test_map_page_leaves_out_merged_problems(client):
    reporter = make_user()
    survivor = make_problem(reporter, title="The survivor")
    duplicate = make_problem(reporter, title="The duplicate")
    duplicate.merged_into_id = survivor.id
    db.session.commit()
    html = page(client)
    assert "The survivor" in html and "The duplicate" not in html


def test_map_assets_are_vendored_and_served_from_our_own_static_folder(client):
    html = page(client)
    urls = assets(html)
    for expected in ["/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                     "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
                     "/static/vendor/leaflet.markercluster/MarkerCluster.css",
                     "/static/vendor/leaflet.markercluster/MarkerCluster.Default.css",
                     "/static/js/problem-map.js", "/static/maps.css"]:
        assert expected in urls
    for url in urls:
        assert url.startswith("/static/"), url
        assert client.get(url).status_code == 200, url
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", html)
    for name in ("leaflet/LICENSE", "leaflet.markercluster/LICENSE"):
        assert os.path.getsize(os.path.join(ROOT, "static", "vendor", name)) > 0


def test_leaflet_images_referenced_by_its_stylesheet_are_vendored(client):
    css = client.get("/static/vendor/leaflet/leaflet.css").get_data(as_text=True)
    for image in re.findall(r"url\((images/[^)]+)\)", css):
        assert client.get(f"/static/vendor/leaflet/{image}").status_code == 200, image


def test_map_page_has_no_inline_script_and_its_config_is_in_data_attributes(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAP_TILE_URL", "https://tiles.example.test/{z}/{x}/{y}.png")
    monkeypatch.setitem(app.config, "MAP_ATTRIBUTION", "&copy; Example <Tiles>")
    monkeypatch.setitem(app.config, "MAP_CENTRE", (52.2053, 0.1218))
    monkeypatch.setitem(app.config, "MAP_ZOOM", 12)
    html = page(client)
    tags = Tags(html)
    assert all(body.strip() == "" for body in tags.script_bodies)
    assert all(attrs.get("src") for attrs in tags.all("script"))
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either
    [map_div] = tags.all("div", id="problem-map")
    assert map_div["data-tile-url"] == "https://tiles.example.test/{z}/{x}/{y}.png"
    assert map_div["data-attribution"] == "&copy; Example <Tiles>"
    assert (map_div["data-centre-lat"], map_div["data-centre-lon"], map_div["data-zoom"]) == ("52.2053", "0.1218", "12")
    assert map_div["data-geojson-url"] == "/api/v1/problems.geojson"


def test_without_javascript_the_map_stays_hidden_and_the_list_works(client):
    make_problem(make_user(), title="Visible without JS")
    tags = Tags(page(client))
    [section] = tags.all("section", has="data-map-section")
    assert "hidden" in section
    assert "Visible without JS" in page(client)


def test_map_legend_names_every_status_in_words(client):
    html = page(client)
    legend = html.split('class="map-legend"', 1)[1].split("</ul>", 1)[0]
    for words in ("Open", "Confirmed", "In progress", "Fixed", "Closed"):
        assert f"</span>{words}</li>" in legend


def test_map_page_links_the_category_feed(client):
    tags = Tags(page(client, "/map?category=litter"))
    feeds = [a["href"] for a in tags.all("link", rel="alternate", type="application/atom+xml")]
    assert "/feeds/category/litter.atom" in feeds


def test_nav_links_to_the_map(client):
    assert '<li><a href="/map">Map</a></li>' in page(client, "/")


def test_map_page_queries_do_not_grow_with_data(client):
    reporter = make_user()
    for _ in range(2):
        make_problem(reporter)
    with counting(db.engine) as small:
        page(client)
    for _ in range(10):
        make_problem(reporter)
    with counting(db.engine) as large:
        page(client)
    assert len(small) == len(large) <= 3


# --- the report form's picker ----------------------------------------------------------------

PICKER_FORM = """<form method="post">
  <select id="category" name="category"><option value="pothole">Pothole</option></select>
  {% include "maps/_picker.html" %}
  <input type="text" id="lat" name="lat"><input type="text" id="lon" name="lon">
</form>"""


def test_picker_is_hidden_without_javascript_and_wired_by_data_attributes(app, ctx):
    with app.test_request_context("/problems/new"):
        html = render_template_string(PICKER_FORM)
    tags = Tags(html)
    [picker] = tags.all("div", has="data-map-picker")
    assert "hidden" in picker
    assert (picker["data-lat-input"], picker["data-lon-input"], picker["data-category-input"]) == ("lat", "lon", "category")
    assert picker["data-nearby-url"] == "/api/v1/problems/nearby"
    assert picker["data-problem-url"] == "/problems/"
    assert picker["data-tile-url"] == app.config["MAP_TILE_URL"]
    [locate] = tags.all("button", has="data-locate")
    assert locate["type"] == "button" and "hidden" in locate  # never submits; shown only with geolocation
    assert "Is it one of these?" in html
    assert all(body.strip() == "" for body in tags.script_bodies)
    urls = assets(html)
    assert urls.index("/static/vendor/leaflet/leaflet.js") < urls.index("/static/js/report-map.js")
    assert all(url.startswith("/static/") for url in urls)
    assert all("defer" in attrs for attrs in tags.all("script"))
    assert [a["name"] for a in tags.all("input")] == ["lat", "lon"]  # the picker adds no form fields


# --- scripts and config ----------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("script", ["problem-map.js", "report-map.js"])
def test_map_scripts_are_valid_javascript(script):
    path = os.path.join(ROOT, "static", "js", script)
    result = subprocess.run(["node", "--check", path], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_map_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FIXQUEST_MAP_TILE_URL", "https://tiles.example.test/{z}/{x}/{y}.png")
    monkeypatch.setenv("FIXQUEST_MAP_ATTRIBUTION", "Tiles: Example")
    monkeypatch.setenv("FIXQUEST_MAP_CENTRE", "52.2053,0.1218")
    monkeypatch.setenv("FIXQUEST_MAP_ZOOM", "15")
    settings = config.from_environment(str(tmp_path))
    assert settings["MAP_TILE_URL"] == "https://tiles.example.test/{z}/{x}/{y}.png"
    assert settings["MAP_ATTRIBUTION"] == "Tiles: Example"
    assert settings["MAP_CENTRE"] == (52.2053, 0.1218)
    assert settings["MAP_ZOOM"] == 15


def test_map_settings_default_to_openstreetmap_over_bristol(monkeypatch, tmp_path):
    for name in ("FIXQUEST_MAP_TILE_URL", "FIXQUEST_MAP_ATTRIBUTION", "FIXQUEST_MAP_CENTRE", "FIXQUEST_MAP_ZOOM"):
        monkeypatch.delenv(name, raising=False)
    settings = config.from_environment(str(tmp_path))
    assert settings["MAP_TILE_URL"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert settings["MAP_ATTRIBUTION"] == "&copy; OpenStreetMap contributors"
    assert settings["MAP_CENTRE"] == (51.4545, -2.5879)
    assert 1 <= settings["MAP_ZOOM"] <= 19


@pytest.mark.parametrize("name, value", [("FIXQUEST_MAP_CENTRE", "Bristol"), ("FIXQUEST_MAP_CENTRE", "51.4"),
                                         ("FIXQUEST_MAP_CENTRE", "95,0"), ("FIXQUEST_MAP_CENTRE", "nan,0"),
                                         ("FIXQUEST_MAP_ZOOM", "0"), ("FIXQUEST_MAP_ZOOM", "twelve")])
def test_bad_map_settings_stop_the_app_starting(monkeypatch, tmp_path, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError):
        config.from_environment(str(tmp_path))
