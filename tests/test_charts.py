"""Server-drawn SVG charts (app/services/charts.py) and their table macro (templates/macros/charts.html)."""
import re
import xml.etree.ElementTree as ET

import pytest

from app.services import charts
from app.services.charts import Chart, bar_chart, line_chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
DAYS = ["1 Dec", "2 Dec", "3 Dec"]


def parse(svg) -> ET.Element:
    """The chart as XML: it must be well formed (escaped), whatever the names in it."""
    return ET.fromstring(str(svg))


def paths(root: ET.Element) -> list[str]:
    return [path.get("d") for path in root.iter(f"{SVG}path")]


@pytest.mark.parametrize(("maximum", "whole", "ticks"), [
    (9, True, [0, 5, 10]),
    (10, True, [0, 5, 10]),
    (7, True, [0, 2, 4, 6, 8]),
    (23, True, [0, 10, 20, 30]),
    (101, True, [0, 50, 100, 150]),
    (3, True, [0, 1, 2, 3]),
    (1, True, [0, 1]),  # counts: no half leads
    (1, False, [0, 0.5, 1]),
    (0.37, False, [0, 0.1, 0.2, 0.3, 0.4]),
    (45.2, False, [0, 20, 40, 60]),
    (0, True, [0, 1]),
])
def test_ticks_are_round_and_few(maximum, whole, ticks):
    assert nice_ticks(maximum, whole=whole) == ticks


@pytest.mark.parametrize("maximum", [0.013, 0.9, 1.5, 4, 6, 11, 19, 37, 64, 99, 250, 999, 1234, 98765])
def test_ticks_cover_the_data_from_zero_in_equal_round_steps(maximum):
    ticks = nice_ticks(maximum)
    steps = {round(b - a, 10) for a, b in zip(ticks, ticks[1:])}
    assert ticks[0] == 0 and ticks[-1] >= maximum and ticks[-2] < maximum
    assert 2 <= len(ticks) <= charts.MAX_TICKS + 1
    assert len(steps) == 1
    mantissa = f"{steps.pop():e}".split("e")[0]
    assert float(mantissa) in (1, 2, 5)


def test_points_are_scaled_into_the_view_box(app):
    root = parse(line_chart([("Leads", [0, 5, 10])], title="Leads per day", x_labels=DAYS, chart_id="c"))
    assert root.get("viewBox") == "0 0 320 180" and root.get("width") == "100%" and root.get("height") is None
    # y labels "0", "5", "10" take 24 units on the left; 8 stay free at the top and right, 24 below for the
    # x labels: the plot is x 24..312 (three slots of 96) and y 8..156 (0 at the bottom, 10 at the top).
    assert paths(root) == ["M72 156 L168 82 L264 8"]
    markers = [(c.get("cx"), c.get("cy")) for c in root.iter(f"{SVG}circle")]
    assert markers == [("72", "156"), ("168", "82"), ("264", "8")]
    grid = [(line.get("y1"), line.get("x1"), line.get("x2")) for line in root.iter(f"{SVG}line")]
    assert grid == [("156", "24", "312"), ("82", "24", "312"), ("8", "24", "312")]
    texts = [(t.get("class"), t.text) for t in root.iter(f"{SVG}text")]
    assert texts == [("chart-tick", "0"), ("chart-tick", "5"), ("chart-tick", "10"),
                     ("chart-x", "1 Dec"), ("chart-x", "2 Dec"), ("chart-x", "3 Dec")]


def test_bars_stand_on_zero_in_the_middle_of_their_slot(app):
    root = parse(bar_chart([("Leads", [0, 5, 10])], title="Leads per day", x_labels=DAYS, chart_id="c"))
    bars = [(r.get("x"), r.get("y"), r.get("width"), r.get("height")) for r in root.iter(f"{SVG}rect")]
    # 70% of a 96 unit slot; a zero draws no bar
    assert bars == [("134.4", "82", "67.2", "74"), ("230.4", "8", "67.2", "148")]


