"""Models: featurisation of frames into graphs, the D-MPNN and model bundles.

Layers never reach back: ``featurize`` knows frames and graphs, ``dmpnn``
knows tensors, ``bundle`` saves and loads both.
"""


def weight_l2(module) -> "torch.Tensor":  # noqa: F821 - torch is imported by the caller's models
    """``½ Σ ||W||²`` over a module's weight matrices and kernels (not biases): the usual L2 term."""
    return sum(0.5 * (p**2).sum() for p in module.parameters() if p.dim() > 1)
