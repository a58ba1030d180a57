"""Throw a few hundred bad inputs at advlab's API and CLI and classify what happens.

Outcomes:
  clear     a ValueError/TypeError (library) or a one-line ``Error: …`` with exit code ≠ 0 (CLI)
  handled   the input was accepted and the result is right (checked where it can be)
  unclear   another exception type, an "internal error", or a raw traceback reaching the CLI user
  wrong     no error, but the result is wrong (e.g. an attack claiming success on NaN logits)

    PYTHONPATH=src python benchmarks/fuzz_inputs.py [--verbose] [--only api|cli]

Runs in a temporary folder (never in $ADVLAB_DATA); about a minute on one core.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import stat
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

CLEAR, HANDLED, UNCLEAR, WRONG = "clear", "handled", "unclear", "wrong"
Check = Callable[[Any], bool]
CASES: list[tuple[str, str, Callable[[], Any], Check | None]] = []  # (group, name, call, check)


def case(group: str, name: str, fn: Callable[[], Any], check: Check | None = None) -> None:
    """``check``: None means any return is fine (handled); else it must say the result is right."""
    CASES.append((group, name, fn, check))


def must_fail(_: Any) -> bool:
    return False


def classify(fn: Callable[[], Any], check: Check | None) -> tuple[str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn()
    except (ValueError, TypeError) as exc:
        return (CLEAR, str(exc)[:160]) if str(exc).strip() else (UNCLEAR, f"{type(exc).__name__} with no message")
    except Exception as exc:  # noqa: BLE001
        return UNCLEAR, f"{type(exc).__name__}: {str(exc)[:160]}"
    if isinstance(out, _CliOutcome):
        return out.kind, out.detail
    ok = True if check is None else bool(check(out))
    return (HANDLED, "") if ok else (WRONG, repr(out)[:160])


# --- fixtures --------------------------------------------------------------------------------------
class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.lin = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.flatten(1))


class Const(nn.Module):
    """Returns ``value`` logits (NaN, inf…) for every input, differentiably."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.lin = nn.Linear(16, 3)
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x.flatten(1)) * 0 + self.value


class Probs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = Tiny()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.inner(x) * 5, dim=1)


def tiny_model(net: nn.Module | None = None) -> Any:
    from advlab.models import wrap

    return wrap(net or Tiny(), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))


def inputs(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 1, 4, 4, generator=g), torch.arange(n) % 3


def attack_list() -> list[tuple[str, Any]]:
    from advlab import attacks as A

    return [
        ("fgsm", A.FGSM()), ("pgd", A.PGD(steps=3)), ("pgd-l2", A.PGD(norm="l2", steps=3)), ("bim", A.BIM(steps=3)),
        ("deepfool", A.DeepFool(steps=5)), ("cw", A.CarliniWagner(steps=5, binary_search_steps=2)),
        ("fmn", A.FMN(steps=5)), ("ddn", A.DDN(steps=5)),
    ]