def test_a_missing_value_breaks_the_line_and_a_lone_point_keeps_its_marker(app):
    root = parse(line_chart([("Leads", [1, None, 3, 4])], title="Leads", x_labels=["a", "b", "c", "d"]))
    # ticks 0..4, "4" is 16 units wide: slots of 74 from x 16; y 8 (4) .. 156 (0)
    assert paths(root) == ["M53 119 M201 45 L275 8"]
    assert [c.get("cx") for c in root.iter(f"{SVG}circle")] == ["53", "201", "275"]

    lone = parse(line_chart([("Orders", [None, 2, None])], title="Orders", x_labels=DAYS))
    assert len(list(lone.iter(f"{SVG}circle"))) == 1


def test_two_series_differ_by_more_than_colour(app):
    root = parse(line_chart([("Leads", [3, 5, 4]), ("Orders", [1, None, 2])], title="Leads and orders",
                            x_labels=DAYS))
    leads, orders = [g for g in root.iter(f"{SVG}g") if "chart-series" in (g.get("class") or "")]
    leads_line, orders_line = leads.find(f"{SVG}path"), orders.find(f"{SVG}path")
    assert leads_line.get("stroke") != orders_line.get("stroke")
    assert leads_line.get("stroke-dasharray") is None and orders_line.get("stroke-dasharray")
    assert leads.findall(f"{SVG}circle") and not leads.findall(f"{SVG}rect")
    assert orders.findall(f"{SVG}rect") and not orders.findall(f"{SVG}circle")
    legend = [t.text for g in root.iter(f"{SVG}g") if g.get("class") == "chart-legend" for t in g.iter(f"{SVG}text")]
    assert legend == ["Leads", "Orders"]

    bars = parse(bar_chart([("Leads", [3, 5, 4]), ("Orders", [1, 2, 2]), ("Visits", [2, 2, 2])], title="t",
                           x_labels=DAYS, chart_id="m"))
    fills = [g.find(f"{SVG}rect").get("fill") for g in bars.iter(f"{SVG}g") if g.get("class", "").startswith(
        "chart-series")]
    assert fills == ["#0b5cad", "#fff", "url(#m-hatch-2)"]
    assert bars.find(f"{SVG}defs/{SVG}pattern").get("id") == "m-hatch-2"


@pytest.mark.parametrize(("series", "x_labels"), [
    ([("Leads", [0, 0, 0])], DAYS),
    ([("Leads", [None, None, None]), ("Orders", [0, None, 0])], DAYS),
    ([("Leads", [])], []),
    ([], []),
])
def test_no_data_says_so_instead_of_an_empty_frame(app, series, x_labels):
    svg = line_chart(series, title="Leads per day", x_labels=x_labels, chart_id="c")
    root = parse(svg)
    assert root.get("role") == "img" and root.get("viewBox") == "0 0 320 60"
    assert [t.text for t in root.iter(f"{SVG}text")] == ["No data for this period"]
    assert not paths(root) and not list(root.iter(f"{SVG}line"))
    assert root.find(f"{SVG}desc").text == "Leads per day. No data for this period"
    assert not Chart("bar", series, "Leads per day", x_labels).has_data


def test_every_text_is_escaped(app):
    hostile = '<script>alert("x")</script>'
    svg = str(line_chart([(hostile, [1, 2, 3]), ("线索 & 订单", [2, 1, None])], title="<b>Leads</b>",
                         x_labels=["1 Dec", "<i>", "3 Dec"], y_format=lambda v: f"{v:g} <min>"))
    assert "<script" not in svg and "<b>" not in svg and "<i>" not in svg and "<min>" not in svg
    assert "&lt;script&gt;" in svg and "线索 &amp; 订单" in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "<b>Leads</b>"
    assert hostile in root.find(f"{SVG}desc").text
    assert "<i>" in [t.text for t in root.iter(f"{SVG}text")]
    # The strict CSP: no style attribute or element, anywhere
    assert "style" not in svg


