"""Small charts drawn on the server as inline SVG, for the managers' dashboards.

Why on the server: the pages stay plain HTML under the strict Content-Security-Policy (no chart script, no
inline styles: everything below is SVG presentation attributes, and app.css styles the `chart-*` classes), they
work without signal from the service worker's copy, and a phone draws them at once.

What a chart is made of:
- series: a list of (name, values), one value per x label; a value is a number >= 0 or None (no data that day:
  a gap in a line, no bar). Several series share the axes (daily leads and daily orders), each drawn in its own
  colour *and* dash/marker (lines) or fill (bars: solid, outline, hatched), so they differ without colour.
- x_labels: the text under each point ("1 Dec" …); thinned so that they never overlap on a phone.
- y_format: how a value reads ("12", "12.5 min"); used for the y ticks, the description and the table.

The SVG has a viewBox and width="100%", so it scales to its box: on a 360 px phone the box is about 300 px wide
(page and card padding), and the text, 13 viewBox units in a 320 unit wide chart, shows at about 12 px. The y axis
has a few round ticks from 0 (`nice_ticks`). Screen readers get role="img" named by a <title> and a <desc> that
states the data in words; templates/macros/charts.html adds the same data as a table in a <details>. A period
with no data (no values, or only zeros) draws "No data for this period", in a lower box, instead of an empty frame.

`line_chart` and `bar_chart` return the SVG as Markup; `chart` returns the same thing as a `Chart` object, which
the macro (as the template global `chart_data`) uses for the SVG, the table rows and whether there is anything to
show.
"""
import math
import re
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from markupsafe import Markup

Values = Sequence[float | None]
Series = tuple[str, Values]

KINDS = ("line", "bar")
VIEW_WIDTH = 320  # viewBox units; about 300 px on a 360 px phone
FONT_SIZE = 13  # viewBox units: about 12 px on that phone
DEFAULT_HEIGHT = 180
EMPTY_HEIGHT = 60  # "No data for this period" needs no more room on a phone
MAX_TICKS = 4  # intervals on the y axis: enough to read a value, few enough for a phone
PAD = 8  # space at the top and right of the plot
X_LABEL_SPACE = 24  # below the plot, for the x labels
LEGEND_ROW = 20
LEGEND_SAMPLE = 22  # the short line or box before a series' name
NO_DATA = "—"  # a missing value in the table


@dataclass(frozen=True)
class SeriesStyle:
    """How one series is drawn: colour plus a second cue (dash and marker, or fill) that survives grey print."""
    colour: str
    dash: str | None  # stroke-dasharray of a line
    marker: str  # circle, square or triangle on each point of a line
    fill: str  # solid, outline or hatch for a bar


STYLES = (
    SeriesStyle("#0b5cad", None, "circle", "solid"),
    SeriesStyle("#c2570c", "6 4", "square", "outline"),
    SeriesStyle("#1e6b35", "2 3", "triangle", "hatch"),
)


def plain_number(value: float) -> str:
    """A value as the axis and the table show it: whole numbers without decimals, others with one."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def nice_ticks(maximum: float, count: int = MAX_TICKS, whole: bool = False) -> list[float]:
    """Round y ticks from 0 up to at least `maximum`, at most `count` intervals: 0, 5, 10 for 9; 0, 2, 4, 6, 8 for 7.

    The step is 1, 2 or 5 times a power of ten, the smallest that needs no more than `count` intervals.
    :param whole: the values are counts, so no step below 1 (0, 1 for a maximum of 1, not 0, 0.5, 1).
    """
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    if whole:
        step = max(step, 1)
    intervals = math.ceil(maximum / step - 1e-9)
    ticks = [round(i * step, 10) for i in range(intervals + 1)]
    return [int(tick) if float(tick).is_integer() else tick for tick in ticks]


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """About how wide a text is drawn: a Chinese character takes a full em, a digit or Latin letter ~0.6 em."""
    return sum(size if unicodedata.east_asian_width(char) in "WF" else size * 0.6 for char in text)


def _num(value: float) -> str:
    """A coordinate in the SVG: at most one decimal, no trailing zeros."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _fit(text: str, width: float) -> str:
    """The text cut with an ellipsis to fit `width` (a long series name in the legend; the table has it whole)."""
    if text_width(text) <= width:
        return text
    while text and text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True)
