"""``advlab slice|church|profile|animate`` on a tiny digits run trained in tmp_path."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from PIL import Image

from advlab.cli import cli


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("slice-runs")
    res = CliRunner().invoke(cli, ["train", "mlp", "--data", "digits", "--epochs", "2", "--lr", "0.01", "--option", "widths=[16]",
                                   "-q", "--out", str(root / "mlp")])
    assert res.exit_code == 0, res.output
    return root / "mlp"


def test_slice_writes_png_and_svg(run, tmp_path):
    res = CliRunner().invoke(cli, ["slice", str(run), "--index", "3", "--attack", "pgd", "--eps", "0.2", "--steps", "5",
                                   "--third", "grey", "--resolution", "32", "-q"])
    assert res.exit_code == 0, res.output
    assert "a: " in res.output and "inside H" in res.output
    with Image.open(run / "slices" / "slice-3.png") as im:
        assert im.size[0] > 100
    out = tmp_path / "s.svg"
    res = CliRunner().invoke(cli, ["slice", str(run), "--attack", "fgsm", "--third", "random-perturbation", "--size", "1.0",
                                   "--resolution", "16", "--zoom", "2", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert out.read_text().lstrip().startswith("<?xml")


def test_church_and_profile(run, tmp_path):
    res = CliRunner().invoke(cli, ["church", str(run), "--indices", "0,1", "--attack", "fgsm", "--eps", "0.1",
                                   "--resolution", "8", "--out", str(tmp_path / "c.png"), "-q"])
    assert res.exit_code == 0, res.output
    assert "2 images × 3 windows" in res.output and (tmp_path / "c.png").stat().st_size > 0
    res = CliRunner().invoke(cli, ["profile", str(run), "--index", "1", "--attack", "fgsm", "--eps", "0.2", "--third",
                                   "image:5", "--points", "20", "--out", str(tmp_path / "p.png"), "-q"])
    assert res.exit_code == 0, res.output
    assert "b → c" in res.output and (tmp_path / "p.png").stat().st_size > 0


def test_animate_trains_and_writes_one_frame_per_epoch(tmp_path):
    out = tmp_path / "train.gif"
    res = CliRunner().invoke(cli, ["animate", "softmax", "--data", "digits", "--epochs", "2", "--limit-train", "200",
                                   "--resolution", "12", "--third", "grey", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    with Image.open(out) as im:
        assert im.n_frames == 3


@pytest.mark.parametrize(
    "args,message",
    [
        (["--third", "purple"], "unknown third point"),
        (["--index", "9999"], "out of range"),
        (["--attack", "nope"], "unknown attack"),
        (["--out", "x.jpg"], "--out must end"),
        (["--third", "seed:2", "--attack", "deepfool"], "does not depend on its seed"),
        (["--third", "seed:2", "--attack", "pgd", "--eps", "0.2", "--steps", "3"], ""),
    ],
)
def test_errors_are_one_line(run, args, message, tmp_path):
    res = CliRunner().invoke(cli, ["slice", str(run), "-q", "--resolution", "8", "--out", str(tmp_path / "x.png"), *args]
                             if "--out" not in args else ["slice", str(run), "-q", *args])
    if message:
        assert res.exit_code != 0 and message in res.output and "Traceback" not in res.output
    else:  # a minimisation attack needs no eps
        assert res.exit_code == 0, res.output


def test_animate_rejects_a_model_dependent_third_point(tmp_path):
    res = CliRunner().invoke(cli, ["animate", "softmax", "--data", "digits", "--third", "seed:1", "--out", str(tmp_path / "t.gif")])
    assert res.exit_code != 0 and "must not depend" in res.output


def test_profile_of_a_minimisation_attack_says_b_was_extended(run, tmp_path):
    res = CliRunner().invoke(cli, ["profile", str(run), "--index", "1", "--attack", "deepfool", "--third", "grey",
                                   "--points", "20", "--out", str(tmp_path / "p.png"), "-q"])
    assert res.exit_code == 0, res.output
    assert "b = a + 1.5×(minimal adversarial − a), clipped to H: past the boundary" in res.output
    res = CliRunner().invoke(cli, ["profile", str(run), "--index", "1", "--attack", "fgsm", "--eps", "0.2", "--third", "grey",
                                   "--points", "20", "--out", str(tmp_path / "q.png"), "-q"])
    assert res.exit_code == 0 and "minimal adversarial" not in res.output


def test_church_sizes_each_window_to_be_half_inside_h(run, tmp_path):
    args = ["church", str(run), "--indices", "0,1,2", "--attack", "pgd", "--norm", "l2", "--eps", "2.0", "--resolution", "12", "-q"]
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "c.png")])
    assert res.exit_code == 0, res.output
    for kind in ("adversarial", "random", "targeted"):
        assert f"  {kind}: " in res.output and "100% of the windows at least half inside" in res.output.split(f"  {kind}: ")[1].splitlines()[0]
    assert "crosses a boundary inside H" in res.output
    res = CliRunner().invoke(cli, [*args, "--min-inside", "1.5", "--out", str(tmp_path / "d.png")])
    assert res.exit_code != 0 and "min_inside" in res.output


@pytest.mark.parametrize("bad", ["nan", "-1", "0"])
def test_church_refuses_a_bad_eps_even_for_a_minimisation_attack(run, tmp_path, bad):
    # The default church attack (FMN) takes no ε; a bad --eps must still be an error, not silently ignored.
    res = CliRunner().invoke(cli, ["church", str(run), "--indices", "0", "--eps", bad, "--out", str(tmp_path / "c.png"), "-q"])
    assert res.exit_code != 0 and "--eps" in res.output and "finite number > 0" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "c.png").exists()
