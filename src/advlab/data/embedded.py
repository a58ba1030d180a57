"""Datasets that need no download: scikit-learn's bundled iris and digits, and synthetic 2-D sets."""

from __future__ import annotations

import numpy as np

from advlab.bounds import Bounds
from advlab.data.raw import RawSplits
from advlab.data.registry import INFOS

# 10% of each feature's range on both sides: room to draw decision regions around the data
_PAD = 0.1


def _check_fraction(test_fraction: object) -> float:
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction: expected a number in [0, 1), got {test_fraction!r}")
    return float(test_fraction)


def _check_int(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise ValueError(f"{what}: expected an int >= {minimum}, got {value!r}")
    return int(value)


def _split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, ...]:
    """Stratified, seeded split; ``test_fraction=0`` keeps everything in train."""
    if test_fraction == 0.0:
        return x, y, x[:0], y[:0]
    from sklearn.model_selection import train_test_split

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=seed
    )
    return x_train, y_train, x_test, y_test


def _raw(name: str, x: np.ndarray, y: np.ndarray, test_fraction: object, seed: object, bounds: Bounds,
         info: dict[str, object], scale: float = 1.0) -> RawSplits:  # fmt: skip
    frac = _check_fraction(test_fraction)
    s = _check_int(seed, "seed", 0)
    x_train, y_train, x_test, y_test = _split(x, y, frac, s)
    meta = INFOS[name]
    split = f"stratified, test_fraction={frac}, seed={s}"
    return RawSplits(
        name, x_train, y_train, x_test, y_test, meta.classes, bounds, meta.input_shape, meta.feature_names,
        {"description": meta.description, "split": split, "test_fraction": frac, "seed": s, **info}, scale,
    )  # fmt: skip


def iris(*, test_fraction: float = 0.2, seed: int = 0) -> RawSplits:
    """150 flowers, 4 features in cm; bounds are the physical box [0, 10] cm for every feature."""
    from sklearn.datasets import load_iris

    data = load_iris()
    bounds = Bounds.of(([0.0] * 4, [10.0] * 4))
    note = "physical box: every measurement lies in [0, 10] cm"
    return _raw("iris", data.data, data.target, test_fraction, seed, bounds,
                {"source": "sklearn.datasets.load_iris", "bounds_note": note, "units": "cm"})  # fmt: skip


def digits(*, test_fraction: float = 0.2, seed: int = 0) -> RawSplits:
    """1797 8x8 digits, pixel values 0..16 scaled to [0, 1] (1437 train / 360 test by default)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return _raw("digits", data.data, data.target, test_fraction, seed, Bounds.of((0.0, 1.0)),
                {"source": "sklearn.datasets.load_digits", "bounds_note": "pixels 0..16 divided by 16"}, scale=16.0)  # fmt: skip


def _padded_bounds(x: np.ndarray) -> Bounds:
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = _PAD * np.maximum(hi - lo, 1e-6)
    return Bounds.of(((lo - pad).tolist(), (hi + pad).tolist()))


def _synthetic(name: str, x: np.ndarray, y: np.ndarray, test_fraction: object, seed: int,
               options: dict[str, object]) -> RawSplits:  # fmt: skip
    note = f"box around all samples padded by {_PAD:.0%} of each feature's range"
    info = {"source": f"sklearn.datasets.make_{name}", "bounds_note": note, **options}
    return _raw(name, x.astype(np.float32), y, test_fraction, seed, _padded_bounds(x.astype(np.float32)), info)


def moons(*, n_samples: int = 200, noise: float = 0.2, seed: int = 0, test_fraction: float = 0.2) -> RawSplits:
    """Two interleaving half circles with Gaussian noise."""
    from sklearn.datasets import make_moons

    n = _check_int(n_samples, "n_samples", 10)
    sigma = _check_noise(noise)
    s = _check_int(seed, "seed", 0)
    x, y = make_moons(n_samples=n, noise=sigma, random_state=s)
    return _synthetic("moons", x, y, test_fraction, s, {"n_samples": n, "noise": sigma})


def blobs(*, n_samples: int = 300, noise: float = 1.0, seed: int = 0, test_fraction: float = 0.2) -> RawSplits:
    """Three isotropic Gaussian blobs; ``noise`` is their standard deviation."""
    from sklearn.datasets import make_blobs

    n = _check_int(n_samples, "n_samples", 10)
    sigma = _check_noise(noise)
    s = _check_int(seed, "seed", 0)
    x, y = make_blobs(n_samples=n, centers=3, n_features=2, cluster_std=sigma, random_state=s)
    return _synthetic("blobs", x, y, test_fraction, s, {"n_samples": n, "noise": sigma})


def _check_noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise: expected a finite number >= 0, got {noise!r}")
    return float(noise)
