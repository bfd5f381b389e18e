"""The CNN: architectures, loss, normalisation, learning a real task, augmentation, bundles, feature maps."""

import numpy as np
import pytest
import torch

from mda_glassml.errors import InputError
from mda_glassml.models.bundle import load_bundle, save_bundle
from mda_glassml.models.cnn import CNN, feature_maps_figure, first_layer_feature_maps
from mda_glassml.models.render import Renderer
from mda_glassml.training.crossval import cnn_builder
from mda_glassml.training.data import LabelledFrames
from mda_glassml.training.loop import TrainConfig, fit, predict_logits, scores
from mda_glassml.training.tasks import ImageTask

SIZE = 64


@pytest.fixture(scope="module")
def data(ka_dataset1):
    torch.set_num_threads(1)
    return LabelledFrames.from_manifest(ka_dataset1)


def test_architectures():
    paper = CNN(variant="paper", image_size=250)
    assert paper.n_parameters() > 70_000_000  # the original's 72 M, almost all in the dense layer
    assert paper.head[0].in_features == 16 * 237 * 237
    compact = CNN(variant="compact", image_size=250)
    assert compact.n_parameters() < 1_000_000
    x = torch.zeros(3, 3, 250, 250, dtype=torch.uint8)
    assert compact(x).shape == (3,)
    with pytest.raises(InputError, match="images of 250 x 250"):
        compact(torch.zeros(1, 3, 128, 128, dtype=torch.uint8))
    with pytest.raises(InputError, match="unknown CNN variant"):
        CNN(variant="resnet")
    wide = CNN(variant="compact", image_size=250, width=2)
    assert wide.features[0].out_channels == 12 and wide.head[0].out_features == 128 and wide(x).shape == (3,)
    assert "width" not in compact.config.to_dict() and wide.config.to_dict()["width"] == 2
    for bad in ({"width": 0}, {"width": 1.5}, {"variant": "paper", "image_size": 64, "width": 2}):
        with pytest.raises(InputError, match="width must be a positive integer"):
            CNN(**bad)


def test_logit_is_the_paper_softmax_and_l2_term():
    torch.manual_seed(0)
    net = CNN(image_size=SIZE, dropout=0.0).eval()
    x = torch.randint(0, 256, (5, 3, SIZE, SIZE), dtype=torch.uint8)
    y = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    bce = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
    ce = torch.nn.functional.cross_entropy(net.scores(x), y.long())
    torch.testing.assert_close(bce, ce)
    expected = 0.01 * 0.5 * sum((p**2).sum() for n, p in net.named_parameters() if "weight" in n)
    torch.testing.assert_close(net.regularization(), expected)


def test_normalisation_from_training_images():
    net = CNN(image_size=SIZE)
    images = np.full((4, 3, SIZE, SIZE), 255, np.uint8)
    images[:, 0, :10] = 0
    net.set_normalization(images)
    z = net.normalize(torch.from_numpy(images))
    torch.testing.assert_close(z.mean(dim=(0, 2, 3))[0], torch.tensor(0.0), atol=1e-5, rtol=0)
    assert float(z[:, 0].std()) == pytest.approx(1.0, abs=0.01)


def test_augmentation_is_seeded_per_epoch(data):
    task = ImageTask(Renderer(size=SIZE), data, None, seed=3)
    a, b, again = task.train_samples(0), task.train_samples(1), task.train_samples(0)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(a, again))
    assert not all(np.array_equal(x[0], y[0]) for x, y in zip(a, b))
    plain = task.train_images
    for (img, _), ref in zip(a, plain):  # each is a rotation / flip of its plain image
        variants = [np.rot90(r, t, axes=(1, 2)) for r in (ref, ref[:, ::-1]) for t in range(4)]
        assert any(np.array_equal(img, v) for v in variants)



