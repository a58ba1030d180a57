"""A user's own network: ``wrap(net, bounds=…)`` alone, factories saved and loaded, and model files
checked against their header before anything is built."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

import advlab
from advlab.models import build, save, wrap


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 3))


def test_wrap_needs_only_bounds_and_takes_shape_and_classes_from_the_first_batch() -> None:
    model = wrap(_net(), bounds=(0, 1))
    x = torch.rand(5, 1, 4, 4)
    assert torch.equal(model(x), model.net(x))
    assert model.input_shape == (1, 4, 4) and model.classes == ("0", "1", "2")
    with pytest.raises(ValueError, match=r"expected inputs of shape \(N, 1, 4, 4\).*got \(2, 16\)"):
        model(torch.rand(2, 16))


def test_an_unseen_shape_is_a_clear_error_not_none() -> None:
    model = wrap(_net(), bounds=(0, 1))
    with pytest.raises(ValueError, match="first batch"):
        _ = model.input_shape


def test_attacks_accept_a_two_line_model() -> None:
    from advlab.attacks import PGD

    model = wrap(_net(), bounds=(0, 1))
    x = torch.rand(4, 1, 4, 4)
    result = PGD(steps=3)(model, x, eps=0.5, seed=0)
    assert result.adversarials.shape == (1, 4, 1, 4, 4) and model.num_classes == 3


def test_a_class_count_that_disagrees_with_the_network_is_refused_at_wrap_time() -> None:
    with pytest.raises(ValueError, match="returns 3 outputs per input, but classes= names 10"):
        wrap(_net(), bounds=(0, 1), classes=10, input_shape=(1, 4, 4))
    with pytest.raises(ValueError, match="fails on an input of shape"):
        wrap(_net(), bounds=(0, 1), classes=3, input_shape=(3, 8, 8))


def test_a_network_returning_probabilities_is_detected_and_used_through_log_p() -> None:
    net = nn.Sequential(_net(), nn.Softmax(dim=1))
    with pytest.warns(UserWarning, match="probabilities"):
        model = wrap(net, bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    assert model.output == "probabilities"
    x = torch.rand(6, 1, 4, 4)
    torch.testing.assert_close(model.predict_proba(x), net(x))
    with pytest.warns(UserWarning, match="probabilities"):
        lazy = wrap(nn.Sequential(_net(), nn.Softmax(dim=1)), bounds=(0, 1))
        lazy(x)
    assert lazy.output == "probabilities"


def test_logits_are_not_mistaken_for_probabilities() -> None:
    model = wrap(_net(), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    assert model.output == "logits"


def test_a_custom_model_round_trips_with_its_factory(tmp_path: Path) -> None:
    source = tmp_path / "my_net.py"
    source.write_text("from torch import nn\n\ndef make(width=3):\n    return nn.Sequential(nn.Flatten(), nn.Linear(16, width))\n")
    from advlab.models.factory import build_network

    net = build_network(f"{source}:make", {"width": 3})
    model = wrap(net, bounds=(0, 1), classes=["a", "b", "c"], input_shape=(1, 4, 4), factory=f"{source}:make", options={"width": 3})
    path = advlab.save(model, tmp_path / "custom.safetensors")
    back = advlab.load(path)
    x = torch.rand(4, 1, 4, 4)
    assert torch.equal(back(x), model(x)) and back.classes == ("a", "b", "c")
    assert back.spec["factory"] == f"{source}:make"
    # the factory may also be given at load time (e.g. a class defined in a notebook)
    again = advlab.load(path, factory=lambda width: nn.Sequential(nn.Flatten(), nn.Linear(16, width)))
    assert torch.equal(again(x), model(x))


def test_an_importable_class_is_its_own_factory(tmp_path: Path) -> None:
    model = wrap(nn.Identity(), bounds=(0, 1))  # torch's own classes are not factories
    assert "factory" not in model.spec
    with pytest.raises(ValueError, match="no recipe to rebuild it"):
        save(wrap(_net(), bounds=(0, 1), classes=3, input_shape=(1, 4, 4)), tmp_path / "x.safetensors")


def test_load_takes_a_run_folder(tmp_path: Path) -> None:
    from advlab.runs import save_run

    model = build("softmax", input_shape=(1, 4, 4), classes=3)
    save_run(tmp_path / "run", model, {"name": "digits"})
    back = advlab.load(tmp_path / "run")
    x = torch.rand(2, 1, 4, 4)
    assert torch.equal(back(x), model(x))


def _rewrite(src: Path, dst: Path, spec_change=None, tensor_change=None) -> Path:
    with safe_open(str(src), framework="pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    spec = json.loads(meta["advlab_spec"])
    if spec_change:
        spec_change(spec)
    if tensor_change:
        tensor_change(tensors)
    meta["advlab_spec"] = json.dumps(spec)
    save_file(tensors, str(dst), metadata=meta)
    return dst


@pytest.fixture
def mlp_file(tmp_path: Path) -> Path:
    return save(build("mlp", input_shape=(1, 4, 4), classes=3, widths=[8]), tmp_path / "mlp.safetensors")


def test_a_tampered_spec_is_refused_before_any_layer_is_built(mlp_file: Path, tmp_path: Path, monkeypatch) -> None:
    from advlab.models import registry

    built: list[object] = []
    real = registry.family("mlp").builder

    def counting(**kwargs):
        net = real(**kwargs)
        built.append(next(net.parameters()).device)
        return net

    monkeypatch.setitem(registry.MODELS._entries, "mlp", counting)
    huge = _rewrite(mlp_file, tmp_path / "huge.safetensors", lambda s: s["options"].update(widths=[40000, 40000]))
    with pytest.raises(ValueError, match="do not match"):
        advlab.load(huge)  # would allocate 6.4 GB if built for real
    assert [str(d) for d in built] == ["meta"]  # only the free shape check ran


@pytest.mark.parametrize(
    ("label", "spec_change", "match"),
    [
        ("input shape disagrees", lambda s: s.update(input_shape=[1, 8, 8]), "do not match the spec"),
        ("classes disagree", lambda s: s.update(classes=[str(i) for i in range(10)]), "do not match the spec"),
        ("negative shape", lambda s: s.update(input_shape=[-1, 4, 4]), "invalid input_shape"),
        ("options not a dict", lambda s: s.update(options=[1]), "invalid model options"),
    ],
)
def test_bad_specs_are_refused(mlp_file: Path, tmp_path: Path, label: str, spec_change, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        advlab.load(_rewrite(mlp_file, tmp_path / "bad.safetensors", spec_change))


def test_int_and_nan_weights_are_refused(mlp_file: Path, tmp_path: Path) -> None:
    def first_weight(t: dict[str, torch.Tensor]) -> str:
        return next(k for k, v in t.items() if v.ndim == 2)

    def to_int(t):
        k = first_weight(t)
        t[k] = t[k].to(torch.int32)

    def nan(t):
        k = first_weight(t)
        t[k] = t[k].clone()
        t[k][0, 0] = float("nan")

    with pytest.raises(ValueError, match="expected floating-point"):
        advlab.load(_rewrite(mlp_file, tmp_path / "int.safetensors", tensor_change=to_int))
    with pytest.raises(ValueError, match="NaN or inf weights"):
        advlab.load(_rewrite(mlp_file, tmp_path / "nan.safetensors", tensor_change=nan))