# --- API cases ---------------------------------------------------------------------------------------
def api_cases(tmp: Path) -> None:
    from advlab.models import build, save, wrap

    model = tiny_model()
    x, y = inputs()
    for name, atk in attack_list():
        eps = 0.2 if name in ("fgsm", "pgd", "bim") else 1.0 if name == "pgd-l2" else None

        def call(xx: Any = x, yy: Any = y, atk: Any = atk, eps: Any = eps, **kw: Any) -> Any:
            return atk(model, xx, yy, eps=kw.pop("eps", eps), seed=0, **kw)

        nan_x = x.clone()
        nan_x[2, 0, 1, 1] = float("nan")
        inf_x = x.clone()
        inf_x[0, 0, 0, 0] = float("inf")
        case("attack-input", f"{name}: NaN in x", lambda c=call, v=nan_x: c(v), must_fail)
        case("attack-input", f"{name}: inf in x", lambda c=call, v=inf_x: c(v), must_fail)
        case("attack-input", f"{name}: x outside bounds", lambda c=call: c(x * 3 - 1), must_fail)
        case("attack-input", f"{name}: x wrong shape", lambda c=call: c(x.flatten(1)), must_fail)
        case("attack-input", f"{name}: x int dtype", lambda c=call: c((x * 255).to(torch.uint8)), must_fail)
        case("attack-input", f"{name}: x empty", lambda c=call: c(x[:0], y[:0]), must_fail)
        case("attack-input", f"{name}: x python list", lambda c=call: c(x.tolist()), must_fail)
        case("attack-input", f"{name}: x numpy float32", lambda c=call: c(x.numpy()), lambda r: r.inputs.shape == x.shape)
        case("attack-input", f"{name}: y out of range", lambda c=call: c(x, y + 5), must_fail)
        case("attack-input", f"{name}: y negative", lambda c=call: c(x, y - 3), must_fail)
        case("attack-input", f"{name}: y float", lambda c=call: c(x, y.float()), must_fail)
        case("attack-input", f"{name}: y wrong length", lambda c=call: c(x, y[:2]), must_fail)
        case("attack-input", f"{name}: y strings", lambda c=call: c(x, ["a"] * len(x)), must_fail)
        case("attack-input", f"{name}: batch_size 0", lambda c=call: c(batch_size=0), must_fail)
        case("attack-input", f"{name}: batch_size 2.5", lambda c=call: c(batch_size=2.5), must_fail)
        case("attack-input", f"{name}: seed 'abc'", lambda a=atk, e=eps: a(model, x, y, eps=e, seed="abc"), must_fail)
        case("attack-eps", f"{name}: eps -0.1", lambda c=call: c(eps=-0.1), must_fail)
        case("attack-eps", f"{name}: eps nan", lambda c=call: c(eps=float("nan")), must_fail)
        case("attack-eps", f"{name}: eps inf", lambda c=call: c(eps=float("inf")), must_fail)
        case("attack-eps", f"{name}: eps '0.1'", lambda c=call: c(eps="0.1"), must_fail)
        case("attack-eps", f"{name}: eps []", lambda c=call: c(eps=[]), must_fail)
        case("attack-eps", f"{name}: eps [[0.1]]", lambda c=call: c(eps=[[0.1]]), must_fail)
        case("attack-eps", f"{name}: eps True", lambda c=call: c(eps=True), must_fail)
        case("attack-eps", f"{name}: eps torch.tensor(0.1)", lambda c=call: c(eps=torch.tensor(0.1)), lambda r: r.eps in (None, [float(torch.tensor(0.1))]))
        case("attack-eps", f"{name}: eps np.float64(0.1)", lambda c=call: c(eps=np.float64(0.1)), lambda r: r.eps in (None, [0.1]))
        case("attack-eps", f"{name}: eps tensor([0.1, 0.2])", lambda c=call: c(eps=torch.tensor([0.1, 0.2])), lambda r: r.num_eps == 2 or r.eps is None)
        for label, value in (("NaN", float("nan")), ("+inf", float("inf")), ("-inf", float("-inf"))):
            bad_model = tiny_model(Const(value))
            case("attack-model", f"{name}: model returns {label} logits",
                 lambda a=atk, m=bad_model, e=eps: a(m, x, y, eps=e, seed=0), must_fail)
        pmodel = tiny_model(Probs())
        case("attack-model", f"{name}: model returns probabilities",
             lambda a=atk, m=pmodel, e=eps: a(m, x, y, eps=e, seed=0),
             lambda r: bool((r.predictions[r.success] != r.labels.expand_as(r.predictions)[r.success]).all()))
        case("attack-model", f"{name}: plain nn.Module without bounds", lambda a=atk, e=eps: a(Tiny(), x, y, eps=e), must_fail)

    # eps in the constructor
    from advlab import attacks as A

    case("attack-eps", "PGD(eps=0.1) then call without eps", lambda: A.PGD(steps=2, eps=0.1)(model, x, y, seed=0), lambda r: r.eps == [0.1])
    case("attack-eps", "FGSM(eps=-1)", lambda: A.FGSM(eps=-1), must_fail)
    case("attack-eps", "ATTACKS.create('pgd', eps=0.2)", lambda: A.ATTACKS.create("pgd", eps=0.2, steps=2)(model, x, y, seed=0), lambda r: r.eps == [0.2])
    case("attack-ctor", "ATTACKS.create('')", lambda: A.ATTACKS.create(""), must_fail)
    case("attack-ctor", "ATTACKS.create('nope')", lambda: A.ATTACKS.create("nope"), must_fail)
    case("attack-ctor", "ATTACKS.create('pgd', bogus=1)", lambda: A.ATTACKS.create("pgd", bogus=1), must_fail)
    for bad in (0, -1, 2.5, "10", None):
        case("attack-ctor", f"PGD(steps={bad!r})", lambda b=bad: A.PGD(steps=b), must_fail)
    for bad in ("l7", "", 3):
        case("attack-ctor", f"PGD(norm={bad!r})", lambda b=bad: A.PGD(norm=b), must_fail)
    case("attack-ctor", "CW(steps=0)", lambda: A.CarliniWagner(steps=0), must_fail)
    case("attack-ctor", "DeepFool(overshoot=-1)", lambda: A.DeepFool(overshoot=-1), must_fail)
    case("attack-ctor", "FMN(steps=-3)", lambda: A.FMN(steps=-3), must_fail)

    # success decided on logits: two classes whose probabilities round to the same float32
    class Tie(nn.Module):
        def forward(self, t: torch.Tensor) -> torch.Tensor:
            z = torch.zeros(t.shape[0], 3, dtype=torch.float64)
            z[:, 1] = 40.0  # class 1 wins by a margin far above float32 rounding of probabilities near 1
            z[:, 2] = 40.0 - 1e-9 * (1 + t.flatten(1)[:, 0].double())
            return z

    tie = wrap(Tie(), bounds=(0, 1), classes=3, input_shape=(1, 4, 4))
    case("attack-model", "success on logits (float64 near-tie)", lambda: A.FGSM()(tie, x, torch.full((6,), 2), eps=0.0),
         lambda r: bool(r.success.all()))

    # wrap
    case("wrap", "wrap(net, bounds=(0,1)) then attack", lambda: A.PGD(steps=2)(wrap(Tiny(), bounds=(0, 1)), x, y, eps=0.1, seed=0),
         lambda r: r.success.shape == (1, 6))
    def lazy_then_other_shape() -> Any:
        m = wrap(Tiny(), bounds=(0, 1))
        m(x)
        return m(torch.rand(2, 16))
    case("wrap", "wrap(net) later batch of another shape", lazy_then_other_shape, must_fail)
    case("wrap", "wrap(net, classes=10) for a 3-output net", lambda: wrap(Tiny(), bounds=(0, 1), classes=10, input_shape=(1, 4, 4)), must_fail)
    case("wrap", "wrap(net, input_shape wrong)", lambda: wrap(Tiny(), bounds=(0, 1), classes=3, input_shape=(3, 8, 8)), must_fail)
    case("wrap", "wrap(softmax net) is detected", lambda: wrap(Probs(), bounds=(0, 1), classes=3, input_shape=(1, 4, 4)),
         lambda m: getattr(m, "output", "logits") == "probabilities" or torch.allclose(torch.softmax(m(x), 1), Probs()(x), atol=1e-5))
    case("wrap", "wrap(net, bounds=(1, 0))", lambda: wrap(Tiny(), bounds=(1, 0), classes=3, input_shape=(1, 4, 4)), must_fail)
    case("wrap", "wrap(net, bounds=(0, nan))", lambda: wrap(Tiny(), bounds=(0, float("nan")), classes=3, input_shape=(1, 4, 4)), must_fail)
    case("wrap", "wrap(net, bounds='01')", lambda: wrap(Tiny(), bounds="01", classes=3, input_shape=(1, 4, 4)), must_fail)
    case("wrap", "wrap(net, classes=1)", lambda: wrap(nn.Linear(16, 1), bounds=(0, 1), classes=1, input_shape=(16,)), must_fail)
    case("wrap", "wrap(None)", lambda: wrap(None, bounds=(0, 1)), must_fail)
    case("wrap", "wrap('net')", lambda: wrap("net", bounds=(0, 1)), must_fail)
    case("wrap", "wrap(net) without bounds", lambda: wrap(Tiny()), must_fail)
    case("wrap", "wrap(net 1-D output)", lambda: wrap(nn.Sequential(nn.Flatten(0)), bounds=(0, 1), classes=3, input_shape=(3,)), must_fail)

    # save / load
    zoo = build("mlp", input_shape=(1, 4, 4), classes=3, widths=[8])
    good = save(zoo, tmp / "good.safetensors")
    case("model-file", "save/load zoo model", lambda: _load(good), lambda m: m.num_classes == 3)
    case("model-file", "load run folder", lambda: _load(_run_folder(tmp, zoo)), lambda m: m.num_classes == 3)
    case("model-file", "save wrapped custom model (importable class)", lambda: _save_load_custom(tmp), lambda ok: ok)
    case("model-file", "save plain custom model without factory", lambda: save(wrap(nn.Sequential(nn.Flatten(), nn.Linear(16, 3)), bounds=(0, 1), classes=3, input_shape=(1, 4, 4)), tmp / "c.safetensors"), must_fail)
    for label, mutate in _tamperings():
        path = tmp / f"tampered-{len(CASES)}.safetensors"
        case("model-file", f"load: {label}", lambda p=path, mu=mutate: _load(mu(good, p)), must_fail)
    case("model-file", "load: missing file", lambda: _load(tmp / "nope.safetensors"), must_fail)
    case("model-file", "load: a folder", lambda: _load(tmp), must_fail)

    # data
    from advlab import data

    case("data", "data.load(iris, limit_train=0): an empty training split, by design", lambda: data.load("iris", limit_train=0),
         lambda d: len(d.x_train) == 0 and len(d.x_test) > 0)
    for kwargs in ({"name": "nope"}, {"name": "iris", "limit_train": -1},
                   {"name": "iris", "classes": [7]}, {"name": "iris", "classes": []}, {"name": "iris", "bogus": 1},
                   {"name": "digits", "limit_test": "x"}, {"name": "iris", "features": ["nope"]}):
        case("data", f"data.load({kwargs})", lambda k=kwargs: data.load(**k), must_fail)
    case("data", "data.load mnist from empty dir, no download", lambda: data.load("mnist", data_dir=tmp / "empty", download=False), must_fail)
    case("data", "data.load mnist: a folder where a file should be", lambda: _mnist_with_folder(tmp), must_fail)
    case("data", "data.load mnist: corrupt gz", lambda: _mnist_corrupt(tmp), must_fail)
    case("data", "data.load mnist: forged stamp (same size and mtime)", lambda: _forged_stamp(tmp), must_fail)


