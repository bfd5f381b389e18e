"""Exact tiled D-MPNN inference (mda_glassml.models.tiled) and the Classifier's use of it.

The whole-graph forward pass is the reference: float64 runs must agree to
rounding (1e-9), float32 runs to float noise (1e-6 in probability).
"""

import gsd.hoomd
import numpy as np
import pytest
import torch
from reference import dmpnn_reference
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from torch_geometric.data import Batch

from mda_glassml.classify import Classifier
from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.graphs import window
from mda_glassml.models.bundle import save_bundle
from mda_glassml.models.dmpnn import DMPNN
from mda_glassml.models.featurize import Featurizer, pair_types
from mda_glassml.models.tiled import TiledGraph, tiled_logit

FEAT = Featurizer(k=2, n_rbf=8, pair_energy=True)  # every edge feature, so every one is checked


@pytest.fixture(scope="module")
def glass():
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        return Frame.from_gsd(traj[-1])


def make_model(seed=0, dtype=torch.float64, **kw):
    torch.manual_seed(seed)
    model = DMPNN(FEAT.node_dim, FEAT.edge_dim, hidden=kw.pop("hidden", 12), **kw).eval()
    torch.nn.init.normal_(model.ffn[-1].weight)  # not the zero start: outputs must vary
    for p in model.parameters():  # biases start at zero: make them matter too
        if p.dim() == 1:
            torch.nn.init.normal_(p, std=0.1)
    return model.to(dtype)


def whole_and_tiled(model, frame, tile_nodes, dtype=torch.float64):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # edge features in the model's precision on both sides
    try:
        src, dst, rev, dist = FEAT.edges(frame)
        batch = Batch.from_data_list([FEAT.graph(frame)])
        batch.x = batch.x.to(dtype)
        batch.edge_attr = FEAT.edge_features(torch.as_tensor(dist), pair_types(frame.types, src, dst))
        with torch.inference_mode():
            whole = float(model(batch))
        graph = TiledGraph.from_frame(FEAT, frame, tile_nodes)
        graph.x = graph.x.to(dtype)
        return whole, float(tiled_logit(model, graph)), graph
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("kw", [dict(depth=3, readout="sum"), dict(depth=4, readout="mean"),
                                dict(depth=2, readout="sum", attention=False), dict(depth=1)])
def test_tiled_equals_whole_graph_in_float64(glass, kw):
    whole, tiled, graph = whole_and_tiled(make_model(**kw), glass, tile_nodes=500)
    assert len(graph.tiles) == 9
    assert tiled == pytest.approx(whole, rel=1e-9, abs=1e-9)


def test_readout_pass_equals_kept_node_sums(glass, monkeypatch):
    # Frames whose node sums would pass NODE_SUMS_BYTES take one more pass instead: the same result.
    import mda_glassml.models.tiled as tiled

    model = make_model(3, depth=3, readout="sum")
    whole, kept, _ = whole_and_tiled(model, glass, tile_nodes=500)
    monkeypatch.setattr(tiled, "NODE_SUMS_BYTES", 0)
    _, extra_pass, _ = whole_and_tiled(model, glass, tile_nodes=500)
    assert kept == pytest.approx(whole, rel=1e-9) and extra_pass == pytest.approx(whole, rel=1e-9)


def test_tiled_window_equals_whole_window(glass):
    frame = window(glass, 30.0, (5.0, -3.0))  # open boundaries: tiles from the particles' extent
    whole, tiled, graph = whole_and_tiled(make_model(1, depth=3, readout="sum"), frame, tile_nodes=150)
    assert len(graph.tiles) >= 6
    assert tiled == pytest.approx(whole, rel=1e-9)


def test_a_halo_one_hop_short_is_not_exact(glass, monkeypatch):
    # The test above would notice a wrong halo: one hop less changes the result.
    model = make_model(2, depth=3, readout="sum")
    whole, tiled, _ = whole_and_tiled(model, glass, tile_nodes=500)
    original = TiledGraph.tile
    monkeypatch.setattr(TiledGraph, "tile", lambda self, core, hops: original(self, core, hops - 1))
    _, short, _ = whole_and_tiled(model, glass, tile_nodes=500)
    assert tiled == pytest.approx(whole, rel=1e-9)
    assert abs(short - whole) > 1e-6 * abs(whole)


def test_halo_is_the_breadth_first_neighbourhood_and_tiles_partition(glass):
    graph = TiledGraph.from_frame(FEAT, glass, tile_nodes=700)
    cores = np.concatenate(graph.tiles)
    assert np.array_equal(np.sort(cores), np.arange(glass.n_particles))  # every particle in one core
    adjacency = csr_matrix((np.ones(graph.n_edges), (graph.src, graph.dst)), shape=(glass.n_particles,) * 2)
    core = graph.tiles[4]
    hops = shortest_path(adjacency, unweighted=True, indices=core).min(axis=0)
    nodes, _ = graph.halo(core, 3)
    assert np.array_equal(np.sort(nodes), np.flatnonzero(hops <= 3))
    assert np.array_equal(nodes[:core.size], core)  # the core first
    t = graph.tile(core, 3)
    assert t.x.size(0) < glass.n_particles / 3  # a tile, not the frame
    assert torch.equal(t.src[t.rev], t.dst) and torch.equal(t.dst[t.rev], t.src)


def test_fused_layers_equal_the_paper_equations(glass):
    # The forward pass (fused products, in-place ReLUs) against a plain transcription of (4)-(11).
    batch = Batch.from_data_list([FEAT.graph(glass), FEAT.graph(window(glass, 20.0))])
    for kw in (dict(depth=3, readout="sum"), dict(depth=4, readout="mean", attention=False)):
        model = make_model(3, dtype=torch.float32, **kw)
        with torch.inference_mode():
            np.testing.assert_allclose(model(batch).numpy(), dmpnn_reference(model, batch).numpy(), rtol=2e-6)


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "dmpnn.pt"
    save_bundle(path, make_model(5, dtype=torch.float32, depth=3, readout="mean"), FEAT,
                card={"data": {"density": 1.2, "box_side": 60.0}})
    return str(path)


def test_classifier_tiles_frames_above_tile_nodes(glass, bundle_path, monkeypatch):
    frames = [glass, window(glass, 40.0)]
    whole = Classifier(bundle_path).probabilities(frames)
    calls = []
    monkeypatch.setattr(TiledGraph, "tile", lambda self, core, hops, _t=TiledGraph.tile: calls.append(1)
                        or _t(self, core, hops))
    tiled = Classifier(bundle_path, tile_nodes=600).probabilities(frames)
    assert calls  # the bounded path ran
    np.testing.assert_allclose(tiled, whole, atol=1e-6)
    assert np.ptp(whole) > 1e-3


def test_tile_nodes_checked(bundle_path):
    with pytest.raises(InputError, match="tile_nodes"):
        Classifier(bundle_path, tile_nodes=0)
