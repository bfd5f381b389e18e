"""Which torch device to run a model on: ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) or ``"auto"``.

Checked once, at the edge (``Classifier``, the analyses, ``mda-glassml
classify --device``), so that asking for a GPU that is not there fails at
once with what to do, not deep inside the first forward pass.

>>> from mda_glassml.models.device import torch_device
>>> torch_device("cpu")
device(type='cpu')
>>> torch_device("auto").type in ("cpu", "cuda")
True
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import InputError

__all__ = ["DEVICES", "torch_device"]

#: The device names accepted (plus ``"cuda:N"`` for the N-th GPU).
DEVICES = ("cpu", "cuda", "auto")


def torch_device(device: Any = "cpu") -> torch.device:
    """``device`` as a :class:`torch.device`; ``"auto"`` is the GPU when there is one, else the CPU.

    Raises
    ------
    InputError
        For an unknown name, or when CUDA is asked for and torch finds no
        CUDA GPU (none in the machine, or a CPU-only torch build).
    """
    if isinstance(device, torch.device):
        name = str(device)
    elif isinstance(device, str):
        name = device.strip().lower()
    else:
        raise InputError(f"device must be one of {DEVICES} (or 'cuda:N'), got {device!r}.")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or (name.startswith("cuda:") and name[5:].isdigit()):
        if not torch.cuda.is_available():
            raise InputError(
                f"device {device!r} asked for a CUDA GPU, but torch finds none (no GPU here, or a CPU-only "
                f"torch build: torch {torch.__version__}); use device='cpu', or 'auto' to take a GPU only "
                "when there is one."
            )
        index = int(name[5:]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise InputError(f"device {device!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s).")
        return torch.device(name)
    raise InputError(f"unknown device {device!r}; choose one of {DEVICES} (or 'cuda:N').")
