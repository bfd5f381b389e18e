"""Inherent structures of any frame: FIRE-minimise it with the Kob–Andersen potential.

A thermal frame's particles vibrate about a local minimum of the potential
energy; minimising removes the vibration and leaves the structure (the
*inherent structure*, IS). The campaigns minimise every record they keep
(:mod:`mda_glassml.simulation.output`); :func:`inherent_frames` does the same
for frames from anywhere (a user's trajectory read by MDAnalysis, OVITO
data), with the engine's minimiser and the protocol's stopping rule
(:class:`~mda_glassml.simulation.protocol.FireSettings`, ftol 1e-6 on the
whole force vector), so a classifier can be asked about structure alone
(``mda-glassml classify --inherent``).

Frames must be periodic and square (the engines' boxes), and of the 2D KA
mixture: the potential is the paper's, whatever the frame's density. Each
4320-particle minimisation takes 25,000–90,000 FIRE iterations (15–60 s on
one core): classify every n-th frame of a long trajectory.

Examples
--------
::

    from mda_glassml.simulation.inherent import inherent_frames
    is_frames, energies = inherent_frames(frames)          # LAMMPS
    is_frames, energies = inherent_frames(frames, engine="hoomd")
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError
from ..frames import Frame
from .protocol import CoolingProtocol

__all__ = ["inherent_frames", "protocol_for"]


def protocol_for(frame: Frame) -> CoolingProtocol:
    """The protocol whose box and composition are ``frame``'s (square, periodic), for its minimiser."""
    where = "a frame" if frame.index is None else f"frame {frame.index}"
    if not frame.periodic:
        raise InputError(f"{where} is a window with open edges; inherent structures need periodic frames")
    box = frame.box
    if abs(box.Lx - box.Ly) > 1e-6 * box.Lx or abs(box.xy) > 1e-9:
        raise InputError(f"{where} has a {box.Lx:g} x {box.Ly:g} box (tilt {box.xy:g}); the engines minimise "
                         "square, untilted boxes only")
    return CoolingProtocol(n_particles=frame.n_particles, density=frame.n_particles / frame.area)


def inherent_frames(frames: Sequence[Frame], engine: str = "lammps", device: str = "auto",
                    progress: bool = False) -> tuple[list[Frame], np.ndarray]:
    """Each frame's inherent structure and its IS energy per particle (unshifted).

    Consecutive frames of one size and composition share one minimiser.
    ``device`` is HOOMD-blue's (``auto``, ``cpu``, ``gpu``).
    """
    import contextlib  # noqa: PLC0415

    from tqdm.auto import tqdm  # noqa: PLC0415

    from .campaign import check_engine  # noqa: PLC0415
    from .output import wrap_positions  # noqa: PLC0415

    if isinstance(frames, Frame):
        frames = [frames]
    if not isinstance(frames, Sequence) or not all(isinstance(f, Frame) for f in frames):
        raise InputError(
            f"inherent_frames takes a list of mda_glassml Frames, got {type(frames).__name__}; from a Universe: "
            "[Frame.from_atomgroup(u.atoms) for ts in u.trajectory], from a GSD file: Frame.from_gsd(traj[i])."
        )
    check_engine(engine)
    if engine == "lammps":
        from .lammps import open_minimiser  # noqa: PLC0415
    else:
        import functools  # noqa: PLC0415

        from .hoomd_engine import open_minimiser as _hoomd  # noqa: PLC0415

        open_minimiser = functools.partial(_hoomd, device=device)
    out: list[Frame] = []
    energies = np.empty(len(frames))
    key, stack, minimise = None, contextlib.ExitStack(), None
    with stack:
        for i, frame in enumerate(tqdm(frames, disable=not progress, desc="inherent structures", unit="frame")):
            protocol = protocol_for(frame)
            xyz = np.zeros((frame.n_particles, 3))
            xyz[:, :2] = frame.positions
            typeid = frame.types.astype(np.int32)
            here = (frame.n_particles, round(protocol.box_length, 9), typeid.tobytes())
            if here != key:
                stack.close()
                minimise = stack.enter_context(open_minimiser(protocol, xyz, typeid))
                key = here
            try:
                new, e_total, _ = minimise(xyz)
            except RuntimeError as err:  # an engine that blows up on overlapping particles
                from ..graphs import pairs_within  # noqa: PLC0415

                _, _, d = pairs_within(frame, 0.5)
                close = f"; {d.size} pairs are closer than 0.5 (closest {d.min():.3g})" if d.size else ""
                where = "a frame" if frame.index is None else f"frame {frame.index}"
                reason = str(err).splitlines()[0]
                raise InputError(f"{where} could not be minimised ({reason}){close}: a Kob-Andersen configuration "
                                 "whose particles overlap (or in other length units) has no meaningful inherent "
                                 "structure. Check the box and the units.") from err
            new = wrap_positions(new, protocol.box_length)
            out.append(Frame(new[:, :2].astype(np.float32), frame.types, frame.box, True, frame.index,
                             frame.type_names, frame.box_center))
            energies[i] = e_total / frame.n_particles
    return out, energies
