"""The explorer as a user sees it: `advlab explore` on a trained digits run, driven in Debian's chromium by Playwright."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs the playwright package (advlab[explore])")


@pytest.fixture()
def server(digits_run):
    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from advlab.cli import main; main()", "explore", str(digits_run), "--port", "0", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url, seen = None, []
    end = time.monotonic() + 60
    while time.monotonic() < end and url is None:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        m = re.search(r"open (http://127\.0\.0\.1:\d+/)", line)
        url = m.group(1) if m else None
    if url is None:
        proc.kill()
        pytest.fail(f"advlab explore printed no URL: {''.join(seen)}")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_pick_compute_click_shows_the_models_values(server, digits_run, tmp_path):
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium; .ci/run does this)")
    from advlab.runs import open_run

    model = open_run(digits_run).load_model().eval()
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(str(tmp_path / "profile"), executable_path=CHROMIUM, args=ARGS, headless=True,
                                                        viewport={"width": 1280, "height": 1100})
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server)
            page.wait_for_function("document.querySelectorAll('#attack option').length > 0")
            # pick an image by class (the first test image labelled 3) and an attack with its ε
            page.select_option("#cls", "3")
            page.click("#find")
            page.wait_for_function("document.querySelectorAll('#imagelist option').length > 0")
            first = page.eval_on_selector("#imagelist", "el => el.options[0].value")
            page.select_option("#imagelist", first)
            assert page.input_value("#index") == first
            page.select_option("#attack", "fgsm")
            page.fill("#eps", "0.3")
            page.select_option("#third", "random-image")
            page.fill("#resolution", "96")
            page.click("#compute")
            page.wait_for_selector(".panel img.regions", timeout=60_000)
            page.wait_for_function("document.querySelector('.panel img.regions').complete && "
                                   "document.querySelector('.panel img.regions').naturalWidth === 96")
            assert page.text_content("#status") == "done"
            # click inside the slice, near the middle of the segment a → b (inside H: a and b both are)
            panel = page.eval_on_selector(".panel canvas.overlay", "el => { const r = el.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }")
            anchors = page.evaluate("state.result.panels[0].anchors")
            extent = page.evaluate("state.result.panels[0].extent")
            s_mid, t_mid = (anchors[0][0] + anchors[1][0]) / 2, (anchors[0][1] + anchors[1][1]) / 2 + 0.02
            px = panel[0] + (s_mid - extent[0][0]) / (extent[0][1] - extent[0][0]) * panel[2]
            py = panel[1] + (1 - (t_mid - extent[1][0]) / (extent[1][1] - extent[1][0])) * panel[3]
            page.uncheck("#hover")
            page.mouse.click(px, py)
            page.wait_for_function("document.querySelectorAll('#bars .bar').length === 10")
            s, t = float(page.get_attribute("#probe", "data-s")), float(page.get_attribute("#probe", "data-t"))
            bars = np.array([float(v) for v in page.eval_on_selector_all("#bars .bar", "els => els.map(e => e.dataset.p)")])
            shown = page.evaluate("""() => { const c = document.getElementById('probe-canvas'); const k = c.width / 8;
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const out = [];
                for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) out.push(d[4 * ((i * k + k / 2) * c.width + j * k + k / 2)]);
                return out; }""")
            page.screenshot(path=str(tmp_path / "explore.png"), full_page=True)
            shutil.copy(tmp_path / "explore.png", "/tmp/explore_screenshot.png")
            # the clicked point, recomputed from the slice's own arrays: x = a + s·e₁ + t·e₂
            href = page.get_attribute(".panel a.download-arrays", "href")
            with urllib.request.urlopen(server.rstrip("/") + href, timeout=30) as resp:
                arrays = np.load(io.BytesIO(resp.read()), allow_pickle=False)
            x = arrays["origin"] + s * arrays["basis"][0] + t * arrays["basis"][1]
            xt = torch.as_tensor(x, dtype=torch.float32).reshape(1, *model.input_shape)
            assert model.bounds.contains(xt).item()
            expected = model.predict_proba(xt)[0].numpy()
            np.testing.assert_allclose(bars, expected, rtol=1e-4, atol=1e-5)
            assert int(page.get_attribute("#probe", "data-prediction")) == int(expected.argmax())
            np.testing.assert_allclose(np.array(shown) / 255.0, x.reshape(8, 8).ravel(), atol=1.5 / 255)
            # a second click elsewhere changes both panels to that point's values
            page.mouse.click(px + panel[2] * 0.1, py)
            page.wait_for_function(f"Number(document.getElementById('probe').dataset.s) !== {s}")
            s2 = float(page.get_attribute("#probe", "data-s"))
            assert s2 > s
            assert not errors, errors
        finally:
            browser.close()
