"""The explorer's HTTP API through Starlette's test client: valid and invalid requests, jobs, concurrency."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
import torch

from advlab.explore.app import create_app
from advlab.explore.server import bind, load_session
from advlab.viz import compute_slice

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TestClient = pytest.importorskip("starlette.testclient").TestClient


@pytest.fixture(scope="module")
def session(digits_run, second_run):
    return load_session([digits_run, second_run])


@pytest.fixture(scope="module")
def client(session):
    with TestClient(create_app(session), base_url="http://127.0.0.1") as c:
        yield c


def wait(client, job, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = client.get(f"/api/job/{job}").json()
        if st["state"] not in ("queued", "running"):
            return st
        time.sleep(0.05)
    raise AssertionError(f"job {job} did not finish in {timeout}s")


SLICE = {"index": 3, "attack": "fgsm", "eps": 0.2, "third": "grey", "resolution": 48, "runs": [0, 1]}


@pytest.fixture(scope="module")
def done(client):
    r = client.post("/api/slice", json=SLICE)
    assert r.status_code == 202
    st = wait(client, r.json()["job"])
    assert st["state"] == "done", st
    return st


def test_page_info_and_static_assets(client, session):
    page = client.get("/")
    assert page.status_code == 200 and "advlab explore" in page.text and "/static/app.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN: every asset is local
    assert client.get("/static/app.js").status_code == 200 and client.get("/static/style.css").status_code == 200
    info = client.get("/api/info").json()
    assert info["n_test"] == len(session.data.x_test) and len(info["classes"]) == 10 and "pgd" in info["attacks"]
    assert len(info["runs"]) == 2 and len(info["palette"]) == 10 and "fmn" in info["minimization"]


def test_slice_job_matches_compute_slice_and_probe_matches_the_model(client, session, done):
    res = done["result"]
    assert res["kind"] == "slice" and len(res["panels"]) == 2 and res["fooled"] in (True, False)
    tri = session.triangle(__import__("advlab.explore.params", fromlist=["parse_slice"]).parse_slice(SLICE, session.limits))
    model = session.runs[0].model
    ref = compute_slice(model, tri.a, tri.b, tri.c, resolution=48)  # exhaustive, not adaptive
    p0 = res["panels"][0]
    np.testing.assert_allclose(np.array(p0["extent"]), np.array(ref.extent), rtol=1e-9)
    assert p0["inside"] == pytest.approx(float(ref.feasible.mean()))
    arrays = np.load(io.BytesIO(client.get(p0["arrays"]).content), allow_pickle=False)
    assert (arrays["labels"] == ref.labels).mean() > 0.97  # adaptive: same picture up to sub-cell islands
    # the probe at (s, t) returns exactly the model's probabilities at a + s·e₁ + t·e₂
    s, t = float(np.mean(ref.extent[0])), float(np.mean(ref.extent[1])) * 0.5
    x = torch.as_tensor(ref.to_input(s, t), dtype=torch.float32)
    pr = client.post(f"/api/job/{done['id']}/probe", json={"panel": 0, "s": s, "t": t}).json()
    if model.bounds.contains(x[None]).item():
        np.testing.assert_allclose(pr["probabilities"], model.predict_proba(x[None])[0].numpy(), rtol=1e-5, atol=1e-6)
        assert pr["inside"] and np.allclose(np.array(pr["pixels"]), x[0].numpy(), atol=1e-4)
    # far away is outside H: no probabilities
    out = client.post(f"/api/job/{done['id']}/probe", json={"panel": 0, "s": 1e3, "t": 0.0}).json()
    assert out["inside"] is False and "probabilities" not in out
    png = client.get(p0["figure"])
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(p0["regions"]).content[:4] == b"\x89PNG"
    prof = client.get(f"/api/job/{done['id']}/profiles?panel=1").json()
    assert len(prof["positions"]) == len(prof["probabilities"]) and prof["anchor_names"] == ["a", "b", "c", "a"]


def test_images_filter_by_class_and_misclassified(client, session):
    res = client.get("/api/images?class=3&misclassified=1&limit=500").json()
    pred = session.predictions(0)
    y = session.data.y_test
    expected = [int(i) for i in torch.nonzero((y == 3) & (pred != y)).flatten()]
    assert [r["index"] for r in res["images"]] == expected and res["count"] == len(expected)
    one = client.get("/api/image/5").json()
    assert one["label"] == int(y[5]) and len(one["pixels"]) == 8


@pytest.mark.parametrize("body, message", [
    ({**SLICE, "index": 10**6}, "index"),
    ({**SLICE, "index": -1}, "index"),
    ({**SLICE, "index": "3; rm -rf /"}, "index"),
    ({**SLICE, "attack": "nope"}, "attack"),
    ({**SLICE, "eps": -0.1}, "eps"),
    ({**SLICE, "eps": 5.0}, "eps"),  # L∞ ε beyond the box width
    ({**SLICE, "resolution": 100000}, "resolution"),
    ({**SLICE, "third": "model:/etc/passwd"}, "third"),
    ({**SLICE, "third": "image", "third_index": 99999}, "third_index"),
    ({**SLICE, "runs": [0, 7]}, "runs"),
    ({**SLICE, "path": "/tmp/x"}, "unknown parameter"),
    ({**SLICE, "norm": "l7"}, "norm"),
    ({**SLICE, "attack": "fgsm", "norm": "l0"}, "norm"),
    ({**SLICE, "zoom": 0.0}, "zoom"),
    ({**SLICE, "center": "elsewhere"}, "center"),
    ([1, 2, 3], "JSON object"),
])
def test_invalid_slice_requests_get_a_400_json_error(client, body, message):
    r = client.post("/api/slice", json=body)
    assert r.status_code == 400 and message in r.json()["error"]


def test_other_invalid_requests(client, done):
    assert client.post("/api/slice", content=b"{not json", headers={"content-type": "application/json"}).status_code == 400
    nan = client.post("/api/slice", content=b'{"index": 3, "attack": "fgsm", "eps": NaN}', headers={"content-type": "application/json"})
    assert nan.status_code == 400 and "eps" in nan.json()["error"]
    assert client.get("/api/images?class=42").status_code == 400
    assert client.get("/api/images?class=1&extra=2").status_code == 400
    assert client.get("/api/image/99999").status_code == 400
    assert client.get("/api/image/..%2F..%2Fetc").status_code in (400, 404)
    assert client.get("/api/job/j999999").status_code == 404
    assert client.post(f"/api/job/{done['id']}/probe", json={"panel": 5, "s": 0, "t": 0}).status_code == 400
    assert client.post(f"/api/job/{done['id']}/probe", json={"panel": 0, "s": "x", "t": 0}).status_code == 400
    assert client.get(f"/api/job/{done['id']}/panel/0/secrets.txt").status_code == 404
    assert client.get("/static/../session.py").status_code == 404
    assert client.post("/api/church", json={"index": 0, "attack": "pgd", "resolution": 500}).status_code == 400


def test_only_localhost_host_headers_are_answered(client):
    assert client.get("/api/info", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/api/info", headers={"host": "localhost:8765"}).status_code == 200


def test_bind_listens_on_loopback_only():
    sock = bind(0)
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port > 0
    finally:
        sock.close()


def test_minimisation_attack_moves_b_past_the_boundary(client, session):
    r = client.post("/api/slice", json={**SLICE, "attack": "deepfool", "eps": None, "runs": [0], "extend": 1.5})
    st = wait(client, r.json()["job"])
    assert st["state"] == "done", st
    assert st["result"]["extended"] == pytest.approx(1.5) and "1.5× the minimal distance" in st["result"]["caption"]


def test_church_job_reports_the_inside_fractions(client):
    r = client.post("/api/church", json={"index": 2, "attack": "pgd", "norm": "l2", "eps": 1.0, "resolution": 16})
    st = wait(client, r.json()["job"])
    assert st["state"] == "done", st
    res = st["result"]
    assert res["kinds"] == ["adversarial", "random"] and all(0 <= v <= 1 for v in res["inside"]) and res["center"] == "midpoint"
    assert client.get(res["figure"]).content[:4] == b"\x89PNG"


def test_cancelled_job_stops_and_slow_jobs_do_not_block_other_requests(session):
    app = create_app(session, workers=2)
    gate = threading.Event()
    original = session.slice

    def slow_slice(req, run, tri, job=None):  # each model batch waits for the gate: a slow computation
        def on_batch(done, total):
            gate.wait(5.0)
            job.step("slow", done, total)
        return __import__("advlab.viz", fromlist=["compute_slice"]).compute_slice(
            session.runs[run].model, tri.a, tri.b, tri.c, resolution=req.resolution, batch_size=64, on_batch=on_batch)

    session.slice = slow_slice  # type: ignore[method-assign]
    try:
        with TestClient(app, base_url="http://127.0.0.1") as c:
            job = c.post("/api/slice", json={**SLICE, "runs": [0], "resolution": 64, "seed": 5}).json()["job"]
            # while the job is stuck, other requests are answered at once, from other threads
            results = []

            def ask():
                results.append(c.get("/api/info").status_code)

            threads = [threading.Thread(target=ask) for _ in range(6)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(10)
            assert results == [200] * 6
            assert c.get(f"/api/job/{job}").json()["state"] in ("queued", "running")
            assert c.delete(f"/api/job/{job}").json()["cancelled"] is True
            gate.set()
            st = wait(c, job)
            assert st["state"] == "cancelled" and st["done"] < st["total"]  # it stopped before the last batch
    finally:
        session.slice = original  # type: ignore[method-assign]


def test_concurrent_slice_requests_all_complete(session):
    with TestClient(create_app(session, workers=2), base_url="http://127.0.0.1") as c:
        jobs = []

        def start(i):
            jobs.append(c.post("/api/slice", json={**SLICE, "index": 10 + i, "runs": [0], "resolution": 32}).json()["job"])

        threads = [threading.Thread(target=start, args=(i,)) for i in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(30)
        states = [wait(c, j)["state"] for j in jobs]
        assert len(jobs) == 4 and states == ["done"] * 4
