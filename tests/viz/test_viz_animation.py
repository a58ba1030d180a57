"""A fixed slice recorded during training: one frame per epoch (0 = before training), a readable GIF."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pytest
import torch
from PIL import Image

from advlab.models import build
from advlab.train import fit
from advlab.viz import SliceAnimation, SliceRecorder, frames_from_models

SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def recorded():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, *SHAPE, generator=g)
    y = (x.mean(dim=(1, 2, 3)) > 0.5).long()
    torch.manual_seed(0)
    model = build("mlp", input_shape=SHAPE, classes=2, widths=[8])
    rec = SliceRecorder(x[0], x[1], x[2], resolution=12)
    fit(model, (x, y, x, y), epochs=3, batch_size=32, lr=0.05, callbacks=[rec], quiet=True)
    return model, x, rec


def test_one_frame_per_epoch_including_before_training(recorded):
    model, x, rec = recorded
    assert [f.epoch for f in rec.frames] == [0, 1, 2, 3]
    assert rec.frames[0].test_accuracy is None and rec.frames[-1].test_accuracy is not None
    assert "epoch 3" in rec.frames[-1].caption
    # all frames share the geometry; the last one shows the trained model
    assert all((f.data.extent == rec.frames[0].data.extent) for f in rec.frames)
    final = SliceRecorder(x[0], x[1], x[2], resolution=12).record(model, 3).data
    assert (final.labels == rec.frames[3].data.labels).all()


def test_gif_is_readable_with_one_picture_per_frame(recorded, tmp_path):
    _, _, rec = recorded
    path = rec.save_gif(tmp_path / "train.gif", fps=4, dpi=40)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == len(rec.frames)


def test_every_and_errors(recorded):
    model, x, _ = recorded
    rec = SliceRecorder(x[0], x[1], x[2], resolution=6, every=2)
    fit(model, (x, torch.zeros(64, dtype=torch.long)), epochs=3, callbacks=[rec], quiet=True)
    assert [f.epoch for f in rec.frames] == [0, 2]
    frames = frames_from_models([(0, model), (5, model)], x[0], x[1], x[2], resolution=6)
    assert [f.epoch for f in frames] == [0, 5]
    with pytest.raises(ValueError, match="no frames"):
        SliceAnimation([])
    with pytest.raises(ValueError, match="every"):
        SliceRecorder(x[0], x[1], x[2], every=0)
