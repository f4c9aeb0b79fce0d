"""Sandbox job: decode codes/latent.npy with model/decoder.keras into output/reconstructed.npy."""

import sys

from model_job import apply_model

if __name__ == "__main__":
    sys.exit(apply_model("model/decoder.keras", "codes/latent.npy", "output/reconstructed.npy", "decoder"))
