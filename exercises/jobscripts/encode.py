"""Sandbox job: encode events/events.npy with model/encoder.keras into output/latent.npy."""

import sys

from model_job import apply_model

if __name__ == "__main__":
    sys.exit(apply_model("model/encoder.keras", "events/events.npy", "output/latent.npy", "encoder"))
