"""Slow, obviously-correct references the fast code is checked against.

All-pairs minimum-image distances in float64 and networkx: nothing here
shares code with mda_glassml's graphs or metrics.
"""

from __future__ import annotations

import networkx as nx
import numpy as np


def random_mixture(n: int, side: float, seed: int, fraction_b: float = 0.35, tilt: float = 0.0):
    """Uniform random 2D positions in [0, side)^2 with shuffled A/B names."""
    rng = np.random.default_rng(seed)
    pos = rng.uniform(0, side, size=(n, 2))
    n_b = max(1, int(round(fraction_b * n)))
    names = np.array(["A"] * (n - n_b) + ["B"] * n_b)
    rng.shuffle(names)
    return pos, names


def min_image_distances(pos: np.ndarray, lx: float, ly: float, xy: float = 0.0) -> np.ndarray:
    """All-pairs minimum-image distances (N, N) of an orthorhombic or xy-tilted box, float64."""
    pos = np.asarray(pos, dtype=np.float64)
    d = pos[:, None, :] - pos[None, :, :]
    # Fractional y then x, as for a triclinic box with lattice vectors (lx, 0), (xy*ly, ly).
    sy = np.round(d[..., 1] / ly)
    d[..., 1] -= sy * ly
    d[..., 0] -= sy * xy * ly
    d[..., 0] -= np.round(d[..., 0] / lx) * lx
    return np.hypot(d[..., 0], d[..., 1])


def knn_lists(dist: np.ndarray, k: int) -> list[list[int]]:
    """The k nearest other particles of each particle."""
    d = dist.copy()
    np.fill_diagonal(d, np.inf)
    return [list(np.argsort(row, kind="stable")[:k]) for row in d]


def b_neighbor_reference(pos, names, box, k=2, definition="symmetric", b="B"):
    """(n_components, n_bb_edges, n_isolated_a, edge set) by brute force and networkx."""
    lx, ly = box
    is_b = np.asarray(names) == b
    nn = knn_lists(min_image_distances(pos, lx, ly), k)
    g = nx.Graph()
    for i, row in enumerate(nn):
        if definition == "directed" and not is_b[i]:
            continue
        for j in row:
            j = int(j)
            if definition == "symmetric" and not (is_b[i] or is_b[j]):
                continue
            g.add_edge(min(i, j), max(i, j))
    n_bb = sum(1 for i, j in g.edges if is_b[i] and is_b[j])
    isolated_a = sum(1 for i in range(len(names)) if not is_b[i] and i not in g)
    return nx.number_connected_components(g), n_bb, isolated_a, {tuple(sorted(e)) for e in g.edges}


def ka_force_norm(xyz: np.ndarray, typeid: np.ndarray, protocol) -> float:
    """2-norm of the whole force vector of the KA model (float64 all pairs, minimum image, unshifted LJ)."""
    length = protocol.box_length
    d = np.asarray(xyz, np.float64)[:, None, :2] - np.asarray(xyz, np.float64)[None, :, :2]
    d -= length * np.round(d / length)
    r2 = (d ** 2).sum(-1)
    np.fill_diagonal(r2, np.inf)
    eps, sigma, rc = (np.empty(r2.shape) for _ in range(3))
    names = protocol.model.types
    t = np.asarray(typeid)
    for (a, b), (e, s, c) in protocol.model.pairs().items():
        ia, ib = names.index(a), names.index(b)
        mask = ((t[:, None] == ia) & (t[None, :] == ib)) | ((t[:, None] == ib) & (t[None, :] == ia))
        eps[mask], sigma[mask], rc[mask] = e, s, c
    sr6 = (sigma ** 2 / r2) ** 3
    # -dV/dr / r for V = 4 eps (sr12 - sr6), zero beyond each pair's cutoff
    f_over_r = np.where(r2 < rc ** 2, 24 * eps * (2 * sr6 ** 2 - sr6) / r2, 0.0)
    forces = (f_over_r[..., None] * d).sum(axis=1)
    return float(np.linalg.norm(forces))


def dmpnn_reference(model, batch):
    """A D-MPNN's logits by a plain transcription of equations (4)-(11) (no fusion, no reuse)."""
    import torch  # noqa: PLC0415
    from torch_geometric.utils import scatter, softmax  # noqa: PLC0415

    x, (src, dst), rev = batch.x, batch.edge_index, batch.rev_index
    n, graph_of = x.size(0), batch.batch
    inp = model.W_i(torch.cat([x[src], batch.edge_attr], dim=1))
    h = torch.relu(inp)
    for _ in range(model.config.depth - 1):
        m = scatter(h, dst, dim=0, dim_size=n, reduce="sum")[src] - h[rev]
        h = torch.relu(inp + model.W_h(m))
        if model.config.attention:
            alpha = softmax(model.w_a(torch.relu(model.W_a(h))).squeeze(-1), graph_of[src])
            h = h * (alpha * torch.bincount(graph_of[src]).float()[graph_of[src]]).unsqueeze(-1)
    node = torch.relu(model.W_o(torch.cat([x, scatter(h, dst, dim=0, dim_size=n, reduce="sum")], dim=1)))
    return model.ffn(scatter(node, graph_of, dim=0, reduce=model.config.readout)).squeeze(-1)