def _load(path: Path) -> Any:
    import advlab

    return advlab.load(path)


def _run_folder(tmp: Path, model: Any) -> Path:
    from advlab.runs import save_run

    save_run(tmp / "run-api", model, {"name": "digits"})
    return tmp / "run-api"


def _save_load_custom(tmp: Path) -> bool:
    import advlab
    from advlab.models import wrap

    m = wrap(nn.Sequential(nn.Flatten(), nn.Linear(16, 3)), bounds=(0, 1), classes=3, input_shape=(1, 4, 4),
             factory="benchmarks.fuzz_inputs:make_seq")
    advlab.save(m, tmp / "custom.safetensors")
    back = advlab.load(tmp / "custom.safetensors")
    xx = torch.rand(3, 1, 4, 4)
    return bool(torch.equal(back(xx), m(xx)))


def make_seq() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 3))


def _tamperings() -> list[tuple[str, Callable[[Path, Path], Path]]]:
    from safetensors import safe_open
    from safetensors.torch import save_file

    def rewrite(spec_change: Callable[[dict[str, Any]], Any] | None = None, tensor_change: Callable[[dict[str, torch.Tensor]], Any] | None = None,
                raw_spec: str | None = None) -> Callable[[Path, Path], Path]:
        def go(src: Path, dst: Path) -> Path:
            with safe_open(str(src), framework="pt") as f:
                meta = dict(f.metadata())
                t = {k: f.get_tensor(k) for k in f.keys()}
            spec = json.loads(meta["advlab_spec"])
            if spec_change:
                spec_change(spec)
            if tensor_change:
                tensor_change(t)
            meta["advlab_spec"] = raw_spec if raw_spec is not None else json.dumps(spec)
            save_file(t, str(dst), metadata=meta)
            return dst
        return go

    def first_float(t: dict[str, torch.Tensor]) -> str:
        return next(k for k, v in t.items() if v.is_floating_point() and v.ndim == 2)

    def set_nan(t: dict[str, torch.Tensor]) -> None:
        k = first_float(t)
        t[k] = t[k].clone()
        t[k][0, 0] = float("nan")

    def to_int(t: dict[str, torch.Tensor]) -> None:
        k = first_float(t)
        t[k] = t[k].to(torch.int32)

    def truncate(src: Path, dst: Path) -> Path:
        dst.write_bytes(src.read_bytes()[:-40])
        return dst

    def garbage(src: Path, dst: Path) -> Path:
        dst.write_bytes(os.urandom(300))
        return dst

    def empty(src: Path, dst: Path) -> Path:
        dst.write_bytes(b"")
        return dst

    return [
        ("huge widths in spec (5 GB)", rewrite(lambda s: s["options"].update(widths=[40000, 40000]))),
        ("huge input_shape in spec", rewrite(lambda s: s.update(input_shape=[1, 40000, 40000]))),
        ("input_shape disagrees with weights", rewrite(lambda s: s.update(input_shape=[1, 8, 8]))),
        ("class count disagrees with weights", rewrite(lambda s: s.update(classes=[str(i) for i in range(10)]))),
        ("NaN weights", rewrite(tensor_change=set_nan)),
        ("int weights", rewrite(tensor_change=to_int)),
        ("spec not JSON", rewrite(raw_spec="{not json")),
        ("spec a list", rewrite(raw_spec="[1, 2]")),
        ("spec without family", rewrite(lambda s: s.pop("family"))),
        ("unknown family", rewrite(lambda s: s.update(family="nope"))),
        ("negative input_shape", rewrite(lambda s: s.update(input_shape=[-1, 4, 4]))),
        ("one class", rewrite(lambda s: s.update(classes=["a"]))),
        ("bounds reversed", rewrite(lambda s: s.update(bounds=[1, 0]))),
        ("unknown dtype", rewrite(lambda s: s.update(dtype="int8"))),
        ("options not a dict", rewrite(lambda s: s.update(options=[1]))),
        ("unknown option", rewrite(lambda s: s["options"].update(bogus=1))),
        ("truncated file", truncate),
        ("random bytes", garbage),
        ("empty file", empty),
    ]


