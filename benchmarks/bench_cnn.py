"""CNN training throughput (images per second) for the paper's and the compact architecture.

One batch of 10 rendered 250 x 250 images of the bundled example (real 2D
Kob-Andersen, N = 4320), forward + backward (with the paper's L2 term) + Adam
step, best of a few repeats; the rendering itself is measured by
``bench_render.py``. The paper's variant has a 72-million-weight dense layer,
which is what makes it slow (and memory hungry); the compact one pools.

Run: ``python benchmarks/bench_cnn.py [--threads 1] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import time

import gsd.hoomd
import numpy as np
import torch

from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.frames import Frame
from mda_glassml.models.cnn import CNN
from mda_glassml.models.render import Renderer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with gsd.hoomd.open(EXAMPLE_TRAJECTORY) as traj:
        frames = [Frame.from_gsd(traj[i], frame=i) for i in range(1, 11)]
    images = torch.from_numpy(Renderer().images(frames).transpose(0, 3, 1, 2).copy()).to(args.device)
    y = torch.tensor([0.0, 1.0] * 5, device=args.device)
    print(f"torch {torch.__version__}, {args.threads} thread(s), device {args.device}; batch of 10 images 250 x 250")
    rates = {}
    for variant in ("compact", "paper"):
        torch.manual_seed(0)
        net = CNN(variant=variant).to(args.device)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(images), y) + net.regularization()
            loss.backward()
            opt.step()

        step()
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            step()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        rates[variant] = 10 / min(times)
        print(f"  {variant:8s} {net.n_parameters():>11,d} weights: {min(times) * 1e3:8.1f} ms per batch = "
              f"{rates[variant]:7.1f} images/s")
    print(f"compact / paper throughput: {rates['compact'] / rates['paper']:.1f}x")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
