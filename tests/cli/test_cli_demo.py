"""``advlab demo`` writes one report with both experiments and says where it is."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
from click.testing import CliRunner

from advlab.cli import cli
from advlab.cli.demo_cmd import DEMO_EXPERIMENTS, INTRO


def test_demo_writes_the_report_and_prints_its_path(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    report = out / "report.html"
    assert f"report: {report.resolve()}" in res.output
    page = report.read_text(encoding="utf-8")
    assert INTRO.split(".")[0] in page  # opens with the plain explanation
    for name in DEMO_EXPERIMENTS:
        assert f'id="{name}"' in page
        metrics = json.loads((out / name / "metrics.json").read_text())
        assert metrics["experiment"] == name
        assert "fast" in metrics["scale"]
        assert list((out / name).glob("*.png"))
    assert page.count("<img") >= 7  # four iris figures and three bottleneck figures, embedded