def _mnist_with_folder(tmp: Path) -> Any:
    from advlab import data

    root = tmp / "mnist-dir"
    (root / "mnist" / "train-images-idx3-ubyte.gz").mkdir(parents=True, exist_ok=True)
    return data.load("mnist", data_dir=root, download=False)


def _shared_mnist() -> Path | None:
    for p in (Path(__file__).resolve().parents[1].parent / "shared" / "data", Path(os.environ.get("ADVLAB_DATA", "/nonexistent"))):
        if (p / "mnist").is_dir():
            return p / "mnist"
    return None


def _mnist_corrupt(tmp: Path) -> Any:
    from advlab import data

    src = _shared_mnist()
    if src is None:
        raise ValueError("skipped: no MNIST copy")
    root = tmp / "mnist-corrupt"
    shutil.rmtree(root, ignore_errors=True)
    (root / "mnist").mkdir(parents=True)
    for f in src.iterdir():
        shutil.copy(f, root / "mnist" / f.name)
    target = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:100])
    return data.load("mnist", data_dir=root, download=False, limit_train=10, limit_test=10)


def _forged_stamp(tmp: Path) -> Any:
    """Verify a copy, then replace a file with other bytes of the same size and mtime: must be re-checked."""
    from advlab import data

    src = _shared_mnist()
    if src is None:
        raise ValueError("skipped: no MNIST copy")
    root = tmp / "mnist-forged"
    shutil.rmtree(root, ignore_errors=True)
    (root / "mnist").mkdir(parents=True)
    for f in src.iterdir():
        shutil.copy(f, root / "mnist" / f.name)
    data.load("mnist", data_dir=root, download=False, limit_train=10, limit_test=10)
    target = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    st = target.stat()
    raw = bytearray(target.read_bytes())
    raw[-5] ^= 0xFF  # inside the gzip stream's data: checksum differs, size identical
    target.write_bytes(bytes(raw))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    import advlab.data.checksum as checksum

    checksum._memo.clear()  # a new process would not have the in-memory record
    return data.load("mnist", data_dir=root, download=False, limit_train=10, limit_test=10)