class Chart:
    """One chart's data and how to draw it; see the module's docstring. Frozen: drawing it twice gives the same.

    :param kind: "line" or "bar".
    :param chart_id: prefixes the ids of the <title>, <desc> and patterns; a page with several charts needs
        each to differ (the default is random).
    """
    kind: str
    series: Sequence[Series]
    title: str
    x_labels: Sequence[str]
    y_format: Callable[[float], str] = plain_number
    height: int = DEFAULT_HEIGHT
    chart_id: str = field(default_factory=lambda: f"chart-{uuid.uuid4().hex[:8]}")

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown chart kind {self.kind!r}")
        if not re.fullmatch(r"[A-Za-z][\w-]*", self.chart_id):
            raise ValueError(f"chart_id must be a plain HTML id, not {self.chart_id!r}")
        series = tuple((str(name), tuple(values)) for name, values in self.series)
        for name, values in series:
            if len(values) != len(self.x_labels):
                raise ValueError(f"series {name!r} has {len(values)} values for {len(self.x_labels)} x labels")
            if any(value is not None and value < 0 for value in values):
                raise ValueError(f"series {name!r} has a negative value; charts start at 0")
        object.__setattr__(self, "series", series)
        object.__setattr__(self, "x_labels", tuple(str(label) for label in self.x_labels))
        object.__setattr__(self, "title", str(self.title))

    # The data ---------------------------------------------------------------------------------------------------

    @property
    def values(self) -> list[float]:
        """Every value that is there, of all series."""
        return [value for _name, values in self.series for value in values if value is not None]

    @property
    def has_data(self) -> bool:
        """False for a period with no values or only zeros, which is drawn as "No data for this period"."""
        return any(self.values)

    @property
    def ticks(self) -> list[float]:
        values = self.values
        return nice_ticks(max(values, default=0), whole=all(float(value).is_integer() for value in values))

    def formatted(self, value: float | None, missing: str) -> str:
        return missing if value is None else self.y_format(value)

    def description(self) -> str:
        """The data in words for screen readers: "Leads per day, 1 Dec to 7 Dec. Leads: 3, 5, no data, 0."."""
        # (gettext outside the f-strings: pybabel does not find calls inside them)
        if not self.has_data:
            return f"{self.title}. " + _("No data for this period")
        if len(self.x_labels) > 1:
            period = _("%(first)s to %(last)s", first=self.x_labels[0], last=self.x_labels[-1])
        else:
            period = self.x_labels[0]
        missing = _("no data")
        parts = [f"{self.title}, {period}."]
        for name, values in self.series:
            parts.append(f"{name}: {', '.join(self.formatted(value, missing) for value in values)}.")
        return " ".join(parts)

    def table_rows(self) -> list[tuple[str, list[str]]]:
        """One row per x label: (label, the series' values as text, "—" where there is none)."""
        return [(label, [self.formatted(values[i], NO_DATA) for _name, values in self.series])
                for i, label in enumerate(self.x_labels)]

    # The drawing ------------------------------------------------------------------------------------------------

    def svg(self) -> Markup:
        """The chart as an inline <svg>; every text in it is escaped."""
        title_id, desc_id = f"{self.chart_id}-title", f"{self.chart_id}-desc"
        height = self.height if self.has_data else min(self.height, EMPTY_HEIGHT)
        parts = [
            Markup('<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg chart-{}" viewBox="0 0 {} {}" '
                   'width="100%" role="img" aria-labelledby="{} {}" font-size="{}">').format(
                self.kind, VIEW_WIDTH, height, title_id, desc_id, FONT_SIZE),
            Markup('<title id="{}">{}</title><desc id="{}">{}</desc>').format(
                title_id, self.title, desc_id, self.description()),
        ]
        parts += self._plot() if self.has_data else [self._no_data()]
        parts.append(Markup("</svg>"))
        return Markup("").join(parts)

    def _no_data(self) -> Markup:
        return Markup('<text class="chart-empty" x="{}" y="{}" text-anchor="middle" fill="#5f6670">{}</text>').format(
            _num(VIEW_WIDTH / 2), _num(min(self.height, EMPTY_HEIGHT) / 2 + FONT_SIZE * 0.35),
            _("No data for this period"))

    def _legend_rows(self) -> list[list[tuple[float, int, str]]]:
        """The legend (only with two series or more), as rows of (x, series index, name as shown)."""
        if len(self.series) < 2:
            return []
        rows, x, right = [[]], PAD, VIEW_WIDTH - PAD
        for index, (name, _values) in enumerate(self.series):
            shown = _fit(name, right - PAD - LEGEND_SAMPLE - 4)
            width = LEGEND_SAMPLE + 4 + text_width(shown)
            if rows[-1] and x + width > right:
                rows.append([])
                x = PAD
            rows[-1].append((x, index, shown))
            x += width + 14
        return rows

    def layout(self) -> "Layout":
        """Where the plot sits in the viewBox, from the legend above, the tick labels left and the x labels below."""
        legend = self._legend_rows()
        ticks = self.ticks
        left = math.ceil(max(text_width(self.y_format(tick)) for tick in ticks) + 8)
        top = PAD + len(legend) * LEGEND_ROW
        return Layout(left=left, top=top, width=VIEW_WIDTH - left - PAD, height=self.height - top - X_LABEL_SPACE,
                      points=len(self.x_labels), top_value=ticks[-1])

    def _plot(self) -> list[Markup]:
        layout = self.layout()
        parts = [self._defs()] if self.kind == "bar" and len(self.series) > 2 else []
        parts += self._legend(layout) + self._y_axis(layout) + self._x_labels(layout)
        for index, (name, values) in enumerate(self.series):
            style = STYLES[index % len(STYLES)]
            draw = self._line if self.kind == "line" else self._bars
            parts.append(Markup('<g class="chart-series chart-series-{}">').format(index))
            parts += draw(layout, index, values, style)
            parts.append(Markup("</g>"))
        return parts

    def _defs(self) -> Markup:
        """Hatching for the third style of bars (an SVG pattern; its id is the chart's own)."""
        patterns = [
            Markup('<pattern id="{}-hatch-{}" width="5" height="5" patternUnits="userSpaceOnUse" '
                   'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="5" stroke="{}" '
                   'stroke-width="2"/></pattern>').format(self.chart_id, index, style.colour)
            for index, style in ((i, STYLES[i % len(STYLES)]) for i in range(len(self.series)))
            if style.fill == "hatch"
        ]
        return Markup("<defs>{}</defs>").format(Markup("").join(patterns))

    def _legend(self, layout: "Layout") -> list[Markup]:
        parts = []
        for row_number, row in enumerate(self._legend_rows()):
            middle = PAD + row_number * LEGEND_ROW + LEGEND_ROW / 2 - 2
            for x, index, shown in row:
                style = STYLES[index % len(STYLES)]
                parts.append(Markup('<g class="chart-legend">'))
                if self.kind == "line":
                    parts.append(self._line_sample(x, middle, style))
                    parts.append(self._marker(x + LEGEND_SAMPLE / 2, middle, style))
                else:
                    parts.append(self._bar(x + 4, middle - 6, LEGEND_SAMPLE - 8, 12, index, style))
                parts.append(Markup('<text x="{}" y="{}">{}</text></g>').format(
                    _num(x + LEGEND_SAMPLE + 4), _num(middle + FONT_SIZE * 0.35), shown))
        return parts

    def _y_axis(self, layout: "Layout") -> list[Markup]:
        parts = []
        for tick in self.ticks:
            y = _num(layout.y(tick))
            parts.append(Markup('<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" '
                                'stroke-width="1"/>').format(
                layout.left, _num(layout.left + layout.width), y, y, "#9aa1a9" if tick == 0 else "#dde1e6"))
            parts.append(Markup('<text class="chart-tick" x="{}" y="{}" text-anchor="end">{}</text>').format(
                layout.left - 6, _num(layout.y(tick) + FONT_SIZE * 0.35), self.y_format(tick)))
        return parts

    def _x_labels(self, layout: "Layout") -> list[Markup]:
        """Every step-th x label, the step chosen so that the widest label fits with a gap."""
        widest = max((text_width(label) for label in self.x_labels), default=0)
        step = max(1, math.ceil((widest + 6) / layout.slot))
        return [Markup('<text class="chart-x" x="{}" y="{}" text-anchor="middle">{}</text>').format(
                    _num(layout.x(i)), self.height - 6, label)
                for i, label in enumerate(self.x_labels) if i % step == 0]

    def _line(self, layout: "Layout", index: int, values: Values, style: SeriesStyle) -> list[Markup]:
        """A path broken where a value is missing, and a marker on every point (so a lone point shows too)."""
        commands, pen_down = [], False
        for i, value in enumerate(values):
            if value is None:
                pen_down = False
                continue
            commands.append(f"{'L' if pen_down else 'M'}{_num(layout.x(i))} {_num(layout.y(value))}")
            pen_down = True
        dash = Markup(' stroke-dasharray="{}"').format(style.dash) if style.dash else ""
        parts = [Markup('<path class="chart-line" d="{}" fill="none" stroke="{}" stroke-width="2.5" '
                        'stroke-linejoin="round" stroke-linecap="round"{}/>').format(
            " ".join(commands), style.colour, dash)]
        parts += [self._marker(layout.x(i), layout.y(value), style)
                  for i, value in enumerate(values) if value is not None]
        return parts

    def _line_sample(self, x: float, y: float, style: SeriesStyle) -> Markup:
        dash = Markup(' stroke-dasharray="{}"').format(style.dash) if style.dash else ""
        return Markup('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2.5"{}/>').format(
            _num(x), _num(x + LEGEND_SAMPLE), _num(y), _num(y), style.colour, dash)

    @staticmethod
    def _marker(x: float, y: float, style: SeriesStyle) -> Markup:
        if style.marker == "square":
            return Markup('<rect class="chart-marker" x="{}" y="{}" width="7" height="7" fill="{}"/>').format(
                _num(x - 3.5), _num(y - 3.5), style.colour)
        if style.marker == "triangle":
            return Markup('<polygon class="chart-marker" points="{},{} {},{} {},{}" fill="{}"/>').format(
                _num(x), _num(y - 4.5), _num(x + 4), _num(y + 3), _num(x - 4), _num(y + 3), style.colour)
        return Markup('<circle class="chart-marker" cx="{}" cy="{}" r="3.5" fill="{}"/>').format(
            _num(x), _num(y), style.colour)

    def _bars(self, layout: "Layout", index: int, values: Values, style: SeriesStyle) -> list[Markup]:
        """Grouped bars: the series side by side within 70% of each x slot; none for a missing or zero value."""
        group = layout.slot * 0.7
        width = group / len(self.series)
        parts = []
        for i, value in enumerate(values):
            if not value:
                continue
            x = layout.x(i) - group / 2 + index * width
            parts.append(self._bar(x, layout.y(value), width, layout.y(0) - layout.y(value), index, style))
        return parts

    def _bar(self, x: float, y: float, width: float, height: float, index: int, style: SeriesStyle) -> Markup:
        """One bar: solid, or outlined (white inside), or hatched; outlines are drawn inside the bar's box."""
        if style.fill == "solid":
            return Markup('<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" fill="{}"/>').format(
                _num(x), _num(y), _num(width), _num(height), style.colour)
        fill = "#fff" if style.fill == "outline" else f"url(#{self.chart_id}-hatch-{index})"
        return Markup('<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}" '
                      'stroke-width="1.5"/>').format(
            _num(x + 0.75), _num(y + 0.75), _num(max(width - 1.5, 0)), _num(max(height - 1.5, 0)), fill,
            style.colour)


