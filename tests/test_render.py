"""The renderer: hand-placed pixels, symmetries, agreement with matplotlib, the paper's dot, errors."""

import json

import freud
import gsd.hoomd
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.graphs import window
from mda_glassml.models.render import (
    COLOR_A,
    COLOR_B,
    DEFAULT_DOT_RADIUS,
    Renderer,
    render_matplotlib,
)

WHITE = [255, 255, 255]


def make_frame(points, codes, side, periodic=True):
    """A frame straight from arrays (types 0 = A, 1 = B), one particle allowed."""
    return Frame(np.asarray(points, np.float32).reshape(-1, 2), np.asarray(codes, np.int8),
                 freud.Box.square(side), periodic=periodic)


def ink(img, color=COLOR_A):
    """Total coverage (px^2) of one colour on white, read from the channel it changes most."""
    c = int(np.argmax(255 - np.asarray(color)))
    return float((255.0 - img[..., c]).sum() / (255 - color[c]))


@pytest.fixture(scope="module")
def example_frames():
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        return [Frame.from_gsd(traj[i], frame=i) for i in (0, len(traj) - 1)]   # liquid, glass


# --- hand-placed particles -------------------------------------------------------------------

def test_single_a_at_the_box_centre():
    # 250 px for a box of 250: one pixel per length unit; the centre is the corner of four pixels.
    img = Renderer().image(make_frame([0, 0], [0], 250.0))
    assert img.shape == (250, 250, 3) and img.dtype == np.uint8
    centre = img[123:127, 123:127]
    assert (centre[1:3, 1:3] != 255).any(axis=-1).all()          # the four central pixels are inked
    middle = centre[1:3, 1:3].astype(int)
    assert np.abs(middle - middle[::-1, ::-1]).max() <= 1 and np.abs(middle - middle[::-1]).max() <= 1
    for corner in (img[0, 0], img[0, -1], img[-1, 0], img[-1, -1]):
        assert corner.tolist() == WHITE
    # Only the centre is inked, with the area of the disc.
    inked = np.argwhere((img != 255).any(axis=-1))
    assert inked.min() >= 123 and inked.max() <= 126
    assert ink(img) == pytest.approx(np.pi * DEFAULT_DOT_RADIUS**2, rel=0.01)


def test_colours_are_exact_at_dot_centres_and_b_is_drawn_over_a():
    # Centres on pixel centres: (x, y) = (c + 0.5 - 125, 125 - r - 0.5) for pixel (row r, column c).
    def at(r, c):
        return [c + 0.5 - 125, 125 - r - 0.5]
    frame = make_frame([at(50, 60), at(200, 30), at(100, 100), at(100, 101)], [0, 1, 0, 1], 250.0)
    img = Renderer().image(frame)
    assert img[50, 60].tolist() == list(COLOR_A)
    assert img[200, 30].tolist() == list(COLOR_B)
    # An A and a B one pixel apart: the B centre is blue, the A centre is partly covered by B's rim.
    assert img[100, 101].tolist() == list(COLOR_B)
    assert img[100, 100].tolist() not in (list(COLOR_A), list(COLOR_B))
    # A dot inks its own pixel and the four next to it, a little of the diagonal ones, nothing further.
    assert (img[49:52, 59:62] != 255).any(axis=-1).all()
    assert img[47, 60].tolist() == WHITE and img[50, 57].tolist() == WHITE


def test_a_dot_at_the_left_edge_wraps_to_the_right_edge():
    side, size = 10.0, 100                      # 10 px per unit
    y = 0.05                                    # row 49.5: the centre of row 49
    frame = make_frame([[-5 + 0.02, y]], [1], side)   # column 0.2, inside pixel 0
    img = Renderer(size).image(frame)
    # The disc spans columns -1.19 .. 1.59: pixels -1 (= 99) and 0 whole, -2 (= 98) and 1 in part.
    assert img[49, 0].tolist() == list(COLOR_B) and img[49, 99].tolist() == list(COLOR_B)
    assert img[49, 98].tolist() not in (WHITE, list(COLOR_B)) and img[49, 97].tolist() == WHITE
    # Whole-pixel translations across the edge are rolls of the picture.
    moved = Renderer(size).image(make_frame([[-5 + 1.02, y]], [1], side))
    assert np.array_equal(np.roll(moved, -10, axis=1), img)
    # The same dot in a window (open edges) is cut, not wrapped.
    cut = Renderer(size).image(make_frame([[-5 + 0.02, y]], [1], side, periodic=False))
    assert cut[49, 0].tolist() == list(COLOR_B) and cut[49, 99].tolist() == WHITE
    assert ink(cut, COLOR_B) < ink(img, COLOR_B) - 1


