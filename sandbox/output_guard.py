"""Run inside the participant's kernel: end it once it has printed more than the job's log can hold.

ipykernel buffers whatever `print` writes and sends it on a background thread, so a tight loop of large
writes grows the kernel's memory faster than the runner can count the text and stop it; the job would end
as `memory` when it is really an `output` flood. Counting where the text is written stops it at the source.

The runner sends this file's source to the kernel as hidden setup code (the kernel cannot import the
`sandbox` package) and then calls `install_output_guard`. Calling it again, as the warm pool does when its
job arrives, sets the new limit and starts counting from zero. Once the count passes the limit, the kernel
passes on what still fits, flushes, and exits with `FLOOD_EXIT_CODE`, which the runner reports as `output`.
The participant could defeat the guard (it runs as their code does); that only turns their own flood back
into a `memory` outcome, which the host's cgroup still enforces.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

FLOOD_EXIT_CODE = 213  # unusual on purpose: the runner reads a kernel ending with it as an output flood
FLUSH_GRACE_S = 0.3
STATE = "_sandbox_output_guard"  # where the count lives in the kernel, shared by stdout and stderr


def install_output_guard(limit: int, exit_code: int = FLOOD_EXIT_CODE) -> None:
    """Count what the kernel writes to stdout and stderr, and exit with `exit_code` past `limit` bytes."""
    state: dict[str, int] | None = getattr(sys, STATE, None)
    if state is None:
        state = {}
        setattr(sys, STATE, state)
    state.update(limit=limit, written=0, exit_code=exit_code)
    for stream in (sys.stdout, sys.stderr):
        cls = type(stream)
        if not isinstance(cls.__dict__.get("write"), CountingWrite):
            try:
                cls.write = CountingWrite(cls.write)  # type: ignore[method-assign]
            except TypeError:
                continue  # a built-in stream type (a plain interpreter): the runner's own count catches floods
        inner = vars(stream).pop("write", None) if hasattr(stream, "__dict__") else None
        if inner is not None:
            stream.write = inner  # type: ignore[method-assign]  # now kept by the descriptor, beneath the count


class CountingWrite:
    """A stream class's `write` that counts bytes first, whatever `write` an instance is given later.

    IPython replaces each stream's `write` around every cell (to keep a copy of the output in its history)
    and puts the old one back afterwards, which would undo a plain patch made during a setup cell. As a
    data descriptor on the class, this sees those assignments and keeps them beneath the count instead.
    """

    def __init__(self, method: Any) -> None:
        self.method = method

    def __get__(self, stream: Any, owner: type | None = None) -> Any:
        if stream is None:
            return self
        inner = vars(stream).get(INNER) or self.method.__get__(stream, owner)

        def write(text: Any) -> Any:
            return counted_write(stream, inner, text)

        return write

    def __set__(self, stream: Any, value: Any) -> None:
        vars(stream)[INNER] = value

    def __delete__(self, stream: Any) -> None:
        vars(stream).pop(INNER, None)


INNER = "_sandbox_inner_write"
WRITING = threading.local()  # set while a write is being counted: IPython's tee calls our own write inside it


def counted_write(stream: Any, inner: Any, text: Any) -> Any:
    """Count `text`, then pass it on; past the limit pass on what fits, flush and end the kernel."""
    state: dict[str, int] | None = getattr(sys, STATE, None)
    if state is None or getattr(WRITING, "active", False):
        return inner(text)
    WRITING.active = True
    try:
        return count_then_write(stream, inner, text, state)
    finally:
        WRITING.active = False


def count_then_write(stream: Any, inner: Any, text: Any, state: dict[str, int]) -> Any:
    """Pass `text` on while under the limit; past it, pass on what fits and end the kernel."""
    size = len(text.encode("utf-8", "replace")) if isinstance(text, str) else len(text)
    before = state["written"]
    state["written"] = before + size
    if state["written"] <= state["limit"]:
        return inner(text)
    room = max(0, state["limit"] - before)
    try:
        head = text[:room]
        # Straight to the runner's pipe when ipykernel kept it: the zmq copy would die with the kernel unsent.
        fd = getattr(stream, "_original_stdstream_copy", None)
        if head and isinstance(fd, int):
            os.write(fd, head.encode("utf-8", "replace") if isinstance(head, str) else head)
        elif head:
            inner(head)
            stream.flush()
            time.sleep(FLUSH_GRACE_S)  # flush() only queues the text on a zmq socket; let it leave first
    finally:
        os._exit(state["exit_code"])
