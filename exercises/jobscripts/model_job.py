"""Apply a participant's saved Keras model to one array, inside the sandbox, and save what it gives back.

Runs as untrusted work: it sees the model and one input array (read-only mounts) and writes one
.npy file into output/. Errors go to stderr as sentences; the exit status says whether it worked.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402  (the environment must be set before Keras is imported)


def apply_model(model_path: str, input_path: str, output_path: str, what: str) -> int:
    """Load the model in safe mode, apply it to the input array, save the result; return the exit status."""
    import keras

    try:
        # safe_mode refuses Lambda layers and other deserialized Python code
        model = keras.models.load_model(model_path, safe_mode=True, compile=False)
    except Exception as error:  # any failure to load is the participant's file, not ours
        print(
            f"Your {what} could not be loaded safely ({type(error).__name__}: {str(error)[:300]}). "
            f"Save it with model.save('output/{os.path.basename(model_path)}') and use only built-in "
            "Keras layers (no Lambda or custom layers).",
            file=sys.stderr,
        )
        return 1
    inputs = np.load(input_path, allow_pickle=False)
    try:
        outputs = model.predict(inputs, batch_size=1024, verbose=0)
    except Exception as error:
        print(
            f"Your {what} failed on an input of shape {inputs.shape} "
            f"({type(error).__name__}: {str(error)[:300]}); check its input shape.",
            file=sys.stderr,
        )
        return 1
    if isinstance(outputs, list | tuple | dict):
        print(f"Your {what} must have exactly one output.", file=sys.stderr)
        return 1
    np.save(output_path, np.asarray(outputs, dtype=np.float32))
    return 0
