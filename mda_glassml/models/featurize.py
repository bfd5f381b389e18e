"""Frames as graphs for the D-MPNN: nodes, directed edges and their features.

Every particle is a node. Each particle is joined to its ``k`` nearest
neighbours (freud, minimum image in a periodic frame, plain distances in a
window); the union of these pairs, each pair as two directed edges, is the
graph. The edges are laid out so that the reverse of edge ``e`` is ``rev[e]``
(what the D-MPNN needs to exclude a message's own reverse).

Two named featurisations:

``"invariant"`` (default)
    node: one-hot type (A, B); edge: the distance, or its expansion in
    ``n_rbf`` Gaussian radial basis functions. Nothing depends on where the
    particles are, so the model's output does not change under rotations,
    translations, periodic re-wrapping or permutations of particles.
``"paper"``
    node: x, y (relative to the window's centre, in units of the window
    side, as the paper's scaled coordinates) and the one-hot type; edge: the
    distance. Not invariant under rotations or translations (the paper's
    choice, kept to reproduce it).

Examples
--------
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.models.featurize import Featurizer
>>> frame = Frame.from_arrays([[0, 0], [1, 0], [3, 0], [0, 2]], ["A", "B", "A", "A"], box=[8, 8])
>>> graph = Featurizer(k=1).graph(frame)
>>> graph.num_nodes, graph.num_edges          # pairs (0,1), (1,2), (0,3), both ways
(4, 6)
>>> graph.edge_index[:, graph.rev_index].tolist() == graph.edge_index.flip(0).tolist()
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch_geometric.data import Data

from ..errors import InputError
from ..frames import Frame, check_k
from ..graphs import distances64, knn, lay_apart, undirected

__all__ = ["MODES", "Featurizer", "GlassGraph"]

#: The named featurisations.
MODES = ("invariant", "paper")


class GlassGraph(Data):
    """A PyG ``Data`` whose ``rev_index`` (reverse edge of each edge) batches correctly.

    Attributes: ``x`` (nodes × node features), ``edge_index`` (2 × E),
    ``edge_attr`` (E × edge features), ``rev_index`` (E,), ``types`` (N,),
    ``distance`` (E,: each edge's length; every particle's nearest neighbour
    is an edge, so its minimum is the closest pair of the frame), optionally
    ``y`` (label, 1 = glass).
    """

    def __inc__(self, key: str, value: Any, *args, **kwargs) -> Any:
        # Edge indices of the next graph in a batch start after this graph's edges.
        if key == "rev_index":
            return self.edge_index.size(1)
        return super().__inc__(key, value, *args, **kwargs)


@dataclass(frozen=True)
class Featurizer:
    """How frames become graphs; saved with every model so inference matches training.

    Parameters
    ----------
    mode : {"invariant", "paper"}
        See the module docstring.
    k : int
        Nearest neighbours per particle (the paper's K, 1–5).
    n_rbf : int
        0: the edge feature is the distance itself. > 0: the distance
        expanded in this many Gaussians centred on ``[0, rbf_cutoff]``
        (``"invariant"`` only).
    rbf_cutoff : float
        Largest RBF centre, in length units.
    pair_energy : bool
        One more edge feature: the pair's Kob–Andersen LJ energy (its types'
        epsilon and sigma, truncated at 2.5 sigma, clipped to at most
        ``PAIR_ENERGY_CLIP``), so that the model sees what an inherent
        structure's energy is made of (``"invariant"`` only).
    """

    mode: str = "invariant"
    k: int = 2
    n_rbf: int = 0
    rbf_cutoff: float = 2.0
    pair_energy: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"unknown featurisation {self.mode!r}; choose one of {MODES}.")
        if int(self.k) != self.k or self.k < 1:
            raise InputError(f"k must be a positive integer, got {self.k!r}.")
        if int(self.n_rbf) != self.n_rbf or self.n_rbf < 0:
            raise InputError(f"n_rbf must be a non-negative integer, got {self.n_rbf!r}.")
        if self.n_rbf and self.mode != "invariant":
            raise InputError('radial basis functions (n_rbf > 0) go with mode="invariant" only.')
        if self.pair_energy and self.mode != "invariant":
            raise InputError('pair_energy goes with mode="invariant" only.')
        if not self.rbf_cutoff > 0:
            raise InputError(f"rbf_cutoff must be positive, got {self.rbf_cutoff!r}.")

    @property
    def node_dim(self) -> int:
        return 2 if self.mode == "invariant" else 4

    @property
    def edge_dim(self) -> int:
        return (self.n_rbf if self.n_rbf else 1) + bool(self.pair_energy)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Featurizer":
        return cls(**d)

    def graph(self, frame: Frame, label: float | None = None) -> GlassGraph:
        """The graph of one frame (a full periodic frame or a window).

        Raises
        ------
        InputError
            If the frame has too few particles for ``k`` neighbours (an empty
            or nearly empty window): make the window larger or ``k`` smaller.
        """
        src, dst, rev, dist = self.edges(frame)
        x = self.node_features(frame)
        edge_attr = self.edge_features_of(dist, frame.types, src, dst)
        data = GlassGraph(
            x=x,
            edge_index=torch.as_tensor(np.stack([src, dst])),
            edge_attr=edge_attr,
            rev_index=torch.as_tensor(rev),
            types=torch.as_tensor(frame.types.astype(np.int64)),
            distance=torch.as_tensor(dist),
        )
        if label is not None:
            data.y = torch.tensor([float(label)], dtype=torch.float32)
        return data

    def check_size(self, frame: Frame) -> None:
        """Refuse a frame (or window) with too few particles for k neighbours each."""
        n = frame.n_particles
        if n < self.k + 1:
            where = "window" if not frame.periodic else "frame"
            of = "" if frame.index is None else f" of frame {frame.index}"
            raise InputError(
                f"a {where}{of} with {n} particle(s) cannot have k={self.k} neighbours per particle: this "
                f"model's graphs need at least {self.k + 1} particles; use a larger window (or a model "
                "trained with a smaller k)."
            )

    def edges(self, frame: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The directed edges of ``frame``'s graph: ``src``, ``dst``, ``rev`` (int64) and distance (float32).

        Each undirected pair appears twice, the reverse of edge ``e`` is
        ``rev[e]``. The edges without their features: an O(N) graph even for
        millions of particles (see :mod:`mda_glassml.models.tiled`).

        Raises
        ------
        InputError
            If the frame has too few particles for ``k`` neighbours (an empty
            or nearly empty window): make the window larger or ``k`` smaller.
        """
        self.check_size(frame)
        check_k(self.k, frame.n_particles)
        return self._edges(frame)

    def _edges(self, frame: Frame, density: float | None = None) -> tuple[np.ndarray, ...]:
        i, j, _ = knn(frame, self.k, density=density)
        pairs = undirected(i, j, frame.n_particles)
        del i, j
        src = np.concatenate([pairs[:, 0], pairs[:, 1]])
        dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
        m = len(pairs)
        rev = np.concatenate([np.arange(m, 2 * m), np.arange(m)])
        # Minimum image in a periodic frame, plain in a window; in float64 (then rounded), so that a window
        # laid out far from the origin (lay_apart) has the distances it has on its own.
        half = distances64(frame, pairs[:, 0], pairs[:, 1]).astype(np.float32)
        return src, dst, rev, np.concatenate([half, half])

    def batch(self, frames: Sequence[Frame]) -> Any:
        """The graphs of ``frames`` as one PyG ``Batch`` (what the D-MPNN takes).

        Open windows are laid apart in one open frame
        (:func:`~mda_glassml.graphs.lay_apart`) and searched for neighbours
        together: the same graphs as one by one, with one neighbour query
        instead of one per window (100 windows of a frame: several times
        faster). Periodic frames are made one by one.
        """
        from torch_geometric.data import Batch  # noqa: PLC0415

        frames = list(frames)
        if len(frames) < 2 or any(f.periodic for f in frames):
            return Batch.from_data_list([self.graph(f) for f in frames])
        for f in frames:
            self.check_size(f)
        laid, starts = lay_apart(frames)
        counts = np.diff(starts)
        density = float(np.sum(counts) / sum(f.area for f in frames))
        src, dst, rev, dist = self._edges(laid, density)
        node_graph = np.repeat(np.arange(len(frames)), counts)
        return Batch(x=torch.cat([self.node_features(f) for f in frames]), edge_index=torch.as_tensor(np.stack([src, dst])),
                     edge_attr=self.edge_features_of(dist, laid.types, src, dst),
                     rev_index=torch.as_tensor(rev), distance=torch.as_tensor(dist),
                     types=torch.as_tensor(laid.types.astype(np.int64)), batch=torch.as_tensor(node_graph),
                     ptr=torch.as_tensor(starts))

    def node_features(self, frame: Frame) -> torch.Tensor:
        """Node features (N, node_dim) float32: one-hot type, after the scaled x, y in ``"paper"`` mode."""
        types = torch.as_tensor(frame.types.astype(np.int64))
        x = torch.nn.functional.one_hot(types, 2).to(torch.float32)
        if self.mode == "paper":
            side = np.float32(max(frame.box.Lx, frame.box.Ly))
            xy = torch.as_tensor(frame.positions / side, dtype=torch.float32)
            x = torch.cat([xy, x], dim=1)
        return x

    def edge_features_of(self, distance: Any, types: np.ndarray, src: np.ndarray, dst: np.ndarray) -> torch.Tensor:
        """Edge features of the edges ``src -> dst`` of particles of ``types``, their lengths ``distance``
        (pair types are worked out only where the pair energy needs them)."""
        pair = pair_types(types, src, dst) if self.pair_energy else None
        return self.edge_features(torch.as_tensor(distance), pair)

    def edge_features(self, distance: torch.Tensor, pair: Any = None) -> torch.Tensor:
        """Distance (E,) → edge features (E, edge_dim).

        ``pair`` (E,): 0, 1, 2 for A–A, A–B, B–B (:func:`pair_types`), needed with ``pair_energy``.
        """
        d = distance.reshape(-1, 1)
        if self.n_rbf:
            centers = torch.linspace(0.0, self.rbf_cutoff, self.n_rbf)
            width = self.rbf_cutoff / max(self.n_rbf - 1, 1)
            # Clamped at exp(-87), float32's smallest normal number: the far tails would be denormal, where
            # exp is ten times slower (half of the graph's features time); the features move by < 2e-38.
            out = torch.exp((((d - centers) / width) ** 2).neg_().clamp_(min=-87.0))
        else:
            out = d
        if not self.pair_energy:
            return out
        if pair is None:
            raise InputError("this featuriser gives pair energies: edge_features needs the pair types (pair_types).")
        eps, sig, cut = (torch.as_tensor(t, dtype=d.dtype)[torch.as_tensor(pair)].reshape(-1, 1) for t in _ka_pairs())
        x = (sig / d) ** 6
        energy = torch.where(d < cut, 4 * eps * (x * x - x), torch.zeros_like(d)).clamp(max=PAIR_ENERGY_CLIP)
        return torch.cat([out, energy], dim=1)


#: The largest pair energy given to the model (overlapping pairs would otherwise give 1e6).
PAIR_ENERGY_CLIP = 2.0


def pair_types(types: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """0, 1, 2 per edge for A–A, A–B, B–B."""
    return (types[src].astype(np.int64) + types[dst].astype(np.int64))


def _ka_pairs() -> tuple[list[float], list[float], list[float]]:
    """epsilon, sigma and cutoff of the A–A, A–B, B–B pairs of the Kob–Andersen model the campaigns simulate."""
    from ..potential import pair_table  # noqa: PLC0415

    # pair type 0, 1, 2 = type ids (0, 0), (0, 1), (1, 1)
    return tuple([float(t[0, 0]), float(t[0, 1]), float(t[1, 1])] for t in pair_table())
