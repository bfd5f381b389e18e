"""Featurisation and the D-MPNN: graphs, invariances, batching, attention, gradients, bundles."""

import math

import numpy as np
import pytest
import torch
from reference import knn_lists, min_image_distances, random_mixture
from torch_geometric.data import Batch

from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.graphs import lay_apart, window
from mda_glassml.models.bundle import FORMAT_VERSION, load_bundle, save_bundle
from mda_glassml.models.dmpnn import DMPNN
from mda_glassml.models.featurize import Featurizer

SIDE = float(np.sqrt(300 / 1.2))


def frame_of(seed, n=300, side=SIDE):
    pos, names = random_mixture(n, side, seed)
    return Frame.from_arrays(pos, names, box=[side, side])


def model_for(feat, seed=0, **kw):
    torch.manual_seed(seed)
    kw.setdefault("hidden", 24)
    return DMPNN(feat.node_dim, feat.edge_dim, **kw).double().eval()


def logits(model, graphs):
    batch = Batch.from_data_list(list(graphs))
    batch.x, batch.edge_attr = batch.x.double(), batch.edge_attr.double()
    with torch.no_grad():
        return model(batch).numpy()


# -- featurisation ---------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 4])
def test_graph_is_union_of_knn_both_ways(k):
    frame = frame_of(1)
    g = Featurizer(k=k).graph(frame)
    dist = min_image_distances(frame.positions, SIDE, SIDE)
    expected = {(i, j) for i, nb in enumerate(knn_lists(dist, k)) for j in nb}
    expected |= {(j, i) for i, j in expected}
    got = list(map(tuple, g.edge_index.T.tolist()))
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == expected
    # rev_index is the reverse edge; distances are minimum-image ones.
    assert torch.equal(g.edge_index[:, g.rev_index], g.edge_index.flip(0))
    src, dst = g.edge_index.numpy()
    np.testing.assert_allclose(g.edge_attr[:, 0].numpy(), dist[src, dst], rtol=0, atol=2e-5)  # float32


def test_node_features_by_mode():
    frame = frame_of(2)
    inv = Featurizer().graph(frame)
    assert inv.x.shape == (300, 2) and torch.equal(inv.x.argmax(1), torch.as_tensor(frame.types, dtype=torch.long))
    pap = Featurizer(mode="paper").graph(frame)
    assert pap.x.shape == (300, 4)
    np.testing.assert_allclose(pap.x[:, :2].numpy(), frame.positions / SIDE, rtol=1e-6)
    rbf = Featurizer(n_rbf=8).graph(frame)
    assert rbf.edge_attr.shape == (inv.num_edges, 8) and float(rbf.edge_attr.max()) <= 1.0


def test_featurizer_bad_input():
    with pytest.raises(InputError, match="unknown featurisation"):
        Featurizer(mode="xyz")
    with pytest.raises(InputError, match="go with"):
        Featurizer(mode="paper", n_rbf=4)
    with pytest.raises(InputError, match="larger window"):
        Featurizer(k=2).graph(window(frame_of(3), 0.5, center=(1.0, 1.0)))


# -- invariances -----------------------------------------------------------
def test_invariant_under_rotation_of_a_window():
    feat = Featurizer(k=3, n_rbf=8)
    model = model_for(feat, depth=4)
    w = window(frame_of(4), 9.0, center=(2.0, -3.0))
    out = [logits(model, [feat.graph(w)])[0]]
    for angle in (0.3, 1.0, 2.5, math.pi / 2):
        c, s = math.cos(angle), math.sin(angle)
        pos = w.positions.astype(np.float64) @ np.array([[c, s], [-s, c]])
        rotated = Frame(pos.astype(np.float32), w.types, w.box, periodic=False)
        out.append(logits(model, [feat.graph(rotated)])[0])
    # Frames hold float32 coordinates: rotated copies differ in the 7th digit, hence relative 1e-5.
    np.testing.assert_allclose(out, out[0], rtol=1e-5, atol=1e-5)


def test_invariant_under_translation_rewrap_permutation_and_90_degrees():
    feat = Featurizer(k=2)
    model = model_for(feat, depth=3)
    frame = frame_of(5)
    ref = logits(model, [feat.graph(frame)])[0]
    pos = frame.positions.astype(np.float64)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(pos))
    names = np.array(["A", "B"])[frame.types]
    variants = [
        pos + [7.3, -2.1],  # translated (re-wrapped by the Frame)
        pos + [SIDE, -3 * SIDE],  # other periodic images
        pos[perm],  # permuted
        pos[:, ::-1] * [1, -1],  # rotated by 90 degrees
    ]
    for i, p in enumerate(variants):
        n = names[perm] if i == 2 else names
        got = logits(model, [feat.graph(Frame.from_arrays(p, n, box=[SIDE, SIDE]))])[0]
        assert abs(got - ref) <= 1e-5 * max(1.0, abs(ref)), i


