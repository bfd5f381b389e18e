"""Configurations as pictures, drawn the way the paper drew them for its CNNs.

A :class:`Renderer` turns a :class:`~mda_glassml.frames.Frame` into an RGB
image: white background, A particles as orange dots and B particles as blue
dots (matplotlib's default colours ``"C1"`` and ``"C0"``; the original's
``coords_config.py`` named ``"orange"`` and ``"blue"``), no axes, no frame, a
square image of ``size`` × ``size`` pixels (250 by default, as in the paper's
appendix B).

Geometry
    The box is mapped onto the whole image, the same scale on both axes:
    x from -L/2 (left edge of column 0) to +L/2 (right edge of the last
    column), y upwards, so row 0 is the top of the picture, as matplotlib
    draws it. Frames are centred on the origin (:class:`Frame`'s convention).
Periodic frames wrap
    A dot that straddles an edge of a periodic box is drawn on both sides
    (its pixels are taken modulo the image size), so the picture is one tile
    of the periodic configuration, and turning the configuration by 90° or
    mirroring it turns or mirrors the picture (to within one grey level of
    rounding). The original cropped a slightly larger plot instead and so
    cut the edge dots in half; this is the one deliberate difference.
Windows
    A window (``periodic=False``, e.g. from :func:`mda_glassml.graphs.window`)
    is drawn the same way, its square mapped onto the image, but its edges
    are open: dots at an edge are cut, not wrapped.
Square boxes only
    A rectangular or tilted box cannot fill a square picture without
    stretching it (the original's anisotropic scaling, a weakness this
    package avoids), so it is refused; cut a square window first.
Dots
    Each dot is a disc of radius ``dot_radius`` pixels, antialiased: a pixel
    takes the fraction of its area the disc covers. Dots of one colour are
    composited with "over" (two half-covering dots give 1 - 0.5 × 0.5 = 0.75),
    A first, then B on top, as the original drew its two ``scatter`` calls.

The hot path is numpy, vectorised over particles, with no loop over them:
which pixels a dot covers, and by how much, depends only on where its centre
falls inside its pixel, so that is tabulated once per radius (on a 1/32-pixel
grid, interpolated bilinearly) and a frame costs one table lookup per
particle, one ``np.bincount`` for both colours and a little arithmetic per
pixel.
:func:`render_matplotlib` draws the same picture with matplotlib, slowly, for
comparison.

Examples
--------
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.models.render import Renderer
>>> frame = Frame.from_arrays([[0.0, 0.0], [-4.0, 4.0]], ["A", "B"], box=[10, 10])
>>> img = Renderer().image(frame)
>>> img.shape, img.dtype
((250, 250, 3), dtype('uint8'))
>>> img[125, 125].tolist(), img[25, 25].tolist(), img[0, 249].tolist()   # A, B, background
([255, 127, 14], [31, 119, 180], [255, 255, 255])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError
from ..frames import Frame, _where

__all__ = ["COLOR_A", "COLOR_B", "DEFAULT_DOT_RADIUS", "Renderer", "render_matplotlib"]

#: RGB of A particles: matplotlib's "C1" (#ff7f0e).
COLOR_A = (255, 127, 14)
#: RGB of B particles: matplotlib's "C0" (#1f77b4).
COLOR_B = (31, 119, 180)

#: The paper's dot, in pixels: one point at 100 dpi (see :class:`Renderer`).
DEFAULT_DOT_RADIUS = 100 / 72

_MIN_SIZE, _MAX_SIZE = 16, 4096
_MAX_RADIUS = 8.0
# Cells per pixel side of the coverage table (1/32 pixel), and samples per pixel column to build it.
_TABLE_STEPS = 32
_TABLE_SAMPLES = 64
# Coverage is capped just below 1 so that log(1 - coverage) stays finite.
_FULL = 1.0 - 1.0 / 4096


@dataclass(frozen=True)
class Renderer:
    """Draw configurations as square RGB images: A orange, B blue, on white.

    Parameters
    ----------
    size : int
        Pixels per side (16 to 4096). The paper used 250.
    dot_radius : float
        Radius of a dot in pixels (> 0, at most 8 and less than ``size / 4``).
        The default, 100/72 ≈ 1.389 px, is the paper's dot. The original
        called ``plt.scatter(x, y, s=1, color=...)`` on a figure at 100 dpi
        (a 276-pixel canvas cropped to 250): ``s`` is the marker's area in
        points², so the round marker is 1 pt across, and ``color=`` also
        colours its edge, stroked with matplotlib's default collection line
        width (``rcParams["patch.linewidth"]``, 1 pt), half of it outside
        the marker. The visible disc is therefore
        1 + 1 = 2 pt across, i.e. a radius of 1 pt = 100/72 px at 100 dpi.
        (Measured: matplotlib inks 6.16 px² for such a dot, a disc of radius
        1.40 px; tests/test_render.py checks this.) The dot's size in pixels
        does not depend on the box; on the paper's canvas the box spanned
        276/1.1 ≈ 251 px (matplotlib's 5 % margins), which the 250-pixel crop
        and this renderer's 250 pixels match.

    Notes
    -----
    See the module's documentation for the geometry, periodic wrapping,
    windows, the refusal of non-square boxes and the compositing order.
    Rendering is deterministic: the same frame gives the same bytes.

    Examples
    --------
    >>> r = Renderer(size=64, dot_radius=2.0)
    >>> Renderer.from_dict(r.to_dict()) == r
    True
    >>> Renderer(size=8)
    Traceback (most recent call last):
        ...
    mda_glassml.errors.InputError: image size must be a whole number of pixels from 16 to 4096, got 8.
    """

    size: int = 250
    dot_radius: float = DEFAULT_DOT_RADIUS

    def __post_init__(self) -> None:
        size = self.size
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not _MIN_SIZE <= size <= _MAX_SIZE:
            raise InputError(
                f"image size must be a whole number of pixels from {_MIN_SIZE} to {_MAX_SIZE}, got {size!r}."
            )
        radius = self.dot_radius
        if isinstance(radius, bool) or not isinstance(radius, (int, float, np.integer, np.floating)):
            raise InputError(f"dot_radius must be a number of pixels, got {radius!r}.")
        if not (math.isfinite(radius) and 0 < radius <= _MAX_RADIUS and radius < size / 4):
            raise InputError(
                f"dot_radius must be > 0 pixels, at most {_MAX_RADIUS:g} and less than a quarter of the image "
                f"size ({size / 4:g}), got {radius!r}; the paper's dots have radius {DEFAULT_DOT_RADIUS:.4f}."
            )
        # Plain Python numbers, so that to_dict() is JSON- and torch.load(weights_only)-safe.
        object.__setattr__(self, "size", int(size))
        object.__setattr__(self, "dot_radius", float(radius))

    def image(self, frame: Frame) -> np.ndarray:
        """The frame as an RGB image, shape ``(size, size, 3)``, dtype uint8.

        Raises
        ------
        InputError
            If ``frame`` is not a :class:`Frame`, has no particles, or its box
            is not square (see the module's documentation).
        """
        out = np.empty((self.size, self.size, 3), dtype=np.uint8)
        self._draw(frame, out)
        return out

    def images(self, frames: Sequence[Frame]) -> np.ndarray:
        """Several frames as a stack of images, shape ``(n, size, size, 3)``, dtype uint8.

        >>> from mda_glassml.frames import Frame
        >>> f = Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], box=[5, 5])
        >>> Renderer(size=32).images([f, f, f]).shape
        (3, 32, 32, 3)
        """
        if isinstance(frames, Frame):
            raise InputError("images() takes a sequence of frames; use image() for one frame.")
        frames = list(frames)
        out = np.empty((len(frames), self.size, self.size, 3), dtype=np.uint8)
        for k, frame in enumerate(frames):
            self._draw(frame, out[k])
        return out

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain values (saved in model bundles)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Renderer:
        """The renderer :meth:`to_dict` described; unknown keys are refused."""
        if not isinstance(d, dict):
            raise InputError(f"renderer settings must be a dict, got {type(d).__name__}.")
        unknown = sorted(set(d) - {"size", "dot_radius"})
        if unknown:
            raise InputError(f"unknown renderer setting(s) {unknown}; expected 'size' and 'dot_radius'.")
        return cls(**d)

    def _draw(self, frame: Frame, out: np.ndarray) -> None:
        n = self.size
        col, row = _pixel_coordinates(frame, n)
        is_b = np.asarray(frame.types) == 1
        dot = _dot_table(self.dot_radius)
        # Draw on a canvas with a margin, where no dot needs wrapping; fold the margin back after.
        pad = dot.stencil + 1
        width = n + 2 * pad
        if frame.periodic:
            if not (col.min() >= 0 and col.max() < n and row.min() >= 0 and row.max() < n):
                col, row = np.remainder(col, n), np.remainder(row, n)   # not wrapped yet
        else:
            reach = self.dot_radius + 1
            keep = (col > -reach) & (col < n + reach) & (row > -reach) & (row < n + reach)
            col, row, is_b = col[keep], row[keep], is_b[keep]
        # Each dot: its stencil's top-left pixel on the canvas and its log-transmittance there,
        # interpolated in the table. A's pixels are numbered 0 .. width^2 - 1 and B's
        # width^2 .. 2 width^2 - 1, so one bincount does both colours.
        (pixel_col, cell_col, t_col), (pixel_row, cell_row, t_row) = _cells(col), _cells(row)
        base = (pixel_row + dot.shift[cell_row] + pad) * width \
            + pixel_col + dot.shift[cell_col] + pad + is_b * (width * width)
        offsets = (np.arange(dot.stencil)[:, None] * width + np.arange(dot.stencil)).ravel()
        index = base[:, None] + offsets
        corners = dot.corners.take(cell_row * _TABLE_STEPS + cell_col, axis=0)
        corners = corners.reshape(len(base), 4, dot.stencil * dot.stencil)
        weights = np.column_stack([(1 - t_row) * (1 - t_col), (1 - t_row) * t_col,
                                   t_row * (1 - t_col), t_row * t_col]).astype(np.float32)
        # Per colour, the sum of log(1 - coverage) over its dots: "over" compositing of one colour.
        log_transmit = np.bincount(index.ravel(), np.einsum("nk,nkj->nj", weights, corners).ravel(),
                                   minlength=2 * width * width).reshape(2, width, width)
        if frame.periodic:
            _fold(log_transmit, n, pad)
        t_a, t_b = np.exp(log_transmit[:, pad:pad + n, pad:pad + n].astype(np.float32))
        # White, then A with alpha 1 - t_a, then B with alpha 1 - t_b; + 0.5 and truncation round.
        for channel, (a, b) in enumerate(zip(COLOR_A, COLOR_B)):
            value = t_a * (255.0 - a)
            value += a - b
            value *= t_b
            value += b + 0.5
            out[..., channel] = value


def _fold(canvas: np.ndarray, size: int, pad: int) -> None:
    """Add the margins of a (..., size + 2 pad, size + 2 pad) canvas onto the opposite edges."""
    for axis in (-2, -1):
        body = np.moveaxis(canvas, axis, 0)
        body[size:size + pad] += body[:pad]
        body[pad:2 * pad] += body[size + pad:]


def _pixel_coordinates(frame: Frame, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Checked frame -> continuous pixel coordinates (column, row); pixel j spans [j, j + 1)."""
    if not isinstance(frame, Frame):
        raise InputError(f"expected a mda_glassml Frame, got {type(frame).__name__}; build one with Frame.from_*.")
    if frame.n_particles == 0:
        raise InputError(f"no particles{_where(frame.index)}: there is nothing to draw (an empty window?).")
    box = frame.box
    lx, ly = float(box.Lx), float(box.Ly)
    if box.xy != 0 or abs(lx - ly) > 1e-6 * max(lx, ly):
        raise InputError(
            f"images are drawn from square boxes, but the box{_where(frame.index)} has Lx={lx:.6g}, "
            f"Ly={ly:.6g}, xy={box.xy:.3g}; cut a square window first (mda_glassml.graphs.window(frame, side))."
        )
    scale = size / lx
    pos = np.asarray(frame.positions, dtype=np.float64)
    return (pos[:, 0] + lx / 2) * scale, (ly / 2 - pos[:, 1]) * scale