def test_bad_input_is_refused(app):
    with pytest.raises(ValueError):
        line_chart([("Leads", [1, 2])], title="t", x_labels=DAYS)
    with pytest.raises(ValueError):
        line_chart([("Leads", [1, -2, 3])], title="t", x_labels=DAYS)
    with pytest.raises(ValueError):
        Chart("pie", [], "t", [])
    with pytest.raises(ValueError):
        line_chart([("Leads", [1, 2, 3])], title="t", x_labels=DAYS, chart_id='x" onload="y')


def test_the_description_states_the_data_in_words(app):
    svg = line_chart([("Leads", [3, None, 0]), ("Median", [12.5, 30, None])], title="Leads per day",
                     x_labels=DAYS, chart_id="leads")
    root = parse(svg)
    assert root.get("aria-labelledby") == "leads-title leads-desc"
    assert root.find(f"{SVG}title").get("id") == "leads-title"
    assert root.find(f"{SVG}desc").get("id") == "leads-desc"
    assert root.find(f"{SVG}desc").text == ("Leads per day, 1 Dec to 3 Dec. Leads: 3, no data, 0. "
                                            "Median: 12.5, 30, no data.")
    minutes = parse(line_chart([("Median", [12.5, 30, 8])], title="Response", x_labels=DAYS,
                               y_format=lambda v: f"{v:g} min"))
    assert minutes.find(f"{SVG}desc").text == "Response, 1 Dec to 3 Dec. Median: 12.5 min, 30 min, 8 min."
    assert [t.text for t in minutes.iter(f"{SVG}text") if t.get("class") == "chart-tick"] == [
        "0 min", "10 min", "20 min", "30 min"]


def test_a_month_of_x_labels_is_thinned_to_fit_a_phone(app):
    days = [f"{day} Dec" for day in range(1, 31)]
    root = parse(line_chart([("Leads", list(range(30)))], title="Leads per day", x_labels=days))
    shown = [t for t in root.iter(f"{SVG}text") if t.get("class") == "chart-x"]
    assert shown[0].text == "1 Dec" and 4 <= len(shown) <= 8
    centres = [float(t.get("x")) for t in shown]
    widest = max(charts.text_width(day) for day in days)
    assert min(b - a for a, b in zip(centres, centres[1:])) >= widest
    # the text: 13 units in a 320 unit view; a 360 px phone gives the chart ~300 px, so ~12 px
    assert root.get("font-size") == "13" and 13 * 300 / 320 >= 11


def test_the_macro_draws_the_chart_and_its_table(app):
    template = app.jinja_env.from_string(
        '{% from "macros/charts.html" import chart %}'
        '{{ chart("bar", series, "Leads per day", days, x_header="Day", chart_id="leads") }}')
    with app.test_request_context():
        html = template.render(series=[("线索", [3, None, 0]), ("<script>x</script>", [1, 2, 0])], days=DAYS)
    assert '<figure class="chart">' in html and 'aria-labelledby="leads-title leads-desc"' in html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    table = re.search(r'<details class="chart-table">\s*<summary>Table</summary>(.*)</details>', html, re.S).group(1)
    assert '<caption class="visually-hidden">Leads per day</caption>' in table
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', table)
    assert headers == ["Day", "线索", "&lt;script&gt;x&lt;/script&gt;"]
    rows = [(head, re.findall(r"<td[^>]*>(.*?)</td>", cells))
            for head, cells in re.findall(r'<th scope="row">(.*?)</th>(.*?)</tr>', table, re.S)]
    assert rows == [("1 Dec", ["3", "1"]), ("2 Dec", ["—", "2"]), ("3 Dec", ["0", "0"])]


def test_the_macro_shows_no_table_without_data(app):
    template = app.jinja_env.from_string(
        '{% from "macros/charts.html" import chart %}{{ chart("line", series, "Orders", days, y_format=f) }}')
    with app.test_request_context():
        html = template.render(series=[("Orders", [0, None, 0])], days=DAYS, f=lambda v: f"{v:g} cars")
    assert "No data for this period" in html and "<details" not in html and "<table" not in html