def test_y_points_up():
    img = Renderer(50).image(make_frame([[0.1, 3.9], [0.1, -4.1]], [0, 1], 10.0))  # rows 5.5, 45.5
    assert img[5, 25].tolist() == list(COLOR_A)      # y = +4 is near the top
    assert img[45, 25].tolist() == list(COLOR_B)


@pytest.mark.parametrize("radius", [0.4, 1.0, DEFAULT_DOT_RADIUS, 1.49, 2.0, 2.7, 6.0])
def test_each_dot_inks_the_area_of_its_disc(radius):
    # Dots 20 px apart at assorted sub-pixel offsets: the whole disc is drawn, wherever it sits.
    offsets = np.random.default_rng(3).uniform(0, 0.5, size=(9, 2))
    points = np.column_stack([np.linspace(-40, 40, 9), np.zeros(9)]) + offsets
    frame = make_frame(points, np.zeros(len(points)), 100.0)
    img = Renderer(200, radius).image(frame)
    assert ink(img) == pytest.approx(len(points) * np.pi * radius**2, rel=0.01)


# --- symmetries ----------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 3])
def test_turning_the_configuration_turns_the_image(example_frames, k):
    frame = example_frames[1]
    pos = frame.positions.astype(np.float64)
    for _ in range(k):
        pos = np.column_stack([-pos[:, 1], pos[:, 0]])        # 90 degrees anticlockwise
    turned = Frame.from_arrays(pos, np.where(frame.is_b, "B", "A"), [frame.box.Lx] * 2)
    r = Renderer()
    expected, got = np.rot90(r.image(frame), k).astype(int), r.image(turned).astype(int)
    assert np.abs(got - expected).max() <= 1


def test_mirroring_the_configuration_mirrors_the_image(example_frames):
    frame = example_frames[0]
    names = np.where(frame.is_b, "B", "A")
    r = Renderer()
    img = r.image(frame).astype(int)
    upside_down = Frame.from_arrays(frame.positions * [1, -1], names, [frame.box.Lx] * 2)
    left_right = Frame.from_arrays(frame.positions * [-1, 1], names, [frame.box.Lx] * 2)
    assert np.abs(r.image(upside_down).astype(int) - np.flipud(img)).max() <= 1
    assert np.abs(r.image(left_right).astype(int) - np.fliplr(img)).max() <= 1


def test_a_turned_window_turns_its_image(example_frames):
    w = window(example_frames[1], 20.0, center=(3.0, -7.0))
    turned = Frame(np.column_stack([-w.positions[:, 1], w.positions[:, 0]]), w.types, w.box, periodic=False)
    r = Renderer(size=120)
    assert np.abs(r.image(turned).astype(int) - np.rot90(r.image(w)).astype(int)).max() <= 1


def test_deterministic_and_independent_of_particle_order(example_frames):
    frame = example_frames[1]
    r = Renderer()
    img = r.image(frame)
    assert np.array_equal(img, r.image(frame))
    assert np.array_equal(r.images([frame, example_frames[0], frame]),
                          np.stack([img, r.image(example_frames[0]), img]))
    order = np.random.default_rng(0).permutation(frame.n_particles)
    shuffled = Frame(frame.positions[order], frame.types[order], frame.box)
    assert np.abs(r.image(shuffled).astype(int) - img).max() <= 1


# --- against matplotlib --------------------------------------------------------------------------

def pixel_classes(img):
    """Counts of white, A-coloured and B-coloured pixels (nearest of the three colours)."""
    palette = np.array([WHITE, COLOR_A, COLOR_B], float)
    nearest = np.argmin(((img[..., None, :].astype(float) - palette) ** 2).sum(-1), axis=-1)
    return np.bincount(nearest.ravel(), minlength=3)


