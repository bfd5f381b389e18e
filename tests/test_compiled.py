"""Compiled inference (torch.compile through TorchInductor, the real compiler): the same numbers as eager.

Each model compiles once in this module (a few seconds with a warm disk cache, tens cold); the
frames are the bundled LAMMPS run's.
"""

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
from mda_glassml.frames import Frame, InputError
from mda_glassml.models.compiled import Compiled, CompileWarning


@pytest.fixture(scope="module")
def frames():
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        return [Frame.from_gsd(traj[i]) for i in (0, 14, 20)]  # T = 2.0, about 0.4, 0.05


@pytest.fixture(scope="module")
def dmpnn_pair():
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # compiling must work here, not fall back
        return Classifier("ka2d-dmpnn"), Classifier("ka2d-dmpnn", compile=True)


def test_compiled_dmpnn_equals_eager_whole_tiled_and_windows(dmpnn_pair, frames):
    eager, compiled = dmpnn_pair
    assert compiled.model.is_compiled and not eager.model.is_compiled
    graphs_before = counters["stats"]["unique_graphs"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        z_eager, z_compiled = eager.logits(frames), compiled.logits(frames)
        np.testing.assert_allclose(z_compiled, z_eager, rtol=1e-5, atol=1e-5)
        assert np.ptp(z_eager) > 1  # glass and liquid differ: a constant output would not be compared
        # huge frames go tile by tile through the same compiled steps (other shapes: no recompiling per tile)
        eager.tile_nodes = compiled.tile_nodes = 1000
        np.testing.assert_allclose(compiled.logits(frames[-1:]), eager.logits(frames[-1:]), rtol=1e-5, atol=1e-5)
        # sliding windows: many graphs a batch, the per-graph softmax
        a, b = eager.window_map(frames[1], 12.0), compiled.window_map(frames[1], 12.0)
    np.testing.assert_allclose(b.local_probability, a.local_probability, atol=1e-5)
    assert compiled.model.update.compiled is not None  # still compiled: nothing fell back
    assert counters["stats"]["unique_graphs"] > graphs_before  # and TorchInductor compiled graphs for them


def test_compiled_model_pickles_and_compiles_again(dmpnn_pair, frames):
    _, compiled = dmpnn_pair
    copy = pickle.loads(pickle.dumps(compiled.model))  # what a parallel worker receives
    assert copy.is_compiled and isinstance(copy.__dict__["update"], Compiled)
    eager = pickle.loads(pickle.dumps(Classifier("ka2d-dmpnn").model))
    assert not eager.is_compiled
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
    f = Compiled(lambda a, b: a @ b)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        with pytest.raises(RuntimeError, match="cannot be multiplied"):
            f(torch.ones(2, 3), torch.ones(2, 3))
    assert f.compiled is not None  # the inputs were wrong, not the compiler


def test_without_a_cxx_compiler_it_warns_once_and_runs_eagerly(tmp_path):
    # A real failure: no C++ compiler and an empty TorchInductor cache (nothing compiled to reuse).
    code = """
import warnings, torch
from mda_glassml.models.compiled import Compiled, CompileWarning
f = Compiled(lambda x: torch.relu(x) * 3 + 1)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out = [f(torch.tensor([-1.0, 2.0])).tolist() for _ in range(3)]
said = [str(w.message) for w in caught if issubclass(w.category, CompileWarning)]
print(out[0], out[2], len(said), "C++ compiler" in said[0], f.compiled is None)
"""
    env = {**os.environ, "CXX": str(tmp_path / "no-such-g++"), "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[0] == "[1.0, 7.0] [1.0, 7.0] 1 True True", done.stdout
