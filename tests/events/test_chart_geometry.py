"""The one charts helper places every SVG chart's marks: scales, step lines, columns and horizontal bars."""

from __future__ import annotations

from hackathon import charts


def test_a_scale_maps_its_range_onto_positions_and_a_flipped_axis_puts_the_low_values_at_the_bottom() -> None:
    x = charts.Scale(0, 10, 48, 620)
    assert (x(0), x(5), x(10)) == (48, 334, 620)
    y = charts.Scale(0.5, 1.0, 200, 12)
    assert (y(0.5), y(1.0)) == (200, 12)
    assert y.ticks(3) == ((200, 0.5), (106, 0.75), (12, 1.0))


def test_a_scale_over_a_single_value_puts_it_in_the_middle() -> None:
    assert charts.Scale(3, 3, 4, 156)(3) == 80


def test_a_step_line_holds_each_value_until_the_next_and_the_last_until_the_end() -> None:
    corners = charts.steps([(0, 10), (5, 4)], until=9)
    assert corners == [(0, 10), (5, 10), (5, 4), (9, 4)]
    assert charts.polyline(corners) == "0,10 5,10 5,4 9,4"
    assert charts.steps([], until=9) == []


def test_columns_stand_on_the_bottom_and_the_largest_is_the_tallest() -> None:
    cols = charts.columns([0, 2, 4], left=4, pitch=26, bottom=130, tallest=120)
    assert [(c.x, c.y, c.height) for c in cols] == [(4, 130, 0), (30, 70, 60), (56, 10, 120)]
    assert [c.height for c in charts.columns([0, 0])] == [0, 0]


def test_horizontal_bars_take_a_row_each_and_the_largest_count_the_full_length() -> None:
    chart = charts.bar_chart("Registrations", [("confirmed", 30), ("waiting", 10), ("cancelled", 0)])
    assert [(b.y, b.length) for b in chart.bars] == [(0, 360), (24, 120), (48, 0)]
    assert chart.height == 3 * 24 + 8
    assert charts.bar_chart("Nothing", []).bars == ()