# -- batching, attention, messages, gradients ------------------------------
def test_batch_independence_and_attention_per_graph():
    feat = Featurizer(k=2)
    model = model_for(feat)
    graphs = [feat.graph(window(frame_of(s), 8.0 + s)) for s in range(4)]
    alone = np.array([logits(model, [g])[0] for g in graphs])
    together = logits(model, graphs)
    np.testing.assert_allclose(together, alone, atol=1e-10)
    batch = Batch.from_data_list(graphs)
    batch.x, batch.edge_attr = batch.x.double(), batch.edge_attr.double()
    alpha = model.attention_weights(batch)
    per_graph = torch.zeros(4, dtype=alpha.dtype).index_add_(0, batch.batch[batch.edge_index[0]], alpha)
    np.testing.assert_allclose(per_graph.numpy(), 1.0, atol=1e-12)
    assert alpha.shape == (batch.num_edges,) and bool((alpha > 0).all())


@pytest.mark.parametrize("mode", ["invariant", "paper"])
def test_windows_batched_together_are_the_windows_one_by_one(mode):
    """Featurizer.batch lays open windows apart for one neighbour search: same graphs, same logits."""
    feat = Featurizer(k=4, mode=mode)
    model = model_for(feat)
    frame = frame_of(5, n=600, side=SIDE * math.sqrt(2))
    rng = np.random.default_rng(2)
    windows = [window(frame, side, c) for side, c in zip(rng.uniform(6, 12, 9), rng.uniform(-10, 10, (9, 2)))]
    # and a lattice window, every distance tied: ties must break by index as they do alone
    grid = np.stack(np.meshgrid(np.arange(8.0), np.arange(8.0)), -1).reshape(-1, 2)
    lattice = Frame.from_arrays(grid, np.where(np.arange(64) % 3, "A", "B"), box=[8, 8])
    windows.append(window(lattice, 6.0, (0.5, 0.5)))
    together = feat.batch(windows)
    alone = Batch.from_data_list([feat.graph(w) for w in windows])
    assert together.num_graphs == len(windows) and together.num_nodes == alone.num_nodes
    def edge_set(b):
        return {(int(i), int(j)) for i, j in b.edge_index.T}
    assert edge_set(together) == edge_set(alone)
    assert torch.equal(together.edge_index[:, together.rev_index], together.edge_index.flip(0))
    for b in (together, alone):
        b.x, b.edge_attr = b.x.double(), b.edge_attr.double()
    torch.testing.assert_close(together.x, alone.x)
    with torch.no_grad():
        np.testing.assert_allclose(model(together).numpy(), model(alone).numpy(), rtol=0, atol=1e-10)
    # a window too small for k neighbours is refused, as alone
    with pytest.raises(InputError, match="cannot have k=4"):
        feat.batch([windows[0], window(frame, 1.0)])
    with pytest.raises(InputError, match="open windows"):
        lay_apart([frame])


def test_pair_energy_feature_is_the_kob_andersen_pair_energy():
    from mda_glassml.baselines import potential_energy
    from mda_glassml.models.featurize import PAIR_ENERGY_CLIP

    frame = frame_of(3)
    feat = Featurizer(k=5, n_rbf=8, pair_energy=True)
    g = feat.graph(frame)
    assert feat.edge_dim == 9 == g.edge_attr.shape[1]
    src, dst = g.edge_index.numpy()
    r = min_image_distances(frame.positions, SIDE, SIDE)[src, dst]
    t = frame.types[src].astype(int) + frame.types[dst].astype(int)
    eps, sig = np.array([1.0, 1.5, 0.5])[t], np.array([1.0, 0.8, 0.88])[t]
    lj = np.where(r < 2.5 * sig, 4 * eps * ((sig / r) ** 12 - (sig / r) ** 6), 0.0)
    np.testing.assert_allclose(g.edge_attr[:, -1].numpy(), np.minimum(lj, PAIR_ENERGY_CLIP), rtol=1e-4, atol=1e-5)
    # with every pair inside the cutoff as an edge, the edges' energies sum to the configuration's energy
    # (a square lattice of spacing 1.1: 20 neighbours within 2.5, the next at 3.1)
    dense = Frame.from_arrays(np.stack(np.meshgrid(np.arange(8.0), np.arange(8.0)), -1).reshape(-1, 2) * 1.1,
                              list("AABAABAB" * 8), box=[8.8, 8.8])
    full = Featurizer(k=20, pair_energy=True).graph(dense)
    assert float(full.edge_attr[:, -1].sum()) / 2 / 64 == pytest.approx(potential_energy(dense), rel=1e-5)
    with pytest.raises(InputError, match="pair types"):
        feat.edge_features(torch.ones(3))
    with pytest.raises(InputError, match="invariant"):
        Featurizer(mode="paper", pair_energy=True)