# --- CLI cases -------------------------------------------------------------------------------------
class _CliOutcome:
    def __init__(self, kind: str, detail: str) -> None:
        self.kind, self.detail = kind, detail


def cli_call(args: list[str], expect_ok: bool = False, check: Callable[[Any], bool] | None = None) -> Callable[[], Any]:
    def go() -> _CliOutcome:
        from click.testing import CliRunner

        from advlab.cli import cli

        res = CliRunner().invoke(cli, args, catch_exceptions=True)
        if res.exception is not None and not isinstance(res.exception, SystemExit):
            tb = "".join(traceback.format_exception(res.exception)).splitlines()[-1]
            return _CliOutcome(UNCLEAR, f"traceback: {tb[:160]}")
        out = res.output
        if res.exit_code != 0:
            if "Traceback" in out or "internal error" in out:
                return _CliOutcome(UNCLEAR, out.strip().splitlines()[-1][:160])
            if "Error" not in out:
                return _CliOutcome(UNCLEAR, f"exit {res.exit_code} with no error message")
            return _CliOutcome(CLEAR, out.strip().splitlines()[-1][:160])
        if expect_ok and (check is None or check(res)):
            return _CliOutcome(HANDLED, "")
        return _CliOutcome(WRONG, f"exit 0: {out.strip()[-160:]}")

    return go


