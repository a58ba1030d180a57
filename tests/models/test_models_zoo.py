"""The core zoo: shapes, the published layer structures, Normalize first, option errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from advlab.models import Classifier, Model, Normalize, build, families, family

CORE = ("softmax", "mlp", "cnn-small", "cnn-madry")
SHAPES = {
    "softmax": [(4,), (1, 8, 8), (3, 6, 5)],
    "mlp": [(4,), (1, 8, 8), (3, 6, 5)],
    "cnn-small": [(1, 8, 8), (1, 28, 28), (3, 12, 12)],
    "cnn-madry": [(1, 8, 8), (1, 16, 16), (3, 12, 12)],  # 28x28 is checked by the structure test
}


def _layers(module: nn.Module, kind: type[nn.Module]) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


def test_core_families_are_registered() -> None:
    names = {f.name for f in families()}
    assert set(CORE) <= names
    assert all(family(n).summary for n in CORE)


@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("classes", [2, 10])
def test_every_core_family_returns_logits_for_its_input_shapes(name: str, classes: int) -> None:
    for shape in SHAPES[name]:
        torch.manual_seed(0)
        model = build(name, input_shape=shape, classes=classes)
        assert isinstance(model, Model) and isinstance(model.net, Classifier)
        x = torch.rand(5, *shape)
        out = model(x)
        assert out.shape == (5, classes) and out.dtype == torch.float32
        assert torch.isfinite(out).all()
        assert model.input_shape == shape and model.num_classes == classes
        assert model.spec["family"] == name
        # predict/predict_proba agree with forward and are batched identically
        assert torch.allclose(model.logits(x, batch_size=2), out, atol=1e-5)
        assert torch.allclose(model.predict_proba(x).sum(1), torch.ones(5), atol=1e-5)
        assert torch.equal(model.predict(x), out.argmax(1))


def test_cnn_small_structure_and_parameter_count() -> None:
    model = build("cnn-small", input_shape=(1, 28, 28), classes=10)
    convs, linears = _layers(model.net, nn.Conv2d), _layers(model.net, nn.Linear)
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (1, 16, (4, 4), (2, 2)),
        (16, 32, (4, 4), (2, 2)),
    ]
    assert [(fc.in_features, fc.out_features) for fc in linears] == [(32 * 7 * 7, 100), (100, 10)]
    assert _layers(model.net, nn.MaxPool2d) == []
    expected = (16 * 1 * 16 + 16) + (32 * 16 * 16 + 32) + (32 * 7 * 7 * 100 + 100) + (100 * 10 + 10)
    assert sum(p.numel() for p in model.parameters()) == expected == 166_406
    assert model.net.features(torch.rand(2, 1, 28, 28)).shape == (2, 100)


def test_cnn_madry_structure_and_parameter_count() -> None:
    model = build("cnn-madry", input_shape=(1, 28, 28), classes=10)
    convs, linears = _layers(model.net, nn.Conv2d), _layers(model.net, nn.Linear)
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (1, 32, (5, 5), (1, 1)),
        (32, 64, (5, 5), (1, 1)),
    ]
    assert len(_layers(model.net, nn.MaxPool2d)) == 2
    assert [(fc.in_features, fc.out_features) for fc in linears] == [(64 * 7 * 7, 1024), (1024, 10)]
    # Madry et al.'s MNIST model has 3,274,634 parameters.
    assert sum(p.numel() for p in model.parameters()) == 3_274_634
    assert model.net.features(torch.rand(2, 1, 28, 28)).shape == (2, 1024)


@pytest.mark.parametrize("name", CORE)
def test_normalize_is_the_first_layer_and_is_applied(name: str) -> None:
    shape = (3, 8, 8)
    mean, std = [0.1, 0.5, 0.9], [0.2, 0.5, 2.0]
    torch.manual_seed(0)
    plain = build(name, input_shape=shape, classes=3)
    torch.manual_seed(0)
    normed = build(name, input_shape=shape, classes=3, mean=mean, std=std)
    first = next(iter(normed.net.features.children()))
    assert isinstance(first, Normalize)
    x = torch.rand(4, *shape)
    m = torch.tensor(mean).view(1, 3, 1, 1)
    s = torch.tensor(std).view(1, 3, 1, 1)
    # same weights, so normalising inside equals feeding the plain model normalised inputs
    assert torch.allclose(normed(x), plain((x - m) / s), atol=1e-5)
    assert not torch.allclose(normed(x), plain(x), atol=1e-3)
    assert normed.spec["options"] == {"mean": mean, "std": std}


def test_normalize_layer_per_feature_and_validation() -> None:
    layer = Normalize([1.0, 2.0], [2.0, 4.0], ndim=1)
    assert torch.allclose(layer(torch.tensor([[3.0, 6.0]])), torch.tensor([[1.0, 1.0]]))
    assert layer(torch.ones(1, 2, dtype=torch.float64)).dtype == torch.float32  # cast to its own dtype
    with pytest.raises(ValueError, match="positive std"):
        Normalize(0.0, 0.0)
    with pytest.raises(ValueError, match="positive std"):
        Normalize(float("nan"), 1.0)


def test_mlp_options_and_bottleneck_features() -> None:
    model = build("mlp", input_shape=(1, 8, 8), classes=4, widths=[32, 16], activation="tanh", bottleneck=2)
    linears = _layers(model.net, nn.Linear)
    assert [(fc.in_features, fc.out_features) for fc in linears] == [(64, 32), (32, 16), (16, 2), (2, 4)]
    assert len(_layers(model.net, nn.Tanh)) == 2
    x = torch.rand(7, 1, 8, 8)
    z = model.net.features(x)
    assert z.shape == (7, 2)
    # the logits are the head applied to the 2-D bottleneck (linear: no activation after it)
    assert torch.allclose(model(x), model.net.head(z))
    assert isinstance(list(model.net.features.children())[-1], nn.Linear)
    assert model.spec["options"] == {"widths": [32, 16], "activation": "tanh", "bottleneck": 2}


def test_class_names_and_bounds_are_kept() -> None:
    model = build("softmax", input_shape=(2,), classes=["a", "b", "c"], bounds=([0, -1], [10, 1]))
    assert model.classes == ("a", "b", "c")
    assert model.bounds.to_json() == [[0.0, -1.0], [10.0, 1.0]]


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("no-such-model", {}, "unknown model"),
        ("mlp", {"depth": 3}, "unknown option"),
        ("softmax", {"widths": [3]}, "unknown option"),
        ("mlp", {"activation": "swish"}, "unknown activation"),
        ("mlp", {"widths": [0]}, "positive"),
        ("mlp", {"bottleneck": 0}, "positive"),
    ],
)
def test_unknown_family_or_bad_option_raises(name: str, options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build(name, input_shape=(4,), classes=3, **options)


@pytest.mark.parametrize("name", ["cnn-small", "cnn-madry"])
def test_cnns_need_image_shapes(name: str) -> None:
    with pytest.raises(ValueError, match="image input shape"):
        build(name, input_shape=(64,), classes=10)


def test_a_classifier_needs_two_classes() -> None:
    with pytest.raises(ValueError, match="at least 2 classes"):
        build("softmax", input_shape=(4,), classes=1)
