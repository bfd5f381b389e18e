"""OVITO modifiers (``ovito.pipeline.ModifierInterface``) that call mda_glassml's core functions.

Each modifier turns the pipeline's data into a :class:`~mda_glassml.frames.Frame`
(:meth:`~mda_glassml.frames.Frame.from_ovito`), calls the same function the
other faces call, and writes the answer back as global attributes,
per-particle properties (for colouring) and bonds. See :doc:`/ovito`.

``GlassClassifierModifier``
    P(glass) of the frame (:class:`~mda_glassml.classify.Classifier`), and
    with a window side, each particle's local P(glass).
``BNeighborModifier``
    The B-neighbor graph and its counts (:func:`~mda_glassml.metrics.b_neighbor_metrics`).
``AttentionModifier``
    The D-MPNN's attention on the k-nearest-neighbour graph and the
    high-attention graph's counts (:func:`~mda_glassml.attention.attention_graph`).

Their parameters are traits: set them as keyword arguments
(``BNeighborModifier(k=3)``), as attributes, or in OVITO Pro's panel.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

try:
    from ovito.data import DataCollection
    from ovito.pipeline import ModifierInterface
    from ovito.traits import OvitoObject
    from ovito.vis import BondsVis
    from traits.api import Bool, Enum, Float, Int, Str
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"the OVITO modifiers of mda_glassml need OVITO's Python module ({exc}): `pip install ovito` for "
        "scripts, or install mda-glassml into OVITO Pro with `ovitos -m pip install --user "
        "/path/to/mda_glassml` (a clone: there is no PyPI release yet)."
    ) from exc

from ..attention import PAPER_CUT, attention_graph, attention_metrics_table, rescale_weights
from ..errors import unknown_keywords
from ..frames import Frame
from ..graphs import DEFINITIONS, window_members
from ..metrics import BNeighborResult, b_neighbor_metrics

__all__ = ["GlassClassifierModifier", "BNeighborModifier", "AttentionModifier"]

#: Prefix of every global attribute the modifiers set.
PREFIX = "GlassML"

# Loaded classifiers by bundle file (path, inode, modification time): loaded once, shared by the
# modifiers and frames that use the same model, reloaded when the file changes.
_CLASSIFIERS: dict[tuple[str, int, int], Any] = {}
_CLASSIFIERS_LOCK = threading.Lock()
_MAX_CLASSIFIERS = 4


def cached_classifier(model: str) -> Any:
    """The :class:`~mda_glassml.classify.Classifier` of ``model`` (a shipped name or a bundle path), cached."""
    from ..classify import Classifier  # noqa: PLC0415  (torch loads only when a model is used)
    from ..models.pretrained import model_path  # noqa: PLC0415

    path = model_path(model).resolve()
    stat = path.stat()
    key = (str(path), stat.st_ino, stat.st_mtime_ns)
    with _CLASSIFIERS_LOCK:
        if key not in _CLASSIFIERS:
            if len(_CLASSIFIERS) >= _MAX_CLASSIFIERS:
                _CLASSIFIERS.clear()
            _CLASSIFIERS[key] = Classifier(path)
        return _CLASSIFIERS[key]


def _bonds_vis() -> Any:
    return OvitoObject(BondsVis, width=0.12, flat_shading=True)


class _GlassModifier(ModifierInterface):
    """What the modifiers share: the type names of the large and the small particles."""

    a_type = Str("A", label="Large particle type (A)")
    b_type = Str("B", label="Small particle type (B)")

    def __init__(self, **params: Any):
        # Traits adds any keyword as a new trait: a misspelt parameter would silently do nothing.
        known = type(self).class_visible_traits()
        unknown = [name for name in params if name not in known]
        if unknown:
            raise unknown_keywords(type(self).__name__, unknown, known)
        for name in ("a_type", "b_type"):  # LAMMPS type numbers, as the other faces take them (traits wants a str)
            if isinstance(params.get(name), (int, np.integer)) and not isinstance(params[name], bool):
                params[name] = str(params[name])
        super().__init__(**params)

    def as_frame(self, data: DataCollection, frame: int | None) -> Frame:
        """The pipeline's data as a :class:`~mda_glassml.frames.Frame` (validated)."""
        return Frame.from_ovito(data, self.a_type, self.b_type, frame)