def test_message_excludes_the_reverse_edge():
    feat = Featurizer(k=2)
    g = feat.graph(frame_of(6, n=20, side=4.0))
    model = model_for(feat)
    h = torch.randn(g.num_edges, 5, dtype=torch.float64)
    m = model.message(h, g.edge_index[0], g.edge_index[1], g.rev_index, g.num_nodes)
    src, dst = g.edge_index.tolist()
    for e, (v, w) in enumerate(zip(src, dst)):
        expected = sum(h[f] for f in range(g.num_edges) if dst[f] == v and src[f] != w)
        torch.testing.assert_close(m[e], expected)


def test_gradient_check():
    feat = Featurizer(k=2)
    model = model_for(feat, hidden=6, depth=3)
    g = feat.graph(frame_of(7, n=12, side=3.2))
    batch = Batch.from_data_list([g])
    batch.x = batch.x.double()
    edge_attr = batch.edge_attr.double().requires_grad_(True)

    def f(ea):
        batch.edge_attr = ea
        return model(batch)

    assert torch.autograd.gradcheck(f, (edge_attr,), eps=1e-6, atol=1e-5)


def test_attention_off_and_bad_configs():
    feat = Featurizer()
    with pytest.raises(InputError, match="attention=False"):
        model_for(feat, attention=False).attention_weights(Batch.from_data_list([feat.graph(frame_of(8))]))
    with pytest.raises(InputError, match="readout"):
        DMPNN(2, 1, readout="max")
    with pytest.raises(InputError, match="dropout"):
        DMPNN(2, 1, dropout=1.5)


# -- bundles ---------------------------------------------------------------
def test_bundle_round_trip_and_bad_files(tmp_path):
    feat = Featurizer(k=3, n_rbf=4)
    model = DMPNN(feat.node_dim, feat.edge_dim, hidden=16, depth=2, readout="mean").eval()
    path = tmp_path / "m.pt"
    save_bundle(path, model, feat, card={"auc": 0.9})
    b = load_bundle(path)
    g = Batch.from_data_list([feat.graph(frame_of(9))])
    with torch.no_grad():
        assert torch.equal(b.model(g), model(g))
    assert b.featurizer == feat and b.card == {"auc": 0.9} and b.model.config == model.config

    truncated = tmp_path / "cut.pt"
    truncated.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(InputError, match="not a readable model bundle"):
        load_bundle(truncated)
    with pytest.raises(InputError, match="no model bundle"):
        load_bundle(tmp_path / "missing.pt")

    payload = torch.load(path, weights_only=True)
    payload["format_version"] = FORMAT_VERSION + 1
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(InputError, match="format"):
        load_bundle(tmp_path / "future.pt")

    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not an mda_glassml model bundle"):
        load_bundle(tmp_path / "other.pt")


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_bundle_loading_never_unpickles_objects(tmp_path, capsys):
    torch.save({"format": "mda_glassml.model", "x": _Evil()}, tmp_path / "evil.pt")
    with pytest.raises(InputError, match="not a readable model bundle"):
        load_bundle(tmp_path / "evil.pt")
    assert "must never run" not in capsys.readouterr().out


def test_attention_per_graph_feeds_the_attention_graph():
    from mda_glassml.attention import attention_graph

    feat = Featurizer(k=2)
    model = model_for(feat)
    windows = [window(frame_of(s), 9.0) for s in range(3)]
    graphs = [feat.graph(w) for w in windows]
    batch = Batch.from_data_list(graphs)
    batch.x, batch.edge_attr = batch.x.double(), batch.edge_attr.double()
    per_graph = model.attention_per_graph(batch)
    assert len(per_graph) == 3
    for g, w, (edges, alpha) in zip(graphs, windows, per_graph):
        assert edges.tolist() == g.edge_index.tolist()  # local indices, the graph's own order
        assert abs(alpha.sum() - 1) < 1e-12
        with pytest.warns(UserWarning, match="keeps every edge"):  # rescaled weights are >= 0.1: every edge
            result = attention_graph(edges, alpha, w.types, cut=0.0)
        assert result.n_particles == w.n_particles and result.n_components >= 1
