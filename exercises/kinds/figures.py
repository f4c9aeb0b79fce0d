"""Draw the feedback pictures the output kinds share: ROC curve, histograms, mask overlays (PNG, matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def _new_figure(width: float, height: float) -> tuple[Any, Any]:
    """Return a figure and its axes, without pyplot: no global state, and matplotlib loads only when drawing."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def _save(figure: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
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
