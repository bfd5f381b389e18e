"""The directed message passing network (D-MPNN) with edge self-attention.

Equations (3)–(11) of Swanson et al. (2020), after Yang et al. (chemprop).
Hidden states live on directed edges ``v -> w``:

- initial state (4): ``h0_vw = ReLU(W_i [x_v ; e_vw])``;
- message (5): ``m_vw = sum_{u in N(v), u != w} h_uv`` — the sum of the
  edges into ``v`` except the reverse edge ``w -> v``;
- update (6): ``h_vw = ReLU(W_i [x_v ; e_vw] + W_h m_vw)`` (the first term is
  the skip connection to the input), then dropout;
- attention (10)–(11), after each update: ``s_vw = w_a . ReLU(W_a h_vw)``,
  ``alpha = softmax(s)`` **over the edges of each graph** (the original code
  took it over a whole batch, so one graph's output depended on the others),
  and ``h_vw <- E_g * alpha_vw * h_vw``. The factor ``E_g`` (the graph's
  number of edges) keeps the states' scale independent of the graph's size,
  so a model trained on windows applies to full frames; the reported
  ``alpha`` still sums to 1 per graph;
- node readout (7): ``h_v = ReLU(W_o [x_v ; sum_{u in N(v)} h_uv])``;
- graph readout (8): the sum over nodes (``readout="sum"``, the paper) or the
  mean (``"mean"``, a graph-size-free alternative);
- prediction (9): a feed-forward network with ReLU and dropout at each layer
  giving one logit (P(glass) = sigmoid(logit)).

``depth`` counts the states ``h0 .. h(depth-1)``: ``depth - 1`` message
passing updates, chemprop's convention.

All per-edge and per-graph work is batched (gathers, PyG scatters and a
per-graph softmax): there is no Python loop over graphs or edges.

Examples
--------
>>> import torch
>>> from torch_geometric.data import Batch
>>> from mda_glassml.frames import Frame
>>> from mda_glassml.models.featurize import Featurizer
>>> from mda_glassml.models.dmpnn import DMPNN
>>> feat = Featurizer(k=2)
>>> frame = Frame.from_arrays([[0, 0], [1, 0], [3, 0], [0, 2], [2, 2]], list("ABAAB"), box=[6, 6])
>>> model = DMPNN(feat.node_dim, feat.edge_dim, hidden=16, depth=3).eval()
>>> batch = Batch.from_data_list([feat.graph(frame)])
>>> model(batch).shape
torch.Size([1])
>>> alpha = model.attention_weights(batch)      # one weight per directed edge
>>> round(float(alpha.sum()), 5)
1.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch_geometric.utils import scatter, softmax

from ..errors import InputError
from .compiled import CompiledSteps

__all__ = ["DMPNN", "DMPNNConfig", "READOUTS"]

READOUTS = ("sum", "mean")


@dataclass(frozen=True)
class DMPNNConfig:
    """Architecture hyperparameters (the paper's Table 2 names in brackets)."""

    node_dim: int
    edge_dim: int
    hidden: int = 300  # [h]
    depth: int = 3  # [T]
    dropout: float = 0.0  # [p]
    ffn_layers: int = 2  # [F]
    ffn_hidden: int | None = None  # default: hidden
    attention: bool = True
    readout: str = "sum"

    def __post_init__(self) -> None:
        for name in ("node_dim", "edge_dim", "hidden", "depth", "ffn_layers"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise InputError(f"DMPNN {name} must be a positive integer, got {value!r}.")
        if not 0.0 <= self.dropout < 1.0:
            raise InputError(f"dropout must lie in [0, 1), got {self.dropout!r}.")
        if self.readout not in READOUTS:
            raise InputError(f"unknown readout {self.readout!r}; choose one of {READOUTS}.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DMPNN(CompiledSteps, nn.Module):
    """D-MPNN with per-graph edge self-attention; ``forward(batch)`` gives one logit per graph.

    The input is a PyG ``Batch`` of :class:`~mda_glassml.models.featurize.GlassGraph`
    (``x``, ``edge_index``, ``edge_attr``, ``rev_index``, ``batch``).

    Parameters
    ----------
    node_dim, edge_dim : int
        Feature sizes (from :class:`~mda_glassml.models.featurize.Featurizer`).
    **kwargs
        ``hidden``, ``depth``, ``dropout``, ``ffn_layers``, ``ffn_hidden``,
        ``attention``, ``readout``: see :class:`DMPNNConfig`.
    """

    def __init__(self, node_dim: int, edge_dim: int, **kwargs: Any) -> None:
        super().__init__()
        self.config = cfg = DMPNNConfig(node_dim=node_dim, edge_dim=edge_dim, **kwargs)
        h = cfg.hidden
        self.W_i = nn.Linear(node_dim + edge_dim, h, bias=False)
        self.W_h = nn.Linear(h, h, bias=False)
        self.W_o = nn.Linear(node_dim + h, h)
        if cfg.attention:
            self.W_a = nn.Linear(h, h, bias=False)
            self.w_a = nn.Linear(h, 1)
        self.dropout = nn.Dropout(cfg.dropout)
        ffn_hidden = cfg.ffn_hidden or h
        layers: list[nn.Module] = []
        width = h
        for _ in range(cfg.ffn_layers - 1):
            layers += [nn.Dropout(cfg.dropout), nn.Linear(width, ffn_hidden), nn.ReLU()]
            width = ffn_hidden
        layers += [nn.Dropout(cfg.dropout), nn.Linear(width, 1)]
        self.ffn = nn.Sequential(*layers)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_normal_(p)
            else:
                nn.init.zeros_(p)
        # The output layer starts at zero (P(glass) = 1/2 for every input): with a summed
        # readout, random output weights start with logits of tens and a saturated loss.
        nn.init.zeros_(self.ffn[-1].weight)

    # -- the named steps ---------------------------------------------------
    def message(self, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, rev: torch.Tensor,
                n_nodes: int) -> torch.Tensor:
        """(5): for edge v->w, the sum of states into v minus the reverse edge w->v."""
        into = scatter(h, dst, dim=0, dim_size=n_nodes, reduce="sum")
        # index_select, not h[idx]: the same rows, five times faster on CPU (torch 2.13); sub_ in place:
        # a gather's output is not needed for its backward
        return into.index_select(0, src).sub_(h.index_select(0, rev))

    def update(self, inp: torch.Tensor, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
               rev: torch.Tensor, n_nodes: int) -> torch.Tensor:
        """(5)–(6): the states after one message passing update (before attention); ``inp`` is (4) before its ReLU."""
        m = self.message(h, src, dst, rev, n_nodes)
        # (6), fused: inp + m W_h^T in one product, the ReLU in place (its input is not saved).
        return self.dropout(torch.relu_(torch.addmm(inp, m, self.W_h.weight.t())))

    def score(self, h: torch.Tensor) -> torch.Tensor:
        """(10): the attention score of each edge, ``w_a . ReLU(W_a h)``."""
        return self.w_a(torch.relu_(self.W_a(h))).squeeze(-1)

    def attend(self, h: torch.Tensor, edge_graph: torch.Tensor, n_graphs: int,
               n_edges: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(10)–(11) with a per-graph softmax; returns the new states and alpha.

        ``n_edges`` (edges per graph, per edge) is the same at every step: pass it to
        save a scatter per step.
        """
        score = self.score(h)
        # one graph (a whole frame): the plain softmax, a twentieth of PyG's segmented one
        alpha = torch.softmax(score, 0) if n_graphs == 1 else softmax(score, edge_graph, num_nodes=n_graphs)
        if n_edges is None:
            n_edges = _edges_per_graph(edge_graph, n_graphs)
        return h * (alpha * n_edges).unsqueeze(-1), alpha

    def edge_states(self, x: torch.Tensor, edge_attr: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
                    rev: torch.Tensor, attend: Any, steps: int | None = None) -> torch.Tensor:
        """(4)–(6) and the attention after each update: the edge states after ``steps`` updates.

        ``attend(step, h)`` returns the attended states of update ``step``
        (0-based); :meth:`encode` passes the per-graph softmax, the tiled
        inference of :mod:`mda_glassml.models.tiled` a softmax with a
        normaliser computed over the whole frame beforehand.
        """
        n_nodes = x.size(0)
        inp = self.W_i(torch.cat([x.index_select(0, src), edge_attr], dim=1))  # (4), before the ReLU
        h = torch.relu(inp)
        for step in range(self.config.depth - 1 if steps is None else steps):
            h = self.update(inp, h, src, dst, rev, n_nodes)
            if self.config.attention:
                h = attend(step, h)
        return h

    def compiled_step_names(self) -> tuple[str, ...]:
        """:meth:`compile_steps` compiles the per-edge steps, where the time goes: :meth:`update` and :meth:`score`.

        Compiled, they run as fused loops whose cost per particle no longer
        grows once a frame's edge tensors outgrow the CPU cache; the tiled
        inference of huge frames uses them too.
        """
        return ("update", "score") if self.config.attention else ("update",)

    def node_states(self, x: torch.Tensor, h: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        """(7): ``h_v = ReLU(W_o [x_v ; sum of the states into v])``."""
        return self.node_output(x, scatter(h, dst, dim=0, dim_size=x.size(0), reduce="sum"))

    def node_output(self, x: torch.Tensor, node_in: torch.Tensor) -> torch.Tensor:
        """(7) from the sums of the states into each node, ``node_in`` (N, hidden)."""
        return self.dropout(torch.relu(self.W_o(torch.cat([x, node_in], dim=1))))

    def encode(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Graph embeddings (n_graphs, hidden) and the last step's attention weights."""
        x, edge_index, rev = batch.x, batch.edge_index, batch.rev_index
        src, dst = edge_index[0], edge_index[1]
        n_nodes = x.size(0)
        if edge_index.size(1) == 0:
            raise InputError("a graph without edges cannot be classified (an empty window?).")
        node_graph = _node_graph(batch, n_nodes, x.device)
        n_graphs = int(batch.num_graphs) if hasattr(batch, "num_graphs") else 1
        edge_graph = node_graph.index_select(0, src)
        n_edges = _edges_per_graph(edge_graph, n_graphs)
        alphas: list[torch.Tensor] = []

        def attend(step: int, h: torch.Tensor) -> torch.Tensor:
            h, alpha = self.attend(h, edge_graph, n_graphs, n_edges)
            alphas.append(alpha)
            return h

        h = self.edge_states(x, batch.edge_attr, src, dst, rev, attend)
        node = self.node_states(x, h, dst)
        graph = scatter(node, node_graph, dim=0, dim_size=n_graphs, reduce=self.config.readout)  # (8)
        return graph, (alphas[-1] if alphas else None)

    def forward(self, batch: Any) -> torch.Tensor:
        """One logit per graph (9); ``torch.sigmoid`` of it is P(glass)."""
        graph, _ = self.encode(batch)
        return self.ffn(graph).squeeze(-1)

    @torch.no_grad()
    def attention_weights(self, batch: Any) -> torch.Tensor:
        """Per-edge attention weights of the last attended step (sum to 1 over each graph's edges)."""
        if not self.config.attention:
            raise InputError("this model was built with attention=False: it has no attention weights.")
        if self.config.depth < 2:
            raise InputError("depth 1 has no message passing step, hence no attention weights.")
        _, alpha = self.encode(batch)
        return alpha

    def attention_per_graph(self, batch: Any) -> list[tuple[Any, Any]]:
        """Per graph of ``batch``: its directed edges in local particle indices (2, E_g) and their weights.

        The form :func:`mda_glassml.attention.attention_graph` takes (numpy arrays).
        """
        alpha = self.attention_weights(batch).cpu()
        edge_index = batch.edge_index.cpu()
        node_graph = _node_graph(batch, batch.x.size(0), torch.device("cpu")).cpu()
        edge_graph = node_graph[edge_index[0]]
        first_node = torch.zeros(int(node_graph.max()) + 2, dtype=torch.long)
        first_node[1:] = torch.cumsum(torch.bincount(node_graph, minlength=int(node_graph.max()) + 1), 0)
        order = torch.argsort(edge_graph, stable=True)
        bounds = torch.cumsum(torch.bincount(edge_graph, minlength=len(first_node) - 1), 0).tolist()
        out, start = [], 0
        for g, stop in enumerate(bounds):
            idx = order[start:stop]
            out.append(((edge_index[:, idx] - first_node[g]).numpy(), alpha[idx].numpy()))
            start = stop
        return out


def _edges_per_graph(edge_graph: torch.Tensor, n_graphs: int) -> torch.Tensor:
    """The number of edges of each edge's graph, per edge (float)."""
    counts = torch.bincount(edge_graph, minlength=n_graphs).to(torch.get_default_dtype())
    return counts.index_select(0, edge_graph)


def _node_graph(batch: Any, n_nodes: int, device: torch.device) -> torch.Tensor:
    vector = getattr(batch, "batch", None)
    if vector is None:  # a single graph, not batched
        return torch.zeros(n_nodes, dtype=torch.long, device=device)
    return vector
