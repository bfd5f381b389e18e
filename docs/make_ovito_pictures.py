"""Render the pictures of docs/ovito.rst (docs/_static/ovito_*.png) with OVITO's Python module.

Usage (from the repository root)::

    python docs/make_ovito_pictures.py                     # all pictures, shipped D-MPNN
    python docs/make_ovito_pictures.py --only bneighbor    # no model needed
    python docs/make_ovito_pictures.py --model path/to/model.pt --out /tmp/pictures

Each modifier is drawn on the bundled example trajectory, its last frame (a
T = 0.05 glass) and its first (the T = 1.99 liquid), with OVITO's Tachyon
renderer, which runs on the CPU. OVITO (>= 3.12) starts its rendering
framework through Vulkan even for Tachyon: on a machine without a GPU install
Mesa's software driver first (``apt-get install libvulkan1
mesa-vulkan-drivers``). The PNGs are reduced to 128-colour palettes to keep
them small (about 100-200 KB each).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from ovito.io import import_file
from ovito.modifiers import AssignColorModifier, ColorCodingModifier, ExpressionSelectionModifier
from ovito.qt_compat import QtCore
from ovito.vis import ColorLegendOverlay, TachyonRenderer, TextLabelOverlay, Viewport
from PIL import Image

from mda_glassml.data import EXAMPLE_TRAJECTORY
from mda_glassml.ovito import AttentionModifier, BNeighborModifier, GlassClassifierModifier

HOT, COLD = 0, 20  # T = 1.99 and 0.05
SIZE = (600, 600)
RADII = {"A": 0.5, "B": 0.44}  # sigma_AA / 2 and sigma_BB / 2 of the Kob-Andersen mixture
GREY = (0.3, 0.3, 0.3)
FONT = "DejaVu Sans"  # ships with OVITO


def pipeline(*modifiers, radius_scale=1.0):
    p = import_file(EXAMPLE_TRAJECTORY)
    for ptype in p.source.data.particles_.particle_types_.types_:
        ptype.radius = radius_scale * RADII.get(ptype.name, 0.5)
    for m in modifiers:
        p.modifiers.append(m)
    return p


def grey_where(expression):
    return [ExpressionSelectionModifier(expression=expression), AssignColorModifier(color=GREY)]


def legend(coding, title):
    return ColorLegendOverlay(modifier=coding, title=title, text_color=(0, 0, 0), font_size=0.12, legend_size=0.35,
                              font_family=FONT, format_string="%.1f",
                              alignment=QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignBottom,
                              background_enabled=True, background_color=(1, 1, 1), offset_x=-0.07, offset_y=0.02)


def spread_components(frame, data):
    """Colour index of each B-neighbor component, shuffled so that neighbouring components differ."""
    component = np.asarray(data.particles["Component"])
    n = int(component.max()) + 1
    index = np.random.default_rng(0).permutation(n) / max(n - 1, 1)
    data.particles_.create_property("Component colour", data=np.where(component >= 0, index[component], 0.0))


def render(p, frame, path, title, zoom=None, overlays=()):
    p.add_to_scene()
    try:
        # Top view, orthographic: fov is half the visible side. Leave a margin for the title.
        x, y, half = zoom or (0.0, 0.0, 30.0)
        vp = Viewport(type=Viewport.Type.Top, camera_pos=(x, y, 10.0), fov=half * 1.12)
        temperature = p.compute(frame).attributes.get("mda_glassml/temperature")
        label = f"{title}, T = {temperature:.2f}" if temperature is not None else title
        vp.overlays.append(TextLabelOverlay(text=label, font_size=0.045, text_color=(0, 0, 0), font_family=FONT,
                                            outline_enabled=True, outline_color=(1, 1, 1)))
        vp.overlays.extend(overlays)
        vp.render_image(size=SIZE, filename=str(path), frame=frame, background=(1, 1, 1),
                        renderer=TachyonRenderer(ambient_occlusion=False, shadows=False))
    finally:
        p.remove_from_scene()
    Image.open(path).convert("RGB").quantize(colors=128, dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} KB")


def bneighbor(out, model, window):
    for frame, tag in ((COLD, "cold"), (HOT, "hot")):
        p = pipeline(BNeighborModifier(k=2), spread_components,
                     ColorCodingModifier(property="Component colour", start_value=0, end_value=1,
                                         gradient=ColorCodingModifier.Rainbow()),
                     *grey_where("Isolated"))
        render(p, frame, out / f"ovito_bneighbor_{tag}.png", "B-neighbor components")


def classifier(out, model, window):
    for frame, tag in ((COLD, "cold"), (HOT, "hot")):
        coding = ColorCodingModifier(property="Local P(glass)", start_value=0, end_value=1,
                                     gradient=ColorCodingModifier.BlueWhiteRed())
        p = pipeline(GlassClassifierModifier(model=model, window=window), coding)
        render(p, frame, out / f"ovito_classifier_{tag}.png", "Local P(glass)", overlays=[legend(coding, "P(glass)")])


def attention(out, model, window):
    for frame, tag in ((COLD, "cold"), (HOT, "hot")):
        coding = ColorCodingModifier(operate_on="bonds", property="Attention", start_value=0.1, end_value=4.1,
                                     gradient=ColorCodingModifier.Viridis())
        modifier = AttentionModifier(model=model, window=window)  # the side the model learnt its attention on
        modifier.bonds_vis.width = 0.16
        p = pipeline(modifier, coding, AssignColorModifier(color=(0.55, 0.55, 0.55)), radius_scale=0.4)
        render(p, frame, out / f"ovito_attention_{tag}.png", "Attention (rescaled)", zoom=(0.0, 0.0, 10.0),
               overlays=[legend(coding, "w'")])


PICTURES = {"bneighbor": bneighbor, "classifier": classifier, "attention": attention}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ka2d-dmpnn", help="D-MPNN for the classifier picture")
    parser.add_argument("--attention-model", default="ka2d-dmpnn-paper",
                        help="D-MPNN for the attention pictures (default: the paper's k = 2 model)")
    parser.add_argument("--window", type=float, default=15.0, help="window side of the local P(glass) map")
    parser.add_argument("--attention-window", type=float, default=12.0,
                        help="window side of the attention pictures (default 12, the shipped models' training side)")
    parser.add_argument("--only", choices=sorted(PICTURES), action="append", help="render only these")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "_static")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or PICTURES:
        attention = name == "attention"
        PICTURES[name](args.out, args.attention_model if attention else args.model,
                       args.attention_window if attention else args.window)


if __name__ == "__main__":
    sys.exit(main())