@pytest.mark.parametrize("which", [0, 1])
def test_agrees_with_matplotlib_on_real_frames(example_frames, which):
    frame = example_frames[which]
    fast, slow = Renderer().image(frame).astype(int), render_matplotlib(frame).astype(int)
    diff = np.abs(fast - slow)
    assert diff.mean() < 1.0                         # grey levels, of 255
    assert np.percentile(diff, 99.9) <= 4
    coloured_fast, coloured_slow = (fast != 255).any(-1).mean(), (slow != 255).any(-1).mean()
    assert coloured_fast == pytest.approx(coloured_slow, rel=0.02)
    counts_fast, counts_slow = pixel_classes(fast), pixel_classes(slow)
    np.testing.assert_allclose(counts_fast, counts_slow, rtol=0.01)
    for color in (COLOR_A, COLOR_B):                  # fully covered pixels of each colour
        exact_fast = (fast == color).all(-1).sum()
        exact_slow = (slow == color).all(-1).sum()
        assert exact_fast == pytest.approx(exact_slow, rel=0.05)


def test_agrees_with_matplotlib_for_other_sizes_and_windows(example_frames):
    w = window(example_frames[1], 30.0)
    for frame, size, radius in ((example_frames[0], 120, 0.8), (w, 200, 2.5)):
        fast = Renderer(size, radius).image(frame).astype(int)
        slow = render_matplotlib(frame, size, radius).astype(int)
        assert np.abs(fast - slow).mean() < 1.0
        np.testing.assert_allclose(pixel_classes(fast), pixel_classes(slow), rtol=0.02)


def test_default_dot_is_the_papers_scatter_dot():
    # The original: plt.scatter(x, y, s=1, color=...) at 100 dpi on a 276-px canvas. Agg stamps such
    # markers at whole pixels, so compare the ink of one dot, not its pixels.
    fig = Figure(figsize=(2.76, 2.76), dpi=100, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    xy = np.array([[0.2, 0.3], [0.61, 0.47], [0.8, 0.83]])
    ax.scatter(xy[:, 0], xy[:, 1], s=1, color="C1")
    canvas.draw()
    paper = np.asarray(canvas.buffer_rgba())[..., :3]
    assert paper.shape == (276, 276, 3)
    ours = Renderer().image(make_frame(xy * 250 - 125, [0, 0, 0], 250.0))
    assert ink(ours) == pytest.approx(ink(paper), rel=0.03)
    assert ink(paper) / 3 == pytest.approx(np.pi * (100 / 72) ** 2, rel=0.03)


# --- settings and errors -------------------------------------------------------------------------

def test_settings_round_trip_and_are_plain_values():
    r = Renderer(size=np.int64(64), dot_radius=np.float32(2.0))
    d = r.to_dict()
    assert d == {"size": 64, "dot_radius": 2.0} and type(d["size"]) is int and type(d["dot_radius"]) is float
    assert Renderer.from_dict(json.loads(json.dumps(d))) == r
    assert Renderer.from_dict({}) == Renderer()
    assert Renderer().dot_radius == pytest.approx(1.3889, abs=1e-4)


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 8}, "16 to 4096"),
    ({"size": 250.0}, "whole number"),
    ({"size": True}, "whole number"),
    ({"size": "250"}, "whole number"),
    ({"dot_radius": 0}, "> 0"),
    ({"dot_radius": -1.0}, "> 0"),
    ({"dot_radius": float("nan")}, "> 0"),
    ({"dot_radius": 20.0}, "at most 8"),
    ({"size": 16, "dot_radius": 4.0}, "quarter"),
    ({"dot_radius": "1"}, "number of pixels"),
])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        Renderer(**kwargs)


def test_bad_settings_dicts_are_refused():
    with pytest.raises(InputError, match="unknown renderer setting"):
        Renderer.from_dict({"size": 64, "colour": "red"})
    with pytest.raises(InputError, match="must be a dict"):
        Renderer.from_dict([64, 1.0])


def test_bad_frames_are_refused(example_frames):
    r = Renderer(size=32)
    rectangle = Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], box=[10, 12])
    tilted = Frame.from_arrays([[0, 0], [1, 1]], ["A", "B"], box=[10, 10, 0, 90, 90, 60])
    for frame in (rectangle, tilted):
        with pytest.raises(InputError, match="square window"):
            r.image(frame)
        with pytest.raises(InputError, match="square window"):
            render_matplotlib(frame, size=32)
    empty = window(example_frames[0], 0.05, center=(0.123, 0.456))
    assert empty.n_particles == 0
    with pytest.raises(InputError, match="no particles"):
        r.image(empty)
    with pytest.raises(InputError, match="Frame"):
        r.image(np.zeros((10, 2)))
    with pytest.raises(InputError, match="sequence of frames"):
        r.images(example_frames[0])
    with pytest.raises(InputError, match="16 to 4096"):
        render_matplotlib(example_frames[0], size=4)
    assert r.images([]).shape == (0, 32, 32, 3)