def cli_cases(tmp: Path) -> None:
    from click.testing import CliRunner

    from advlab.cli import cli

    run = tmp / "run"
    res = CliRunner().invoke(cli, ["train", "mlp", "--data", "digits", "--epochs", "1", "--limit-train", "300", "-q", "--out", str(run)])
    if res.exit_code != 0:
        raise SystemExit(f"could not train the fuzz run: {res.output}")
    r = str(run)
    readonly = tmp / "readonly"
    readonly.mkdir()
    os.chmod(readonly, stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root writes through mode bits: use a folder no one may create files in
        readonly = Path("/sys/advlab-readonly")
    afile = tmp / "a-file"
    afile.write_text("x")
    full = "/dev/full"

    bad_attack = [
        (["--attack", ""], "empty attack"), (["--attack", "nope"], "unknown attack"), (["--eps", "nan"], "eps nan"),
        (["--eps", "-1"], "eps -1"), (["--eps", "abc"], "eps abc"), (["--eps", "inf"], "eps inf"), (["--eps", ","], "eps ','"),
        (["--n", "0"], "n 0"), (["--n", "-5"], "n -5"), (["--steps", "0"], "steps 0"), (["--steps", "-1"], "steps -1"),
        (["--batch-size", "0"], "batch 0"), (["--batch-size", "-2"], "batch -2"), (["--option", "bogus=1"], "unknown option"),
        (["--option", "novalue"], "option without ="), (["--option", "restarts=-1"], "restarts -1"), (["--norm", "l7"], "norm l7"),
        (["--norm", ""], "norm ''"), (["--device", "tpu"], "device tpu"), (["--device", "cuda:99"], "device cuda:99"),
        (["--gallery", "-1"], "gallery -1"), (["--out", str(afile)], "out is a file"), (["--out", str(readonly / "x")], "out read-only"),
        (["--out", "/proc/advlab-x"], "out in /proc"), (["--data-dir", str(afile)], "data-dir a file"),
    ]
    for extra, label in bad_attack:
        case("cli-attack", f"attack {label}", cli_call(["attack", r, "--attack", "pgd", "--eps", "0.1", "--steps", "2", "--n", "10", "-q", *extra]
                                                        if extra[0] not in ("--attack", "--eps", "--steps") else
                                                        ["attack", r, "--n", "10", "-q", *(["--eps", "0.1"] if extra[0] != "--eps" else []), *extra]))
    case("cli-attack", "attack --seed -1 (any integer is a seed)", cli_call(["attack", r, "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q", "--gallery", "0", "--seed", "-1", "--out", str(tmp / "seed-neg")], expect_ok=True))
    case("cli-attack", "attack run missing", cli_call(["attack", str(tmp / "nope"), "-q"]))
    case("cli-attack", "attack run is a text file", cli_call(["attack", str(afile), "-q"]))
    corrupt = tmp / "corrupt-run"
    shutil.copytree(run, corrupt)
    (corrupt / "run.json").write_text("{not json")
    case("cli-attack", "attack run.json corrupt", cli_call(["attack", str(corrupt), "--eps", "0.1", "-q"]))
    corrupt2 = tmp / "corrupt-model"
    shutil.copytree(run, corrupt2)
    (corrupt2 / "model.safetensors").write_bytes(b"\x00" * 50)
    case("cli-attack", "attack model file corrupt", cli_call(["attack", str(corrupt2), "--eps", "0.1", "-q"]))
    weird = tmp / "we[ir]d [/bold] run"
    shutil.copytree(run, weird)
    case("cli-attack", "attack path with [ ] (rich markup)", cli_call(["attack", str(weird), "--attack", "fgsm", "--eps", "0.1", "--n", "5"], expect_ok=True))
    case("cli-attack", "attack output to a full disk", cli_call(["attack", r, "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q", "--out", full]))

    # never overwrite silently: the second identical call must refuse (or use a new folder)
    out_twice = tmp / "twice"
    first = cli_call(["attack", r, "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q", "--gallery", "0", "--out", str(out_twice)], expect_ok=True)
    case("cli-runs", "attack once", first)

    def second_call() -> _CliOutcome:
        before = (out_twice / "result.safetensors").read_bytes() if (out_twice / "result.safetensors").exists() else b""
        out = cli_call(["attack", r, "--attack", "fgsm", "--eps", "0.3", "--n", "5", "-q", "--gallery", "0", "--out", str(out_twice)])()
        after = (out_twice / "result.safetensors").read_bytes() if (out_twice / "result.safetensors").exists() else b""
        if out.kind == WRONG and before != after:
            return _CliOutcome(WRONG, "second attack overwrote the first result silently")
        return out if out.kind != WRONG else _CliOutcome(HANDLED, "kept in a new folder")
    case("cli-runs", "attack again into the same folder", second_call)

    def train_again() -> _CliOutcome:
        out = cli_call(["train", "mlp", "--data", "digits", "--epochs", "1", "--limit-train", "200", "-q", "--out", r])()
        return out if out.kind != WRONG else _CliOutcome(WRONG, "train overwrote an earlier run silently")
    case("cli-runs", "train again into an existing run", train_again)

    resume_run = tmp / "resume"
    CliRunner().invoke(cli, ["train", "softmax", "--data", "digits", "--epochs", "1", "--limit-train", "200", "-q", "--out", str(resume_run)])
    for extra, label in ((["--data", "iris"], "other dataset"), (["--data", "digits", "--classes", "0,1"], "other classes"),
                         (["--data", "digits", "--limit-train", "100"], "other limit")):
        case("cli-runs", f"train --resume with {label}", cli_call(["train", "softmax", *extra, "--epochs", "2", "-q", "--resume", "--out", str(resume_run), *(["--limit-train", "200"] if "--limit-train" not in extra else [])]))

    neg = tmp / "neg-epoch"
    CliRunner().invoke(cli, ["train", "softmax", "--data", "digits", "--epochs", "1", "--limit-train", "200", "-q", "--out", str(neg)])
    _set_checkpoint_epoch(neg / "checkpoint.safetensors", -3)
    case("cli-runs", "train --resume from a checkpoint with epoch -3", cli_call(["train", "softmax", "--data", "digits", "--epochs", "2", "--limit-train", "200", "-q", "--resume", "--out", str(neg)]))

    bad_train = [
        (["--limit-train", "0"], "limit-train 0"), (["--limit-train", "-5"], "limit-train -5"), (["--epochs", "0"], "epochs 0"),
        (["--epochs", "-1"], "epochs -1"), (["--lr", "nan"], "lr nan"), (["--lr", "-1"], "lr -1"), (["--lr", "inf"], "lr inf"),
        (["--batch-size", "0"], "batch 0"), (["--classes", "99"], "classes 99"), (["--classes", "a,b"], "classes a,b"),
        (["--classes", ","], "classes ','"), (["--method", "nope"], "method nope"), (["--method", ""], "method ''"),
        (["--method", "fast", "--eps", "-1"], "eps -1"), (["--method", "fast", "--eps", "nan"], "eps nan"), (["--option", "bogus=1"], "model option bogus"),
        (["--option", "widths=[-4]"], "widths -4"), (["--option", "widths=[0]"], "widths 0"), (["--option", "widths=abc"], "widths abc"),
        (["--method-option", "bogus=1"], "method option bogus"), (["--features", "nope"], "features nope"), (["--out", str(afile)], "out is a file"),
        (["--out", str(readonly / "r")], "out read-only"), (["--out", full], "out /dev/full"), (["--device", "gpu9"], "device gpu9"),
    ]
    for extra, label in bad_train:
        out_dir = tmp / f"train-{len(CASES)}"
        args = ["train", "mlp", "--data", "digits", "--epochs", "1", "--limit-train", "100", "-q", "--out", str(out_dir), *extra]
        case("cli-train", f"train {label}", cli_call(args))
    case("cli-train", "train unknown model", cli_call(["train", "nope", "--data", "digits", "-q", "--out", str(tmp / "t-x")]))
    case("cli-train", "train unknown data", cli_call(["train", "mlp", "--data", "nope", "-q", "--out", str(tmp / "t-y")]))

    for cmd in ("slice", "church", "profile"):
        base = [cmd, r, "-q"]
        suffix = {"slice": ".png", "church": ".png", "profile": ".png"}[cmd]
        for extra, label in ((["--index", "99999"], "index 99999"), (["--eps", "nan"], "eps nan"), (["--eps", "-1"], "eps -1"),
                             (["--third", "bogus"], "third bogus"), (["--third", "image:99999"], "third image:99999"),
                             (["--third", "model:/nope"], "third model missing"), (["--attack", ""], "attack ''"),
                             (["--attack", "nope"], "attack nope"), (["--steps", "0"], "steps 0"), (["--size", "-1", "--third", "random-perturbation"], "size -1"),
                             (["--option", "bogus=1"], "option bogus"), (["--out", str(tmp / f"{cmd}.txt")], "out .txt"),
                             (["--out", str(readonly / f"x{suffix}")], "out read-only"), (["--perturbation-norm", "l9", "--third", "random-perturbation"], "perturbation norm l9")):
            case(f"cli-{cmd}", f"{cmd} {label}", cli_call([*base, *extra]))
    dollar = tmp / "dollar-run"
    _run_with_class_names(run, dollar, ["$a", "b$", "$\\alpha$", "d", "e", "f", "g", "h", "i", "j$"])
    case("cli-slice", "slice with class names holding $", cli_call(["slice", str(dollar), "-q", "--steps", "2", "--out", str(tmp / "dollar.png")], expect_ok=True))
    case("cli-attack", "attack gallery with class names holding $", cli_call(["attack", str(dollar), "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q"], expect_ok=True))

    for extra, label in ((["--attack", ""], "attack ''"), (["--eps", "nan"], "eps nan"), (["--n", "0"], "n 0"),
                         (["--option", "bogus=1"], "option bogus"), (["--out", str(readonly / "t")], "out read-only")):
        case("cli-transfer", f"transfer {label}", cli_call(["transfer", r, r, "-q", *(["--eps", "0.1"] if "--eps" not in extra else []), *extra]))

    for extra, label in ((["nope"], "unknown experiment"), (["iris-fooling", "--query", "nan,nan", "--fast"], "query nan"),
                         (["iris-fooling", "--query", "1"], "query one number"), (["iris-fooling", "--query", "a,b"], "query a,b"),
                         (["iris-fooling", "--query", "inf,1"], "query inf"), (["iris-fooling", "--option", "bogus=1", "--fast"], "option bogus"),
                         (["iris-fooling", "--fast", "--out", str(readonly / "x")], "out read-only")):
        case("cli-reproduce", f"reproduce {label}", cli_call(["reproduce", *extra, "-q"]))
    for args, label in ((["data", "fetch", "nope"], "data fetch unknown"), (["data", "info", "nope"], "data info unknown"),
                        (["models", "info", "nope"], "models info unknown"), (["nope"], "unknown command")):
        case("cli-misc", label, cli_call(args))

    # a user's own network through the CLI
    netfile = tmp / "my_net.py"
    netfile.write_text("import torch\nfrom torch import nn\n\ndef make_net():\n"
                       "    torch.manual_seed(0)\n    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))\n")
    weights = tmp / "my_net.pt"
    torch.manual_seed(0)
    torch.save(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)).state_dict(), weights)
    ts = tmp / "my_net.ts"
    torch.jit.save(torch.jit.script(nn.Sequential(nn.Flatten(), nn.Linear(64, 10))), str(ts))
    custom = [f"{netfile}:make_net", "--weights", str(weights), "--data", "digits"]
    case("cli-custom", "attack module.py:factory --weights", cli_call(["attack", *custom, "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q", "--out", str(tmp / "c1")], expect_ok=True))
    case("cli-custom", "attack torchscript file", cli_call(["attack", str(ts), "--data", "digits", "--attack", "fgsm", "--eps", "0.1", "--n", "5", "-q", "--out", str(tmp / "c2")], expect_ok=True))
    case("cli-custom", "slice module.py:factory", cli_call(["slice", *custom, "-q", "--steps", "2", "--out", str(tmp / "c3.png")], expect_ok=True))
    case("cli-custom", "church module.py:factory", cli_call(["church", *custom, "-q", "--steps", "2", "--out", str(tmp / "c4.png")], expect_ok=True))
    case("cli-custom", "profile module.py:factory", cli_call(["profile", *custom, "-q", "--steps", "2", "--out", str(tmp / "c5.png")], expect_ok=True))
    case("cli-custom", "transfer module.py:factory + run", cli_call(["transfer", f"{netfile}:make_net", r, "--weights", str(weights), "--data", "digits", "--eps", "0.1", "--n", "5", "-q", "--out", str(tmp / "c6")], expect_ok=True))
    case("cli-custom", "attack module.py:missing", cli_call(["attack", f"{netfile}:missing", "--data", "digits", "--eps", "0.1", "-q"]))
    case("cli-custom", "attack module.py:factory without --data", cli_call(["attack", f"{netfile}:make_net", "--eps", "0.1", "-q"]))
    case("cli-custom", "attack module.py:factory, weights of another net", cli_call(["attack", *custom[:1], "--weights", str(run / "model.safetensors"), "--data", "digits", "--eps", "0.1", "-q"]))
    case("cli-custom", "attack torchscript with wrong --data", cli_call(["attack", str(ts), "--data", "iris", "--eps", "0.1", "-q"]))


