"""Moving a minimal adversarial past the boundary; the slice's per-batch hook (progress and cancelling)."""

from __future__ import annotations

import pytest
import torch

from advlab.viz import compute_slice
from advlab.viz.extend import extend_adversarial

SHAPE = (1, 4, 4)


@pytest.fixture(scope="module")
def model(seeded_mlp):
    return seeded_mlp(SHAPE, classes=3, widths=[16])


def test_extend_moves_free_pixels_f_times_as_far_and_clips_to_h(model):
    a = torch.full(SHAPE, 0.5)
    a[0, 0, 0] = 0.9
    b = a.clone()
    b[0, 1, 1] = 0.6  # moved 0.1: 1.5× → 0.65
    b[0, 0, 0] = 1.0  # moved 0.1 to the bound: 1.5× would leave H, stays at 1
    out, f = extend_adversarial(model, a, b, 1.5)
    assert f == 1.5 and out.shape == SHAPE
    assert out[0, 1, 1].item() == pytest.approx(0.65) and out[0, 0, 0].item() == 1.0
    assert torch.equal(out[0, 2:], a[0, 2:])
    with pytest.raises(ValueError, match="factor"):
        extend_adversarial(model, a, b, 0.5)
    with pytest.raises(ValueError, match="equals a"):
        extend_adversarial(model, a, a)


def test_on_batch_reports_progress_and_an_exception_stops_the_slice(model):
    a, b, c = torch.full(SHAPE, 0.5), torch.full(SHAPE, 0.6), torch.full(SHAPE, 0.5)
    c[0, 0, 0] = 0.9
    seen = []
    data = compute_slice(model, a, b, c, resolution=16, batch_size=32, on_batch=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == data.evaluations == int(data.feasible.sum()) and seen[-1][1] == int(data.feasible.sum())
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    class Stop(Exception):
        pass

    calls = []

    def stop(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise Stop

    with pytest.raises(Stop):
        compute_slice(model, a, b, c, resolution=16, batch_size=32, adaptive=True, on_batch=stop)
    assert len(calls) == 2  # no model batch ran after the exception