@dataclass(frozen=True)
class Layout:
    """The plot's box in viewBox units, and where a point goes: x at the middle of its slot, y from 0 upwards."""
    left: float
    top: float
    width: float
    height: float
    points: int
    top_value: float

    @property
    def slot(self) -> float:
        return self.width / max(self.points, 1)

    def x(self, index: int) -> float:
        return self.left + self.slot * (index + 0.5)

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - value / self.top_value)


def chart(kind: str, series: Sequence[Series], *, title: str, x_labels: Sequence[str],
          y_format: Callable[[float], str] | None = None, height: int | None = None,
          chart_id: str | None = None) -> Chart:
    """A Chart, with None meaning the default for the options (what templates/macros/charts.html passes on)."""
    options = {"y_format": y_format, "height": height, "chart_id": chart_id}
    return Chart(kind, series, title, x_labels, **{key: value for key, value in options.items() if value is not None})


def line_chart(series: Sequence[Series], *, title: str, x_labels: Sequence[str],
               y_format: Callable[[float], str] = plain_number, height: int = DEFAULT_HEIGHT,
               chart_id: str | None = None) -> Markup:
    """A line chart as inline SVG: one line per series, broken where a value is None."""
    return chart("line", series, title=title, x_labels=x_labels, y_format=y_format, height=height,
                 chart_id=chart_id).svg()


def bar_chart(series: Sequence[Series], *, title: str, x_labels: Sequence[str],
              y_format: Callable[[float], str] = plain_number, height: int = DEFAULT_HEIGHT,
              chart_id: str | None = None) -> Markup:
    """A bar chart as inline SVG: the series' bars side by side for each x label."""
    return chart("bar", series, title=title, x_labels=x_labels, y_format=y_format, height=height,
                 chart_id=chart_id).svg()
