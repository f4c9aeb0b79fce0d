"""The masks kind: output/masks.npy with one segmentation mask per test image, ranked by Dice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from exercises.kinds import figures
from exercises.kinds.base import Answers, OutputKind, Picture, Scores, ScoringJobs
from exercises.metrics import dice_per_image
from exercises.outputs import read_masks_npy


class MasksNpy(OutputKind):
    """Masks of probabilities or 0/1, (images, height, width), in the order of data/test_images.npy."""

    name = "masks_npy"
    metrics = ("dice",)
    answer_arrays = ("masks",)

    def read(self, output_dir: Path, answers: Answers, jobs: ScoringJobs) -> np.ndarray:
        """Return output/masks.npy as float masks shaped like the answers' masks."""
        truth = answers["masks"]
        return read_masks_npy(output_dir, truth.shape[1:], truth.shape[0])

    def metric_arguments(self, answers: Answers, predictions: np.ndarray, rows: np.ndarray) -> tuple[Any, ...]:
        """Return (true masks, predicted masks) of the images in `rows`."""
        return answers["masks"][rows], predictions[rows]

    def score(self, answers: Answers, predictions: np.ndarray, *, metric: str, labels_known: bool) -> Scores:
        """Score each part with `metric`; figures: the public part's Dice histogram, overlays if labels are known."""
        truth, public = answers["masks"], answers["public"]
        per_image = dice_per_image(truth, predictions)
        counts, edges = np.histogram(per_image[public], bins=10, range=(0.0, 1.0))
        figure_data: dict[str, Any] = {"dice_histogram": {"edges": edges.tolist(), "counts": counts.tolist()}}
        if labels_known:
            # Worst, median and best images, with their true outline: only on answers the participant has, since
            # on hidden ones a participant could make any chosen image the "worst" and see its label.
            public_indices = np.flatnonzero(public)
            order = public_indices[np.argsort(per_image[public_indices], kind="stable")]
            picks = sorted({int(order[0]), int(order[len(order) // 2]), int(order[-1])})
            figure_data["overlays"] = [{"index": i, "dice": float(per_image[i])} for i in picks]
        public_score, private_score = self.score_parts(answers, predictions, metric)
        return Scores(public=public_score, private=private_score, secondary={}, figures=figure_data)

    def draw(
        self, scores: Scores, *, figures_dir: Path, output_dir: Path, data_dir: Path, answers_path: Path
    ) -> Iterator[Picture]:
        """Draw the Dice histogram and, where the figure data name them, overlays on data/test_images.npy."""
        if "dice_histogram" in scores.figures:
            figures.histogram(
                scores.figures["dice_histogram"], "Dice per image, public part", "Dice", figures_dir / "dice.png"
            )
            yield {"file": "dice.png", "title": "Dice per image on the public part"}
        overlays = scores.figures.get("overlays", [])
        images_file = Path(data_dir) / "test_images.npy"
        if overlays and images_file.is_file():
            truth = self.load_answers(answers_path)["masks"]
            test_images = np.load(images_file, allow_pickle=False, mmap_mode="r")
            predicted = read_masks_npy(output_dir, truth.shape[1:], truth.shape[0])
            for item in overlays:
                name = f"overlay-{item['index']}.png"
                i = item["index"]
                figures.mask_overlay(test_images[i], truth[i], predicted[i], item["dice"], figures_dir / name)
                yield {"file": name, "title": f"Image {i}: Dice {item['dice']:.3f}"}
