"""The paper's image classifier (a small CNN) and a compact variant we ship.

Input: RGB images of configurations (:class:`~mda_glassml.models.render.Renderer`),
as uint8 tensors (n, 3, H, W); the network scales them to [0, 1] and
normalises each channel with a mean and standard deviation measured on the
training images (:meth:`CNN.set_normalization`; saved with the weights), which
the original code did not do.

``"paper"`` (appendix B)
    conv 10 × 10, 6 kernels → ReLU → conv 5 × 5, 16 kernels → ReLU (valid
    padding, stride 1, no pooling) → dense 80 → ReLU → dropout → 2 outputs.
    On 250 × 250 images the dense layer alone has 237 · 237 · 16 · 80 ≈ 72
    million weights.
``"compact"`` (the one we ship)
    the same two convolutions, each followed by 2 × 2 max pooling, a third
    convolution (3 × 3, 32) with pooling, global average pooling to 4 × 4,
    dense 64 → ReLU → dropout → 2 outputs: about 0.1 million weights.

The two outputs are the paper's class scores (liquid, glass); ``forward``
returns their difference, the logit of P(glass), so that binary
cross-entropy on it is exactly the paper's softmax cross-entropy. The L2
penalty of the paper's loss (0.01 · ½ Σ ||W||² over weights) is
:meth:`CNN.regularization`, which the training loop adds.

Examples
--------
>>> import torch
>>> from mda_glassml.models.cnn import CNN
>>> net = CNN(variant="compact", image_size=64).eval()
>>> net(torch.zeros(2, 3, 64, 64, dtype=torch.uint8)).shape
torch.Size([2])
>>> CNN(variant="paper", image_size=250).n_parameters() > 70_000_000
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from . import weight_l2
from .compiled import CompiledSteps

__all__ = ["CNN", "CNNConfig", "VARIANTS", "first_layer_feature_maps", "feature_maps_figure"]

VARIANTS = ("paper", "compact")


@dataclass(frozen=True)
class CNNConfig:
    variant: str = "compact"
    image_size: int = 250
    dropout: float = 0.5
    l2: float = 0.01
    #: the compact CNN's channels and hidden units times this (1: 6/16/32 maps and 64 units)
    width: int = 1

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise InputError(f"unknown CNN variant {self.variant!r}; choose one of {VARIANTS}.")
        smallest = 14 if self.variant == "paper" else 32
        if int(self.image_size) != self.image_size or self.image_size < smallest:
            raise InputError(f"image_size must be an integer >= {smallest} for the {self.variant} CNN, "
                             f"got {self.image_size!r}.")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"dropout must lie in [0, 1), got {self.dropout!r}.")
        if self.l2 < 0:
            raise InputError(f"l2 must be >= 0, got {self.l2!r}.")
        if (isinstance(self.width, bool) or not isinstance(self.width, (int, float, np.integer, np.floating))
                or not np.isfinite(self.width) or int(self.width) != self.width or self.width < 1
                or (self.width != 1 and self.variant != "compact")):
            raise InputError(f"width must be a positive integer, and 1 for the paper CNN; got {self.width!r} "
                             f"for the {self.variant} CNN.")
        object.__setattr__(self, "width", int(self.width))  # 2.0 and 2 are one architecture

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["width"] == 1:  # the width every earlier bundle and checkpoint had, unrecorded
            del d["width"]
        return d


class CNN(CompiledSteps, nn.Module):
    """Image classifier; ``forward(images)`` gives the logit of P(glass) per image.

    Parameters
    ----------
    **kwargs
        ``variant`` ("compact" or "paper"), ``image_size``, ``dropout``, ``l2``:
        see :class:`CNNConfig`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.config = cfg = CNNConfig(**kwargs)
        if cfg.variant == "paper":
            side = cfg.image_size - 9 - 4
            self.features = nn.Sequential(nn.Conv2d(3, 6, 10), nn.ReLU(), nn.Conv2d(6, 16, 5), nn.ReLU(),
                                          nn.Flatten())
            self.head = nn.Sequential(nn.Linear(16 * side * side, 80), nn.ReLU(), nn.Dropout(cfg.dropout),
                                      nn.Linear(80, 2))
        else:
            a, b, c, h = (n * int(cfg.width) for n in (6, 16, 32, 64))
            self.features = nn.Sequential(
                nn.Conv2d(3, a, 10), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(a, b, 5), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(b, c, 3), nn.ReLU(), nn.MaxPool2d(2),
                nn.AdaptiveAvgPool2d(4), nn.Flatten(),
            )
            self.head = nn.Sequential(nn.Linear(c * 16, h), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(h, 2))
        self.register_buffer("mean", torch.full((1, 3, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, 3, 1, 1), 0.5))

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @torch.no_grad()
    def set_normalization(self, images: torch.Tensor | np.ndarray) -> None:
        """Per-channel mean and standard deviation from training images (n, 3, H, W) uint8."""
        x = torch.as_tensor(np.asarray(images)).float() / 255.0
        self.mean.copy_(x.mean(dim=(0, 2, 3)).reshape(1, 3, 1, 1))
        self.std.copy_(x.std(dim=(0, 2, 3)).clamp_min(1e-3).reshape(1, 3, 1, 1))

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        size = self.config.image_size
        if images.dim() != 4 or images.shape[1] != 3 or images.shape[2:] != (size, size):
            raise InputError(f"this CNN takes RGB images of {size} x {size} (n, 3, {size}, {size}), "
                             f"got shape {tuple(images.shape)}; render with Renderer(size={size}).")
        return (images.float() / 255.0 - self.mean) / self.std

    def scores(self, images: torch.Tensor) -> torch.Tensor:
        """The two class scores (liquid, glass) per image."""
        return self.head(self.features(self.normalize(images)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        s = self.scores(images)
        return s[:, 1] - s[:, 0]

    def regularization(self) -> torch.Tensor:
        """The paper's L2 term, ``l2 · ½ Σ ||W||²`` over weight matrices and kernels (not biases)."""
        return self.config.l2 * weight_l2(self)


@torch.no_grad()
def first_layer_feature_maps(model: CNN, image: np.ndarray | torch.Tensor) -> np.ndarray:
    """Activations of the first convolution (after ReLU) for one image (H, W, 3) or (3, H, W) uint8.

    Returns an array (6, H - 9, W - 9): what the paper looked at when it tried to
    read its CNN (appendix B; it found no interpretation).
    """
    x = torch.as_tensor(np.asarray(image))
    if x.dim() == 3 and x.shape[-1] == 3:
        x = x.permute(2, 0, 1)
    x = model.normalize(x.unsqueeze(0))
    first = model.features[1](model.features[0](x))  # conv, ReLU
    return first[0].cpu().numpy()


def feature_maps_figure(model: CNN, image: np.ndarray | dict[str, np.ndarray], title: str | None = None):
    """An image and its first-layer feature maps, as a matplotlib ``Figure``.

    ``image`` may be a mapping ``{name: image}``: one row per image, the name
    on the left (Figure 13 shows a glass and a liquid this way).
    """
    from matplotlib.figure import Figure  # noqa: PLC0415

    rows = image if isinstance(image, dict) else {"input": image}
    n_maps = model.features[0].out_channels
    fig = Figure(figsize=(12, 2.4 * len(rows)), layout="constrained")
    axes = np.asarray(fig.subplots(len(rows), 1 + n_maps)).reshape(len(rows), 1 + n_maps)
    for row, (name, im) in zip(axes, rows.items()):
        maps = first_layer_feature_maps(model, im)
        img = np.asarray(im)
        if img.shape[0] == 3:
            img = img.transpose(1, 2, 0)
        row[0].imshow(img)
        row[0].set_title(name, fontsize="small")
        for i, (ax, m) in enumerate(zip(row[1:], maps)):
            ax.imshow(m, cmap="viridis")
            ax.set_title(f"kernel {i + 1}", fontsize="small")
        for ax in row:
            ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig
