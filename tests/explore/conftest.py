"""A tiny digits MLP trained once per session, saved as a run folder, for the explorer tests."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("starlette", reason="the explorer needs the optional extra advlab[explore]")


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    from advlab.data import load
    from advlab.models import build
    from advlab.runs import save_run
    from advlab.train import fit

    ds = load("digits", quiet=True)
    torch.manual_seed(0)
    model = build("mlp", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds, widths=[32])
    fit(model, ds, epochs=3, lr=0.01, quiet=True, seed=0)
    folder = tmp_path_factory.mktemp("explore-run") / "mlp-digits"
    save_run(folder, model.cpu().eval(), {"name": "digits"})
    return folder


@pytest.fixture(scope="session")
def second_run(tmp_path_factory):
    from advlab.data import load
    from advlab.models import build
    from advlab.runs import save_run
    from advlab.train import fit

    ds = load("digits", quiet=True)
    torch.manual_seed(1)
    model = build("softmax", input_shape=ds.input_shape, classes=ds.class_names, bounds=ds.bounds)
    fit(model, ds, epochs=2, lr=0.01, quiet=True, seed=1)
    folder = tmp_path_factory.mktemp("explore-run2") / "softmax-digits"
    save_run(folder, model.cpu().eval(), {"name": "digits"})
    return folder