def test_shift_is_a_periodic_translation_of_the_picture(data):
    # np.roll by d pixels is the picture of the frame translated by d pixels' length: exact for a periodic box.
    frame = data.frames[0]
    renderer = Renderer(size=SIZE)
    plain = renderer.image(frame).astype(int)
    d = (5, 11)  # pixels down and right
    px = frame.box.Lx / SIZE
    moved = frame.positions.copy()
    moved[:, 0] += d[1] * px
    moved[:, 1] -= d[0] * px  # row 0 is the top: down is -y
    from mda_glassml.frames import Frame

    translated = Frame.from_arrays(moved[:, :2], np.where(frame.types == 0, "A", "B"), box=[frame.box.Lx, frame.box.Ly])
    assert np.abs(renderer.image(translated).astype(int) - np.roll(plain, d, axis=(0, 1))).max() <= 1
    task = ImageTask(renderer, data, None, seed=3, shift=True)
    a = task.train_samples(0)
    assert a[0][0].shape == (3, SIZE, SIZE)
    for (img, _), ref in zip(a, task.train_images):  # each a rotation / flip of its plain image, then a roll
        variants = [np.rot90(r, t, axes=(1, 2)) for r in (ref, ref[:, ::-1]) for t in range(4)]
        assert any(np.array_equal(np.roll(img, (-dy, -dx), axis=(1, 2)), v)
                   for v in variants for dy in range(SIZE) for dx in range(SIZE)
                   if img[0, 0, 0] == np.roll(v, (dy, dx), axis=(1, 2))[0, 0, 0])
    assert task.fingerprint()["shift"] is True
    assert "shift" not in ImageTask(renderer, data, None, seed=3).fingerprint()  # old fingerprints unchanged

def synthetic(n_configs, seed):
    """Jittered square lattices (label 1) and uniform random configurations (label 0), 256 particles."""
    from mda_glassml.frames import Frame

    rng = np.random.default_rng(seed)
    side = float(np.sqrt(256 / 1.2))
    grid = (np.stack(np.meshgrid(np.arange(16), np.arange(16)), -1).reshape(-1, 2) + 0.5) * side / 16
    frames, labels = [], []
    for i in range(n_configs):
        ordered = i % 2 == 0
        pos = grid + rng.normal(0, 0.08, grid.shape) if ordered else rng.uniform(0, side, (256, 2))
        names = rng.permutation(np.array(["A"] * 166 + ["B"] * 90))
        frames.append(Frame.from_arrays(pos, names, box=[side, side]))
        labels.append(int(ordered))
    return LabelledFrames(frames, labels, [f"s{seed}_{i}" for i in range(n_configs)], np.zeros(n_configs))


def test_learns_a_synthetic_task():
    # 12 real 256-particle configurations are too few for a CNN in a CI budget (measured: no
    # learning in 15 epochs); order versus disorder is a task it must learn at once.
    model, task, batch = cnn_builder({"dropout": 0.0, "batch_size": 4}, synthetic(16, 0), synthetic(8, 1),
                                     seed=0, image_size=SIZE)
    result = fit(model, task, TrainConfig(epochs=6, batch_size=batch, progress=False))
    test = synthetic(12, 2)
    samples = task.samples(test, seed=0)
    auc, acc = scores(task.labels(samples), predict_logits(model, samples, task.collate))
    assert result.best_val_auc >= 0.95 and auc >= 0.95, (result.best_val_auc, auc, acc)


@pytest.mark.parametrize("width", [1, 2])
def test_bundle_round_trip_and_wrong_image_size(data, tmp_path, width):
    model, task, _ = cnn_builder({"dropout": 0.3, "batch_size": 4}, data, None, seed=0, image_size=SIZE, width=width)
    save_bundle(tmp_path / "cnn.pt", model, task.renderer, card={"kind": "test"})
    b = load_bundle(tmp_path / "cnn.pt")
    assert b.kind == "cnn" and b.featurizer == task.renderer and b.model.config == model.config
    x = torch.from_numpy(task.train_images[:3])
    with torch.no_grad():
        torch.testing.assert_close(b.model(x), model.eval()(x))
    with pytest.raises(InputError, match="Renderer\\(size=64\\)"):
        b.model(torch.zeros(1, 3, 250, 250, dtype=torch.uint8))


def test_feature_maps(data):
    model, task, _ = cnn_builder({"dropout": 0.0, "batch_size": 4}, data, None, seed=0, image_size=SIZE)
    image = task.train_images[0].transpose(1, 2, 0)
    maps = first_layer_feature_maps(model, image)
    assert maps.shape == (6, SIZE - 9, SIZE - 9) and (maps >= 0).all()
    assert len(feature_maps_figure(model, image).axes) == 7
