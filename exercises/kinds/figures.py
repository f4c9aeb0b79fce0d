"""Draw the output kinds' feedback pictures: ROC and rejection curves, histograms, overlays, confusion (PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _new_figure(width: float, height: float) -> tuple[Any, Any]:
    """Return a figure and its axes, without pyplot: no global state, and matplotlib loads only when drawing."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def _save(figure: Any, path: Path, rect: tuple[float, float, float, float] = (0, 0, 1, 1)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout(rect=rect)
    figure.savefig(path, format="png", dpi=90)


def roc_curve(points: dict[str, list[float]], auc: float, path: Path) -> None:
    """Draw ROC `points` (false and true positive rates, from metrics.roc_points) labelled with `auc` to `path`."""
    figure, ax = _new_figure(4.2, 4)
    ax.plot(points["fpr"], points["tpr"], lw=2, label=f"your model (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="chance (AUC 0.5)")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve, public part", xlim=(0, 1))
    ax.legend(loc="lower right")
    _save(figure, path)


def histogram(figure_data: dict[str, Any], title: str, xlabel: str, path: Path) -> None:
    """Draw one stairs series per key of `figure_data` over its `edges` (the x label is its `axis`, if any)."""
    edges = np.asarray(figure_data["edges"])
    figure, ax = _new_figure(5, 3.4)
    series = [key for key in figure_data if key not in ("edges", "axis")]
    for name in series:
        ax.stairs(figure_data[name], edges, label=name, fill=len(series) == 1, alpha=0.7)
    ax.set(title=title, xlabel=figure_data.get("axis", xlabel), ylabel="count")
    if len(series) > 1:
        ax.legend()
    _save(figure, path)


def mask_overlay(image: np.ndarray, truth: np.ndarray, predicted: np.ndarray, dice: float, path: Path) -> None:
    """Draw an (height, width) image with the outlines of its true and predicted masks, cut at 0.5."""
    figure, ax = _new_figure(3.2, 3.4)
    ax.imshow(image, cmap="gray")
    ax.contour(truth.astype(float), levels=[0.5], colors=["#2e7d32"], linewidths=1.5)
    ax.contour(predicted.astype(float), levels=[0.5], colors=["#c62828"], linewidths=1.2, linestyles="--")
    ax.set_title(f"Dice {dice:.3f} (green: truth, red: yours)", fontsize=9)
    ax.axis("off")
    _save(figure, path)


def rejection_curves(data: dict[str, Any], rejection: float, c_rejection: float | None, path: Path) -> None:
    """Draw light- and c-jet rejection against b-jet efficiency, log scale, the working point's values marked."""
    figure, ax = _new_figure(5, 4)
    light, charm = data["light"], data["c"]
    point = float(data["working_point"])
    ax.step(light["efficiency"], light["rejection"], where="post", lw=2, label="light jets (u, d, s, g)")
    ax.step(charm["efficiency"], charm["rejection"], where="post", lw=1.5, color="#e65100", label="c-jets")
    ax.axvline(point, ls=":", color="grey")
    ax.plot([point], [rejection], "o", color="#1565c0", label=f"light-jet rejection at {point:.0%}: {rejection:.1f}")
    if c_rejection is not None:
        ax.plot(
            [point], [c_rejection], "o", color="#e65100", label=f"c-jet rejection at {point:.0%}: {c_rejection:.1f}"
        )
    ax.plot([0, 1], [1, 1], ls="--", color="grey", lw=1)
    ax.set_yscale("log")
    ax.set(
        xlabel="b-jet efficiency",
        ylabel="background rejection (1 / efficiency)",
        title="Rejection, public part",
        xlim=(0, 1),
    )
    ax.set_ylim(bottom=0.8)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    _save(figure, path)


def confusion_matrix(data: dict[str, Any], path: Path) -> None:
    """Draw the confusion matrix as row fractions with counts; withheld columns are grey and say why."""
    classes = data["classes"]
    size = len(classes)
    counts = data["counts"]
    withheld = [c for c in range(size) if any(row[c] is None for row in counts)]
    true_totals = np.maximum(np.asarray(data["true_totals"], dtype=float), 1)
    fractions = np.array([[np.nan if v is None else v for v in row] for row in counts], dtype=float)
    fractions /= true_totals[:, None]
    from matplotlib import colormaps

    figure, ax = _new_figure(max(5.0, 1.4 + 0.75 * size), max(4.6, 1.6 + 0.7 * size))
    blues = colormaps["Blues"].with_extremes(bad="#dddddd")  # withheld cells: grey
    ax.imshow(np.ma.masked_invalid(fractions), cmap=blues, vmin=0, vmax=1)
    for r in range(size):
        for c in range(size):
            if counts[r][c] is not None:
                colour = "white" if fractions[r, c] > 0.6 else "black"
                ax.text(c, r, str(counts[r][c]), ha="center", va="center", fontsize=8, color=colour)
    labels = [name.replace("_", " ") for name in classes]
    column_labels = [
        f"{label}\n({data['predicted_totals'][c]} predicted)" if c in withheld else label
        for c, label in enumerate(labels)
    ]
    ax.set_xticks(range(size), column_labels, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(size), labels, fontsize=8)
    ax.set(xlabel="predicted class (most probable)", ylabel="true class", title="Confusion matrix, public part")
    if withheld:
        figure.text(
            0.5,
            0.01,
            f"Grey columns: fewer than {data['min_cases']} cases predicted as that class; their counts are withheld.",
            ha="center",
            va="bottom",
            fontsize=7,
            wrap=True,
        )
    _save(figure, path, rect=(0, 0.05, 1, 1) if withheld else (0, 0, 1, 1))
