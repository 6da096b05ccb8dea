"""Where TensorFlow trains in this process: the first GPU it sees, else the CPU."""
from __future__ import annotations

import functools
import os
import socket


@functools.cache
def device_name() -> str:
    """ "GPU: NVIDIA H200 on node-1" or "CPU (2 cores) on node-1" (asked once per process)."""
    import tensorflow as tf

    host = socket.gethostname()
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        try:
            name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "")
        except Exception:  # noqa: BLE001 - details are optional; the GPU is still used
            name = ""
        more = f" (+{len(gpus) - 1} more)" if len(gpus) > 1 else ""
        return f"GPU: {name or gpus[0].name}{more} on {host}"
    return f"CPU ({os.cpu_count()} cores) on {host}"


def share_gpus() -> None:
    """Let several trainings share a GPU: memory grows as needed instead of all at once.
    Must run before TensorFlow touches the GPU; harmless without one."""
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: keep what it has
            pass
