"""Exact D-MPNN inference on huge frames in bounded memory: spatial tiles with graph halos.

A 10⁶-particle frame has about 3·10⁶ directed edges; at ``hidden = 300``
one edge-state tensor is 3.4 GB, and message passing holds several. The
graph itself (edge indices and distances, no features) is only about 30
bytes an edge. So the graph is built once for the whole frame, and the
network runs on **tiles**: the particles of a square cell of a spatial grid
(the *core*) plus a *halo* of the particles within a given number of graph
hops of it, with every edge between them (the induced subgraph).

Why a halo of ``depth`` hops is exact
    The graph is symmetric, so a particle whose every neighbour is in the
    subgraph has all its edges there. Within ``r`` hops of the core,
    ``h_0`` (input features only) is exact on every edge; the sum of the
    states into ``v`` after update ``t`` is exact when ``v`` lies within
    ``r - t - 1`` hops; hence ``h_t(v -> w)`` is exact for ``v`` within
    ``r - t`` hops, and the node readout of a core particle, which sums the
    states ``h_{depth-1}`` into it, needs ``r = depth``. The hops are
    counted on the graph (breadth-first search), not guessed as a length.

Why several passes
    The attention softmax normalises over the *whole* graph, and the
    attended states feed the next update through a ReLU: update ``t + 1``
    needs the global normaliser of update ``t``. So there is one pass per
    attended update ``t`` but the last (halo ``t + 1``), accumulating the
    log-sum-exp of its scores over the edges leaving each core; earlier
    updates are recomputed in the tile with the normalisers already known.
    The last pass (halo ``depth``) runs every update, accumulates the last
    normaliser and keeps, per core particle, the sum of the unnormalised
    attended states into it, ``sum_e exp(s_e - m) h_e`` (``m`` the tile's
    largest score): the normaliser is one number for the whole frame, so
    once it is known these sums are scaled, and the node readout (7) and the
    graph readout (sum or mean, in float64) follow without recomputing any
    tile. That keeps a (particles x hidden) array, about 125 MB at 10⁶
    particles and ``hidden = 32``; above :data:`NODE_SUMS_BYTES` the last
    pass only normalises and one more pass computes the readout. The
    result equals :meth:`DMPNN.forward` on the whole graph to
    floating-point noise; for ``depth = 3`` the cost is about 1.5 times the
    unblocked cost (a few percent more for the halos; 2.5 times with the
    extra pass), and the peak memory grows with ``tile_nodes``, not with
    the frame, beside those sums.

Examples
--------
>>> import gsd.hoomd, torch
>>> from torch_geometric.data import Batch
>>> from mda_glassml.data import EXAMPLE_TRAJECTORY
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.models.featurize import Featurizer
>>> from mda_glassml.models.dmpnn import DMPNN
>>> from mda_glassml.models.tiled import TiledGraph, tiled_logit
>>> with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
...     frame = Frame.from_gsd(traj[-1])
>>> feat = Featurizer(k=2)
>>> _ = torch.manual_seed(0)
>>> model = DMPNN(feat.node_dim, feat.edge_dim, hidden=16, readout="mean").eval()
>>> _ = torch.nn.init.normal_(model.ffn[-1].weight)
>>> graph = TiledGraph.from_frame(feat, frame, tile_nodes=1000)
>>> len(graph.tiles)
9
>>> whole = float(model(Batch.from_data_list([feat.graph(frame)])))
>>> abs(float(tiled_logit(model, graph)) - whole) < 1e-5
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch_geometric.utils import scatter

from ..errors import InputError
from ..frames import Frame

__all__ = ["DEFAULT_TILE_NODES", "TiledGraph", "Tile", "tiled_logit", "tiled_embedding"]

#: Core particles per tile by default: about 0.3 GB of activations at ``hidden = 300``.
DEFAULT_TILE_NODES = 16384
#: Largest (particles x hidden) float32 array of node sums kept between tiles (see the module docstring).
NODE_SUMS_BYTES = 512 * 2**20


class Tile(NamedTuple):
    """One tile's induced subgraph, in local indices; the core's particles come first."""

    x: torch.Tensor  # (n, node_dim)
    edge_attr: torch.Tensor  # (e, edge_dim)
    src: torch.Tensor
    dst: torch.Tensor
    rev: torch.Tensor
    n_core: int  # local particles 0 .. n_core - 1 are the core

    def to(self, device: torch.device) -> "Tile":
        return self._replace(**{f: getattr(self, f).to(device) for f in self._fields if f != "n_core"})


@dataclass
class TiledGraph:
    """A frame's D-MPNN graph without edge features, and its spatial tiles.

    Edges are sorted by source (a CSR layout: the edges leaving ``v`` are
    ``indptr[v]:indptr[v + 1]``), with ``rev`` renumbered to match.

    Build it with :meth:`from_frame`.
    """

    featurizer: Any
    x: torch.Tensor
    src: np.ndarray
    dst: np.ndarray
    rev: np.ndarray
    distance: np.ndarray
    indptr: np.ndarray
    tiles: list[np.ndarray]
    types: np.ndarray  # (N,) 0 = A, 1 = B

    @classmethod
    def from_frame(cls, featurizer: Any, frame: Frame, tile_nodes: int = DEFAULT_TILE_NODES) -> "TiledGraph":
        """The graph of ``frame`` (see :meth:`Featurizer.edges`) and a grid of tiles of about ``tile_nodes`` particles."""
        tile_nodes = check_tile_nodes(tile_nodes)
        src, dst, rev, distance = featurizer.edges(frame)
        order = np.argsort(src, kind="stable")
        position = np.empty_like(order)
        position[order] = np.arange(order.size)
        src, dst, distance = src[order], dst[order], distance[order]
        rev = position[rev[order]]
        del order, position
        n = frame.n_particles
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        return cls(featurizer, featurizer.node_features(frame), src, dst, rev, distance, indptr,
                   _grid_tiles(frame, tile_nodes), frame.types)

    @property
    def n_nodes(self) -> int:
        return int(self.x.size(0))

    @property
    def n_edges(self) -> int:
        return int(self.src.size)

    def _out_edges(self, nodes: np.ndarray) -> np.ndarray:
        """Ids of the edges leaving ``nodes`` (concatenated CSR ranges)."""
        starts, stops = self.indptr[nodes], self.indptr[nodes + 1]
        lengths = stops - starts
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        return offsets + np.arange(int(lengths.sum()))

    def halo(self, core: np.ndarray, hops: int) -> tuple[np.ndarray, np.ndarray]:
        """The particles within ``hops`` graph hops of ``core`` (core first), and a mask of them over the frame."""
        inside = np.zeros(self.n_nodes, dtype=bool)
        inside[core] = True
        layers, frontier = [core], core
        for _ in range(hops):
            reached = self.dst[self._out_edges(frontier)]
            frontier = np.unique(reached[~inside[reached]])
            inside[frontier] = True
            layers.append(frontier)
        return np.concatenate(layers), inside

    def tile(self, core: np.ndarray, hops: int) -> Tile:
        """The induced subgraph on ``core`` and its ``hops``-hop halo, with edge features."""
        nodes, inside = self.halo(core, hops)
        edges = self._out_edges(nodes)
        edges = edges[inside[self.dst[edges]]]
        local = np.empty(self.n_nodes, dtype=np.int64)
        local[nodes] = np.arange(nodes.size)
        # The reverse of an edge inside the subgraph is inside too (both ends are).
        local_edge = np.empty(self.n_edges, dtype=np.int64)
        local_edge[edges] = np.arange(edges.size)
        as_tensor = torch.from_numpy
        return Tile(
            x=self.x[as_tensor(nodes)],
            edge_attr=self.featurizer.edge_features_of(self.distance[edges], self.types, self.src[edges],
                                                       self.dst[edges]),
            src=as_tensor(local[self.src[edges]]),
            dst=as_tensor(local[self.dst[edges]]),
            rev=as_tensor(local_edge[self.rev[edges]]),
            n_core=int(core.size),
        )


def check_tile_nodes(tile_nodes: Any) -> int:
    """``tile_nodes`` as a positive int, or an InputError."""
    if isinstance(tile_nodes, bool) or int(tile_nodes) != tile_nodes or tile_nodes < 1:
        raise InputError(f"tile_nodes (particles per tile) must be a positive integer, got {tile_nodes!r}.")
    return int(tile_nodes)


def _grid_tiles(frame: Frame, tile_nodes: int) -> list[np.ndarray]:
    """Particles binned on a square grid of cells holding about ``tile_nodes`` each; empty cells dropped."""
    n = frame.n_particles
    side = max(1, math.ceil(math.sqrt(n / tile_nodes)))
    if frame.periodic:
        frac = np.mod(frame.box.make_fractional(frame.points3d)[:, :2], 1.0)
    else:
        pos = frame.positions.astype(np.float64)
        lo, span = pos.min(axis=0), np.ptp(pos, axis=0)
        frac = (pos - lo) / np.where(span > 0, span, 1.0)
    cell = np.minimum((frac * side).astype(np.int64), side - 1)
    key = cell[:, 0] * side + cell[:, 1]
    order = np.argsort(key, kind="stable")
    bounds = np.cumsum(np.bincount(key, minlength=side * side))[:-1]
    return [t for t in np.split(order, bounds) if t.size]


@torch.inference_mode()
def tiled_embedding(model: Any, graph: TiledGraph) -> torch.Tensor:
    """The graph embedding (hidden,) of :meth:`DMPNN.encode`, computed tile by tile (see the module docstring).

    Tiles are built on the CPU and moved to the model's device one at a time.
    """
    cfg = model.config
    device = next(model.parameters()).device
    steps = cfg.depth - 1
    if graph.n_edges == 0:
        raise InputError("a graph without edges cannot be classified (an empty window?).")
    log_norm: list[float] = []  # log of sum_e exp(score_e) over the frame, per attended update
    n_edges = torch.tensor(float(graph.n_edges), device=device)

    def attend_known(step: int, h: torch.Tensor) -> torch.Tensor:
        alpha = torch.exp(model.score(h).double() - log_norm[step]).to(h.dtype)
        return h * (alpha * n_edges).unsqueeze(-1)

    # Keep the last update's node sums (no readout pass) if they fit; see the module docstring.
    keep_sums = cfg.attention and steps > 0 and graph.n_nodes * cfg.hidden * 4 <= NODE_SUMS_BYTES
    for target in range(steps - keep_sums if cfg.attention else 0):
        total = torch.tensor(-math.inf, dtype=torch.float64, device=device)
        for core in graph.tiles:
            t = graph.tile(core, hops=target + 1).to(device)
            scores: list[torch.Tensor] = []

            def attend(step: int, h: torch.Tensor) -> torch.Tensor:
                if step < target:
                    return attend_known(step, h)
                scores.append(model.score(h[t.src < t.n_core]))  # each edge once: the tile of its source
                return h

            model.edge_states(t.x, t.edge_attr, t.src, t.dst, t.rev, attend, steps=target + 1)
            total = torch.logaddexp(total, torch.logsumexp(scores[0].double(), 0))
        log_norm.append(float(total))

    readout = torch.zeros(cfg.hidden, dtype=torch.float64, device=device)
    if keep_sums:
        total = torch.tensor(-math.inf, dtype=torch.float64, device=device)
        sums: list[tuple[torch.Tensor, torch.Tensor, float]] = []
        for core in graph.tiles:
            t = graph.tile(core, hops=cfg.depth).to(device)
            h = model.edge_states(t.x, t.edge_attr, t.src, t.dst, t.rev,
                                  lambda step, h: attend_known(step, h) if step < steps - 1 else h)
            score = model.score(h)
            total = torch.logaddexp(total, torch.logsumexp(score[t.src < t.n_core].double(), 0))
            into = t.dst < t.n_core
            top = float(score[into].max())
            weighted = h[into] * torch.exp(score[into] - top).unsqueeze(-1)
            node_sum = scatter(weighted, t.dst[into], dim=0, dim_size=t.n_core, reduce="sum")
            sums.append((t.x[:t.n_core], node_sum, top))
        for x, node_sum, top in sums:
            scale = float(n_edges) * math.exp(top - float(total))  # E * alpha = E * exp(s - m) * exp(m - log Z)
            readout += model.node_output(x, node_sum * scale).sum(0, dtype=torch.float64)
    else:
        for core in graph.tiles:
            t = graph.tile(core, hops=cfg.depth).to(device)
            h = model.edge_states(t.x, t.edge_attr, t.src, t.dst, t.rev, attend_known)
            readout += model.node_states(t.x, h, t.dst)[:t.n_core].sum(0, dtype=torch.float64)
    if cfg.readout == "mean":
        readout /= graph.n_nodes
    return readout.to(torch.get_default_dtype())


def tiled_logit(model: Any, graph: TiledGraph) -> torch.Tensor:
    """The logit (a 0-d tensor) of :meth:`DMPNN.forward` for one frame, tile by tile."""
    with torch.inference_mode():
        return model.ffn(tiled_embedding(model, graph).unsqueeze(0)).squeeze()