def _cells(coord: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel of each coordinate, the table cell of its offset inside it, and where in the cell (0 to 1)."""
    pixel = np.floor(coord)
    u = (coord - pixel) * _TABLE_STEPS
    cell = np.minimum(u.astype(np.intp), _TABLE_STEPS - 1)
    return pixel.astype(np.intp), cell, u - cell


class _DotTable(NamedTuple):
    corners: np.ndarray   # (steps^2, 4 S^2) float32: log(1 - coverage) at a cell's 4 corners
    shift: np.ndarray     # (steps,) first stencil pixel relative to the centre's pixel, per cell
    stencil: int          # S


@functools.lru_cache(maxsize=16)
def _dot_table(radius: float) -> _DotTable:
    """Pixel coverage of a disc, against where its centre lies inside its pixel.

    Centres are tabulated on a grid of ``steps`` × ``steps`` cells per pixel.
    Row ``p * steps + q`` holds, for the cell whose top-left corner is at
    (p / steps, q / steps) inside pixel (0, 0) (row, column), the log of
    1 - coverage of an S × S stencil of pixels starting at (shift[p],
    shift[q]), for a disc centred on each of the cell's four corners (in the
    order top-left, top-right, bottom-left, bottom-right). Within a cell the
    renderer interpolates bilinearly: the picture moves smoothly with the
    particles, and mirrored or turned configurations give mirrored or turned
    pictures. Coverage is exact along y (chord lengths) and uses the midpoint
    rule with ``_TABLE_SAMPLES`` samples per pixel along x: accurate to about
    1e-4; the interpolation adds less than one grey level.
    """
    steps, samples = _TABLE_STEPS, _TABLE_SAMPLES
    stencil = math.floor(2 * radius + 1 / steps) + 2           # holds a disc anywhere in a cell
    grid = np.arange(steps + 1) / steps
    shift = np.floor(grid[:-1] - radius).astype(np.intp)
    # Per cell c and corner k (0 or 1): the corner's centre in the cell's stencil coordinates.
    centre = (grid[:-1] - shift)[:, None] + np.array([0, 1 / steps])     # (cell, corner)
    xs = (np.arange(stencil * samples) + 0.5) / samples
    dx = xs - centre[..., None]                                          # (cell, corner, sample)
    half = np.sqrt(np.clip(radius * radius - dx * dx, 0.0, None))       # half chord at each sample
    rows = np.arange(stencil)[:, None, None, None, None]
    # cover[p, q, a, b, i, j]: row cell p, column cell q, their corners a and b, stencil pixel (i, j).
    cover = np.empty((steps, steps, 2, 2, stencil, stencil))
    for p in range(steps):
        # The chord at each sample, against the stencil's rows: (i, a, q, b, sample).
        lo = centre[p][None, :, None, None, None] - half[None, None]
        hi = centre[p][None, :, None, None, None] + half[None, None]
        overlap = np.clip(np.minimum(hi, rows + 1) - np.maximum(lo, rows), 0.0, 1.0)
        pixels = overlap.reshape(stencil, 2, steps, 2, stencil, samples).mean(axis=-1)
        cover[p] = pixels.transpose(2, 1, 3, 0, 4)
    corners = np.log1p(-np.minimum(cover, _FULL)).reshape(steps * steps, 4 * stencil * stencil).astype(np.float32)
    corners.setflags(write=False)
    shift.setflags(write=False)
    return _DotTable(corners, shift, stencil)


def render_matplotlib(frame: Frame, size: int = 250, dot_radius: float = DEFAULT_DOT_RADIUS) -> np.ndarray:
    """The reference picture, drawn by matplotlib (slow; for comparison).

    Same geometry and colours as :class:`Renderer`: the box fills a
    ``size``-pixel Agg canvas, A is drawn first, then B; a periodic frame's
    dots near an edge are drawn again shifted by a box length, so they wrap.
    Dots are ``scatter`` markers with no edge and the area that makes their
    radius ``dot_radius`` pixels. The sizes are passed one per dot: with a
    single size, Agg stamps one pre-drawn marker at whole-pixel positions
    (up to a pixel off); with one per dot it draws each at its exact position.

    Returns
    -------
    numpy.ndarray, shape (size, size, 3), uint8

    Examples
    --------
    >>> from mda_glassml.frames import Frame
    >>> frame = Frame.from_arrays([[0.0, 0.0], [-4.0, 4.0]], ["A", "B"], box=[10, 10])
    >>> img = render_matplotlib(frame, size=50)
    >>> img[25, 25].tolist(), img[5, 5].tolist(), img[0, 49].tolist()
    ([255, 127, 14], [31, 119, 180], [255, 255, 255])
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    renderer = Renderer(size, dot_radius)
    _pixel_coordinates(frame, renderer.size)  # the same checks
    side = float(frame.box.Lx)
    # dpi = size on a 1-inch figure: exactly `size` pixels, and 1 pt = size / 72 px.
    fig = Figure(figsize=(1, 1), dpi=renderer.size, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(-side / 2, side / 2)
    ax.set_ylim(-side / 2, side / 2)
    area = (2 * renderer.dot_radius * 72 / renderer.size) ** 2   # marker area in pt^2
    margin = (renderer.dot_radius + 1) * side / renderer.size
    for code, color in ((0, "C1"), (1, "C0")):
        pos = frame.positions[frame.types == code].astype(np.float64)
        if frame.periodic:
            pos = _periodic_copies(np.remainder(pos + side / 2, side) - side / 2, side, margin)
        ax.scatter(pos[:, 0], pos[:, 1], s=np.full(len(pos), area), color=color, linewidths=0)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


def _periodic_copies(pos: np.ndarray, side: float, margin: float) -> np.ndarray:
    """Positions plus their images shifted by ±side that land within ``margin`` of the box."""
    copies = [pos]
    for sx in (-side, 0.0, side):
        for sy in (-side, 0.0, side):
            if sx or sy:
                shifted = pos + np.array([sx, sy], dtype=pos.dtype)
                near = np.all(np.abs(shifted) < side / 2 + margin, axis=1)
                copies.append(shifted[near])
    return np.concatenate(copies)
