"""device="cpu" / "cuda" / "auto" through Classifier, the analyses and the CLI.

This machine may have no GPU: the CUDA tests then check the error and skip
the GPU runs (with the reason).
"""

import numpy as np
import pytest
import torch

from mda_glassml.analysis import AttentionGraphMetrics, GlassClassifier
from mda_glassml.classify import Classifier
from mda_glassml.cli import main
from mda_glassml.errors import InputError
from mda_glassml.models.device import torch_device

CUDA = torch.cuda.is_available()
no_gpu = pytest.mark.skipif(CUDA, reason="a CUDA GPU is present: the no-GPU error cannot be provoked")
gpu = pytest.mark.skipif(not CUDA, reason="no CUDA GPU on this machine")


def test_cpu_and_auto():
    assert torch_device("cpu") == torch.device("cpu")
    assert torch_device(" CPU ") == torch.device("cpu")
    assert torch_device("auto") == torch.device("cuda" if CUDA else "cpu")


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", 3, None])
def test_unknown_device(bad):
    with pytest.raises(InputError, match="device"):
        torch_device(bad)


@no_gpu
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_cuda_without_gpu_is_a_clear_error(name):
    with pytest.raises(InputError, match=r"CUDA GPU, but torch finds none.*device='cpu'"):
        torch_device(name)


@no_gpu
def test_faces_refuse_cuda_without_gpu(example_universe, capsys):
    with pytest.raises(InputError, match="finds none"):
        Classifier("ka2d-dmpnn", device="cuda")
    with pytest.raises(InputError, match="finds none"):
        GlassClassifier(example_universe.atoms, device="cuda")
    with pytest.raises(InputError, match="finds none"):
        AttentionGraphMetrics(example_universe.atoms, device="cuda")
    assert main(["classify", "--quiet", "--device", "cuda", "--stop", "1"]) == 2
    assert "finds none" in capsys.readouterr().err


def test_auto_runs_where_it_lands(example_universe):
    p = GlassClassifier(example_universe.atoms, device="auto").run(stop=1).results.probability
    assert p.shape == (1,) and 0 <= p[0] <= 1


@gpu
def test_gpu_equals_cpu(example_universe):
    from mda_glassml.frames import Frame
    import gsd.hoomd
    from mda_glassml.data import EXAMPLE_TRAJECTORY

    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        frames = [Frame.from_gsd(traj[i]) for i in (1, -1)]
    cpu = Classifier("ka2d-dmpnn").probabilities(frames)
    gpu_p = Classifier("ka2d-dmpnn", device="cuda").probabilities(frames)
    tiled = Classifier("ka2d-dmpnn", device="cuda", tile_nodes=1000).probabilities(frames)
    np.testing.assert_allclose(gpu_p, cpu, atol=1e-5)
    np.testing.assert_allclose(tiled, cpu, atol=1e-5)
    cnn = Classifier("ka2d-cnn", device="cuda").probabilities(frames)
    np.testing.assert_allclose(cnn, Classifier("ka2d-cnn").probabilities(frames), atol=1e-5)
