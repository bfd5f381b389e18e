"""Compiled inference (torch.compile through TorchInductor, the real compiler): the same numbers as eager.

Each model compiles once in this module (a few seconds with a warm disk cache, tens cold); the
frames are the bundled LAMMPS run's.
"""

import copy
import os
import pickle
import subprocess
import sys
import warnings

import gsd.hoomd
import numpy as np
import pytest
import torch
from torch._dynamo.utils import counters

from mda_glassml.classify import Classifier
from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.errors import InputError
from mda_glassml.frames import Frame
from mda_glassml.models.compiled import Compiled, CompileWarning
from mda_glassml.models.pretrained import load_model


@pytest.fixture(scope="module")
def frames():
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        return [Frame.from_gsd(traj[i]) for i in (0, 14, 20)]  # T = 2.0, about 0.4, 0.05


@pytest.fixture(scope="module")
def dmpnn_pair():
    return Classifier("ka2d-dmpnn"), Classifier("ka2d-dmpnn", compile=True)  # compiling waits for a first call


def test_compiled_dmpnn_equals_eager_whole_tiled_and_windows(dmpnn_pair, frames):
    eager, compiled = dmpnn_pair
    assert compiled.model.is_compiled and not eager.model.is_compiled
    torch._dynamo.reset()  # the counts below must not depend on what an earlier test compiled
    graphs = counters["stats"]["unique_graphs"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # compiling must work here, not fall back
        z_eager, z_compiled = eager.logits(frames), compiled.logits(frames)
        np.testing.assert_allclose(z_compiled, z_eager, rtol=1e-5, atol=1e-5)
        assert np.ptp(z_eager) > 1  # glass and liquid differ: a constant output would not be compared
        assert counters["stats"]["unique_graphs"] == graphs + 2  # update and score, compiled by TorchInductor
        # Huge frames go tile by tile through the same compiled steps: one recompile (a tile's dst is its
        # own tensor, a batch's a view), then none for other tile shapes.
        for tile_nodes in (1000, 1500):
            eager.tile_nodes = compiled.tile_nodes = tile_nodes
            np.testing.assert_allclose(compiled.logits(frames[-1:]), eager.logits(frames[-1:]), rtol=1e-5,
                                       atol=1e-5)
        assert counters["stats"]["unique_graphs"] == graphs + 3
        # sliding windows: many graphs a batch, the per-graph softmax; no recompile
        a, b = eager.window_map(frames[1], 12.0), compiled.window_map(frames[1], 12.0)
    np.testing.assert_allclose(b.local_probability, a.local_probability, atol=1e-5)
    assert counters["stats"]["unique_graphs"] == graphs + 3
    assert compiled.model.update.compiled is not None and compiled.model.score.compiled is not None


def test_compiling_leaves_the_callers_bundle_alone():
    bundle = load_model("ka2d-dmpnn")
    compiled = Classifier(bundle, compile=True)
    assert compiled.model.is_compiled and not bundle.model.is_compiled
    assert compiled.model.W_h.weight is bundle.model.W_h.weight  # the same weights, not a copy of them
    assert not Classifier(bundle).model.is_compiled


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_compiled_model_copies_compile_again_for_themselves(dmpnn_pair, frames, how):
    eager, compiled = dmpnn_pair
    # what a parallel worker receives
    model = pickle.loads(pickle.dumps(compiled.model)) if how == "pickle" else copy.deepcopy(compiled.model)
    assert model.is_compiled and isinstance(model.__dict__["update"], Compiled)
    assert model.update.eager.__self__ is model and model.score.eager.__self__ is model
    batch = eager._collate(frames[:1])
    with torch.inference_mode():
        np.testing.assert_allclose(model(batch).numpy(), eager.model(batch).numpy(), rtol=1e-5, atol=1e-5)
    assert not pickle.loads(pickle.dumps(eager.model)).is_compiled
    with pytest.raises(TypeError, match="does not pickle"):
        pickle.dumps(compiled.model.update)


def test_compiled_cnn_equals_eager(frames):
    eager, compiled = Classifier("ka2d-cnn"), Classifier("ka2d-cnn", compile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        np.testing.assert_allclose(compiled.logits(frames), eager.logits(frames), rtol=1e-5, atol=1e-5)
    assert compiled.model.is_compiled


def test_compile_is_checked():
    with pytest.raises(InputError, match="compile must be True or False"):
        Classifier("ka2d-dmpnn", compile="yes")


def test_an_input_error_raises_as_without_compiling():
    f = Compiled(lambda a, b: a @ b, "matmul")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        with pytest.raises(RuntimeError, match="cannot be multiplied") as raised:  # eager's message
            f(torch.ones(2, 3), torch.ones(2, 3))
    assert raised.value.__context__ is None  # not "during handling of" the compiler's error
    assert f.compiled is not None  # the inputs were wrong, not the compiler
    assert f(torch.ones(2, 3), b=torch.ones(3, 1)).tolist() == [[3.0], [3.0]]  # keywords pass through


FALLBACK = """
import warnings, torch
from mda_glassml.models.compiled import Compiled, CompileWarning
f, g = Compiled(lambda x: torch.relu(x) * 3 + 1, "f"), Compiled(lambda x: x - 1, "g")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out = [f(torch.tensor([-1.0, 2.0])).tolist() for _ in range(3)] + [g(torch.ones(1)).tolist()]
said = [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]
print(out[0], out[2], out[3], len(said), "for f" in said[0], "C++ compiler" in said[0], f.compiled is None)
"""


def test_without_a_cxx_compiler_it_warns_once_and_runs_eagerly(tmp_path):
    # A real failure: no C++ compiler and an empty TorchInductor cache (nothing compiled to reuse). The
    # second step does not try again, nor warn again.
    env = {**os.environ, "CXX": str(tmp_path / "no-such-g++"), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", FALLBACK], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[0] == "[1.0, 7.0] [1.0, 7.0] [0.0] 1 True True True", done.stdout


def test_past_the_recompile_limit_it_says_so_and_runs_eagerly(monkeypatch):
    import mda_glassml.models.compiled as compiled

    monkeypatch.setattr(compiled, "_FAILED", [])  # this process's record, restored after the test
    f = Compiled(lambda x: x * 2, "scale")
    # torch's own patch (monkeypatch's undo leaves its config module broken for the rest of the process)
    with torch._dynamo.config.patch(recompile_limit=1):
        with pytest.warns(CompileWarning, match="for scale.*compilation, shared by every model"):
            out = [f(torch.ones(2, dtype=dtype)).tolist() for dtype in (torch.float32, torch.float64)]  # recompiles
    assert out == [[2.0, 2.0], [2.0, 2.0]] and f.compiled is None
    assert torch._dynamo.config.recompile_limit == 8  # restored for the tests after this one


def test_the_faces_pass_compile_on(example_universe, tmp_path, frames):
    from mda_glassml.analysis import GlassClassifier
    from mda_glassml.cli import main

    assert GlassClassifier(example_universe.atoms, compile=True).classifier.model.is_compiled
    assert not GlassClassifier(example_universe.atoms).classifier.model.is_compiled
    out = tmp_path / "p.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        assert main(["classify", "--quiet", "--compile", "--step", "20", "--out", str(out)]) == 0
    p = np.loadtxt(out, delimiter=",", skiprows=1, usecols=[3])  # frame, time, temperature, p_glass, ...
    expected = Classifier("ka2d-dmpnn").probabilities([frames[0], frames[-1]])
    np.testing.assert_allclose(p, expected, atol=1e-5)