class GlassClassifierModifier(_GlassModifier):
    """P(glass) of each frame from a trained model (the shipped D-MPNN by default).

    Writes:

    ``GlassML.P_glass`` (global attribute)
        P(glass) of the frame.
    ``Local P(glass)`` (particle property, with ``window > 0``)
        Each particle's mean over the windows that hold it.

    Parameters
    ----------
    model : str
        ``"ka2d-dmpnn"`` (default), ``"ka2d-cnn"`` or the path of a model bundle.
    a_type, b_type : str
        Names of the large (A) and the small (B) particle types (``"1"``/``"2"``
        for LAMMPS data; types without a name are named by their numeric id).
    window : float
        0 (default): classify the whole frame. > 0 (D-MPNN only): the side of
        sliding windows on a grid of stride ``window / 2``; the frame's
        probability is their mean (:meth:`~mda_glassml.classify.Classifier.window_map`).
    """

    model = Str("ka2d-dmpnn", label="Model (name or model.pt path)")
    window = Float(0.0, label="Window side (0: whole frame)")

    def modify(self, data: DataCollection, *, frame: int, **kwargs: Any) -> None:
        snapshot = self.as_frame(data, frame)
        classifier = cached_classifier(self.model)
        if self.window:
            result = classifier.window_map(snapshot, self.window)
            probability = result.probability
            data.particles_.create_property("Local P(glass)", data=result.local_probability)
        else:
            probability = float(classifier.probabilities([snapshot])[0])
        data.attributes[f"{PREFIX}.P_glass"] = probability


class BNeighborModifier(_GlassModifier):
    """The B-neighbor graph of Swanson et al. (2020) and its three metrics.

    Writes:

    ``GlassML.BNeighbor.*`` (global attributes)
        ``n_components``, ``n_bb_edges``, ``n_isolated_a``, ``n_isolated_b``,
        ``n_particles`` and the per-particle twins ``components_per_particle``,
        ``bb_edges_per_particle``, ``isolated_a_per_particle``.
    ``Component`` (particle property, int)
        Connected component, 0 .. n_components - 1; -1 for isolated particles.
    ``Isolated`` (particle property, int)
        1 for particles without an edge.
    Bonds
        The graph's edges.

    Parameters
    ----------
    k : int
        Nearest neighbours per particle (the paper: 2).
    definition : {"symmetric", "directed"}
        Which graph (:mod:`mda_glassml.metrics`).
    a_type, b_type : str
        As for :class:`GlassClassifierModifier`.
    window : float
        0: the whole frame. > 0: a square window of this side at the box centre, with open
        boundaries (as ``b_neighbor_metrics(window=...)``); particles outside it get -1 in
        both properties and no bonds.
    create_bonds : bool
        Show the graph's edges as bonds (replacing any bonds of the input).
    """

    k = Int(2, label="Nearest neighbours (k)")
    definition = Enum(*DEFINITIONS, label="Graph definition")
    window = Float(0.0, label="Window side (0: whole frame)")
    create_bonds = Bool(True, label="Show the edges as bonds")
    bonds_vis = _bonds_vis()

    def modify(self, data: DataCollection, *, frame: int, **kwargs: Any) -> None:
        snapshot, members = self.as_frame(data, frame), None
        if self.window:
            snapshot, members = window_members(snapshot, self.window)
        result = b_neighbor_metrics(snapshot, self.k, self.definition)
        _write_graph(data, "BNeighbor", "", result, members)
        if self.create_bonds:
            _write_bonds(data, result.edges if members is None else members[result.edges], self.bonds_vis)