def _set_checkpoint_epoch(path: Path, epoch: int) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata())
        t = {k: f.get_tensor(k) for k in f.keys()}
    m = json.loads(meta["advlab_checkpoint"])
    m["epoch"] = epoch
    meta["advlab_checkpoint"] = json.dumps(m)
    save_file(t, str(path), metadata=meta)


def _run_with_class_names(src: Path, dst: Path, names: list[str]) -> None:
    import advlab

    shutil.copytree(src, dst)
    model = advlab.load(dst / "model.safetensors")
    model.classes = names
    advlab.save(model, dst / "model.safetensors")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="print every case that is not clear/handled")
    parser.add_argument("--all", action="store_true", help="print every case")
    parser.add_argument("--only", choices=["api", "cli"], default=None)
    parser.add_argument("--write", action="store_true", help="also write the fuzz-inputs section of benchmarks/RESULTS.md")
    parser.add_argument("--before", default=None, metavar="TEXT", help="with --write: the counts before the fixes, one line")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    tmp = Path(tempfile.mkdtemp(prefix="advlab-fuzz-"))
    os.environ["ADVLAB_CACHE"] = str(tmp / "cache")
    here = Path.cwd()
    os.chdir(tmp)  # commands writing default folders (runs/…) write them here
    try:
        if args.only in (None, "api"):
            api_cases(tmp)
        if args.only in (None, "cli"):
            cli_cases(tmp)
        counts: collections.Counter[str] = collections.Counter()
        by_group: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        for group, name, fn, check in CASES:
            kind, detail = classify(fn, check)
            counts[kind] += 1
            by_group[group][kind] += 1
            if args.all or (args.verbose and kind in (UNCLEAR, WRONG)):
                print(f"[{kind:>7}] {group:<14} {name}: {detail}")
    finally:
        os.chdir(here)
        for p in tmp.rglob("*"):
            if p.is_dir():
                os.chmod(p, 0o755)
        shutil.rmtree(tmp, ignore_errors=True)
    total = f"{sum(counts.values())} cases: " + ", ".join(f"{counts[k]} {k}" for k in (CLEAR, HANDLED, UNCLEAR, WRONG))
    print("\n" + total)
    for group in sorted(by_group):
        c = by_group[group]
        print(f"  {group:<16} " + "  ".join(f"{k} {c[k]:>3}" for k in (CLEAR, HANDLED, UNCLEAR, WRONG)))
    if args.write:
        from benchmarks import common

        rows = [{"group": g, **{k: by_group[g][k] for k in (CLEAR, HANDLED, UNCLEAR, WRONG)}} for g in sorted(by_group)]
        body = ("## Fuzzing bad inputs (benchmarks/fuzz_inputs.py)\n\n"
                "Bad inputs and faults thrown at the API and the CLI, each outcome classified: clear error, handled "
                "(accepted, result checked), unclear error or traceback, silently wrong.\n\n"
                + (f"Before the fixes of issue 9: {args.before}\n\n" if args.before else "")
                + f"Now: {total}\n\n{common.markdown_table(rows)}\n\nMachine: {common.machine()}\n")
        common.write_section(common.RESULTS, "fuzz-inputs", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