class AttentionModifier(_GlassModifier):
    """The D-MPNN's attention on each kNN pair, and the metrics of its high-attention graph.

    Writes:

    ``GlassML.Attention.*`` (global attributes)
        The high-attention graph's counts, named as ``GlassML.BNeighbor.*``, and
        ``isolated_b_per_particle``, ``fraction_high`` (the fraction of directed
        edges above the cut) and ``cut`` (the numeric cut), as
        :class:`~mda_glassml.analysis.AttentionGraphMetrics` has them.
    ``Attention Component``, ``Attention Isolated`` (particle properties, int)
        As ``Component`` and ``Isolated`` of :class:`BNeighborModifier`.
    Bonds, with the bond properties ``Attention`` (float) and ``High attention`` (int)
        One bond per undirected kNN pair of the model's graph: the larger of
        its two directions' rescaled weights (0.1 .. 4.1), and 1 if the pair
        is in the high-attention graph.

    Parameters
    ----------
    model : str
        A D-MPNN built with attention: ``"ka2d-dmpnn-paper"`` (default: the paper's task and
        k = 2, on which the paper read its attention) or a bundle path.
    a_type, b_type : str
        As for :class:`GlassClassifierModifier`.
    cut : {"paper", "trough", "value"}
        Which rescaled weights count as high (:func:`~mda_glassml.attention.attention_graph`):
        the original code's 0.11, the trough of this frame's weights (one window's weights
        rarely have one: an error says so; pool frames with ``AttentionGraphMetrics`` or
        :func:`~mda_glassml.attention.trough_cut` and give the number), or ``cut_value``.
    cut_value : float
        The cut with ``cut="value"`` (a rescaled weight, 0.1 .. 4.1).
    window : float
        0: the whole frame. > 0: a square window of this side at the box centre, the
        input the model learnt its attention on (12 for the shipped models; a whole
        frame, rescaled by the range of its most extreme edges, is not what the model
        learnt on, and a warning says so). Particles outside it get -1 in both properties and no bonds.
    create_bonds : bool
        Create a bond for every kNN pair (replacing any bonds of the input).
    """

    model = Str("ka2d-dmpnn-paper", label="Model (name or model.pt path)")
    window = Float(0.0, label="Window side (0: whole frame; 12 for the shipped models)")
    cut = Enum("paper", "trough", "value", label="High-attention cut")
    cut_value = Float(PAPER_CUT, label="Cut value (with cut = value)")
    create_bonds = Bool(True, label="Show the kNN pairs as bonds")
    bonds_vis = _bonds_vis()

    def modify(self, data: DataCollection, *, frame: int, **kwargs: Any) -> None:
        snapshot = self.as_frame(data, frame)
        members = None
        if self.window:
            snapshot, members = window_members(snapshot, self.window)
        classifier = cached_classifier(self.model)
        edge_index, weights = classifier.attention(snapshot)
        # the columns AttentionGraphMetrics has (the cut resolved once: a trough is computed here only)
        row = attention_metrics_table([(edge_index, weights, snapshot.types)],
                                      self.cut_value if self.cut == "value" else self.cut)
        result = attention_graph(edge_index, weights, snapshot.types, cut=float(row["cut"][0]))
        _write_graph(data, "Attention", "Attention ", result, members)
        for key in ("isolated_b_per_particle", "fraction_high", "cut"):
            data.attributes[f"{PREFIX}.Attention.{key}"] = float(row[key][0])
        if self.create_bonds:
            n = snapshot.n_particles
            pairs, attention = _pair_maximum(edge_index, rescale_weights(weights), n)
            high = np.isin(pairs[:, 0] * n + pairs[:, 1], result.edges[:, 0] * n + result.edges[:, 1])
            _write_bonds(data, pairs if members is None else members[pairs], self.bonds_vis,
                         {"Attention": attention, "High attention": high.astype(np.int32)})


def _write_graph(data: DataCollection, group: str, prefix: str, result: BNeighborResult,
                 members: np.ndarray | None = None) -> None:
    """A graph's counts as global attributes, its components and isolated particles as properties.

    ``members``: the particles (indices into ``data``) a window's graph is of; the others get -1.
    """
    for key, value in result.counts().items():
        data.attributes[f"{PREFIX}.{group}.{key}"] = value
    particles = data.particles_
    for name, values in (("Component", result.component), ("Isolated", result.isolated)):
        values = np.asarray(values, dtype=np.int32)
        if members is not None:
            full = np.full(particles.count, -1, dtype=np.int32)
            full[members] = values
            values = full
        particles.create_property(f"{prefix}{name}", data=values)


def _write_bonds(data: DataCollection, pairs: np.ndarray, vis: Any, properties: dict[str, Any] | None = None) -> None:
    """Replace the particles' bonds by ``pairs`` (minimum image across the periodic cell)."""
    particles = data.particles_
    particles.bonds = None
    bonds = particles.create_bonds(count=len(pairs), vis=vis)
    bonds.create_property("Topology", data=pairs)
    if len(pairs):
        # delta_vector's n moves the second particle onto the first's image (r_b' = r_b - H n); a bond's
        # Periodic Image is the opposite shift (bond vector r_b - r_a + H n), as CreateBondsModifier writes.
        _, shift = particles.delta_vector(pairs[:, 0], pairs[:, 1], data.cell, return_pbcvec=True)
        bonds.create_property("Periodic Image", data=-shift)
    for name, values in (properties or {}).items():
        bonds.create_property(name, data=values)


def _pair_maximum(edge_index: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Undirected pairs (M, 2), ``i < j``, sorted, of directed edges, and the larger value of each pair's edges."""
    source, target = np.asarray(edge_index, dtype=np.int64)
    keys, pair = np.unique(np.minimum(source, target) * n + np.maximum(source, target), return_inverse=True)
    largest = np.full(keys.size, -np.inf)
    np.maximum.at(largest, pair, values)
    return np.column_stack([keys // n, keys % n]), largest
