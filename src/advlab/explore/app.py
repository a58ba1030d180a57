"""The explorer's HTTP API and page (Starlette).

Routes (JSON unless noted; every bad parameter → 400 ``{"error": …}``, unknown ids → 404):

- ``GET /``: the page; ``GET /static/…``: its script and style, shipped in the package.
- ``GET /api/info``: runs, classes, attacks, limits.
- ``GET /api/images?class=K&misclassified=1&run=R&limit=N``: test images to pick from.
- ``GET /api/image/{index}``: one test image's pixels and the first run's probabilities.
- ``POST /api/slice``: start a slice job (body: see ``params.parse_slice``) → ``{"job": id}``.
- ``POST /api/church``: start a church-window job → ``{"job": id}``.
- ``GET /api/job/{id}``: state, stage and progress; with the result once done.
- ``DELETE /api/job/{id}``: cancel (the work stops at its next model batch).
- ``POST /api/job/{id}/probe``: ``{"panel", "s", "t"}`` → the input there and its probabilities.
- ``GET /api/job/{id}/profiles?panel=k``: probabilities along a → b → c → a.
- ``GET /api/job/{id}/panel/{k}/regions.png|figure.png|slice.npz``: downloads; ``GET /api/job/{id}/church.png``.

Only hosts ``127.0.0.1`` and ``localhost`` are answered (``TrustedHostMiddleware``: a page on
another site cannot reach the server through DNS rebinding). Computations run in worker threads.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import torch
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from advlab.explore import render
from advlab.explore.jobs import Job, JobRunner
from advlab.explore.params import ParamError, parse_church, parse_image_query, parse_probe, parse_slice
from advlab.explore.session import Session

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
MAX_BODY = 16_384


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ParamError(f"request body too large ({len(raw)} bytes, at most {MAX_BODY})")
    try:
        return json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ParamError("the request body must be JSON") from None


def create_app(session: Session, *, workers: int = 2, abandon_after: float = 60.0) -> Starlette:
    """The explorer application for ``session``; ``abandon_after``: seconds without a status poll before a job is cancelled."""
    jobs = JobRunner(workers=workers, abandon_after=abandon_after)
    static = resources.files("advlab.explore") / "static"

    def job_or_404(request: Request) -> Job:
        job = jobs.get(request.path_params["job_id"])
        if job is None:
            raise HTTPException(404, "no such job (finished jobs are kept for a while only)")
        return job

    def finished(job: Job) -> Any:
        if job.state != "done":
            raise HTTPException(409, f"job {job.id} is {job.state}, not done")
        return job.result

    async def page(request: Request) -> Response:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    async def info(request: Request) -> Response:
        out = session.info()
        out["palette"] = render.palette(len(out["classes"]))
        return JSONResponse(out)

    async def images(request: Request) -> Response:
        cls, mis, run, limit = parse_image_query(dict(request.query_params), session.limits, len(session.runs[0].model.classes))
        return JSONResponse(await run_in_threadpool(session.images, cls, mis, run, limit))

    async def image(request: Request) -> Response:
        raw = request.path_params["index"]
        if not raw.isdigit() or int(raw) >= session.limits.n_test:
            raise ParamError(f"index: expected an integer in [0, {session.limits.n_test - 1}], got {raw!r}")
        return JSONResponse(await run_in_threadpool(session.image, int(raw)))

    async def start_slice(request: Request) -> Response:
        req = parse_slice(await _body(request), session.limits)
        session.make_attack(req.attack)  # names and ε checked now: a 400, not a failed job

        def work(job: Job) -> dict[str, Any]:
            tri = session.triangle(req, job)
            panels = []
            for run in req.runs:
                data = session.slice(req, run, tri, job)
                panels.append({"run": run, "name": session.runs[run].name, "data": data,
                               "anchor_classes": session.runs[run].model.predict(torch.stack([tri.a, tri.b, tri.c])).tolist()})
            return {"request": req, "triangle": tri, "panels": panels}

        job = jobs.submit(work)
        return JSONResponse({"job": job.id}, status_code=202)

    async def start_church(request: Request) -> Response:
        req = parse_church(await _body(request), session.limits)
        session.make_attack(req.attack)
        job = jobs.submit(lambda job: {"church": session.church(req, job)})
        return JSONResponse({"job": job.id}, status_code=202)

    async def job_status(request: Request) -> Response:
        job = job_or_404(request)
        out = job.status()
        if job.state == "done":
            out["result"] = _describe(job)
        return JSONResponse(out)

    async def job_cancel(request: Request) -> Response:
        job = job_or_404(request)
        job.cancel()
        return JSONResponse({"id": job.id, "cancelled": True})

    def panel_of(job: Job, raw: str) -> tuple[dict[str, Any], int]:
        result = finished(job)
        panels = result.get("panels", [])
        k = parse_probe({"panel": raw, "s": 0, "t": 0}, len(panels))[0] if panels else -1
        if k < 0:
            raise HTTPException(404, "this job has no slice panels")
        return panels[k], k

    async def probe(request: Request) -> Response:
        job = job_or_404(request)
        result = finished(job)
        panels = result.get("panels", [])
        if not panels:
            raise HTTPException(404, "this job has no slice panels")
        k, s, t = parse_probe(await _body(request), len(panels))
        out = await run_in_threadpool(session.probe, panels[k]["data"], panels[k]["run"], s, t)
        return JSONResponse(out)

    async def profiles(request: Request) -> Response:
        job = job_or_404(request)
        panel, _ = panel_of(job, request.query_params.get("panel", "0"))
        out = await run_in_threadpool(session.profiles, finished(job)["triangle"], panel["run"])
        return JSONResponse(out)

    async def download(request: Request) -> Response:
        job = job_or_404(request)
        panel, k = panel_of(job, request.path_params["panel"])
        what = request.path_params["what"]
        data = panel["data"]
        if what == "regions.png":
            return Response(await run_in_threadpool(render.regions_png, data), media_type="image/png")
        if what == "figure.png":
            tri = finished(job)["triangle"]
            title = f"{panel['name']}: b = {tri.attack}" + ("" if tri.extended is None else f", extended to {tri.extended:.3g}× the minimal distance")
            png = await run_in_threadpool(render.slice_figure_png, data, (tri.a, tri.b, tri.c), title)
            return Response(png, media_type="image/png", headers={"Content-Disposition": f'attachment; filename="slice-{job.id}-{k}.png"'})
        if what == "slice.npz":
            return Response(await run_in_threadpool(render.slice_npz, data), media_type="application/octet-stream",
                            headers={"Content-Disposition": f'attachment; filename="slice-{job.id}-{k}.npz"'})
        raise HTTPException(404, f"unknown download {what!r}; expected regions.png, figure.png or slice.npz")

    async def church_png(request: Request) -> Response:
        job = job_or_404(request)
        result = finished(job)
        if "church" not in result:
            raise HTTPException(404, "this job computed no church windows")
        return Response(await run_in_threadpool(render.church_figure_png, result["church"]), media_type="image/png")

    async def bad_param(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, str(exc.detail))

    routes = [
        Route("/", page),
        Route("/api/info", info),
        Route("/api/images", images),
        Route("/api/image/{index}", image),
        Route("/api/slice", start_slice, methods=["POST"]),
        Route("/api/church", start_church, methods=["POST"]),
        Route("/api/job/{job_id}", job_status, methods=["GET"]),
        Route("/api/job/{job_id}", job_cancel, methods=["DELETE"]),
        Route("/api/job/{job_id}/probe", probe, methods=["POST"]),
        Route("/api/job/{job_id}/profiles", profiles),
        Route("/api/job/{job_id}/church.png", church_png),
        Route("/api/job/{job_id}/panel/{panel}/{what}", download),
        Mount("/static", app=StaticFiles(directory=str(static)), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=ALLOWED_HOSTS)],
        exception_handlers={ParamError: bad_param, HTTPException: http_error},
        lifespan=_lifespan(jobs),
    )
    app.state.jobs = jobs
    app.state.session = session
    return app


def _lifespan(jobs: JobRunner) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            jobs.shutdown()

    return lifespan


def _describe(job: Job) -> dict[str, Any]:
    """The JSON view of a finished job's result (arrays stay on the server; pictures by URL)."""
    result = job.result
    if "church" in result:
        d = result["church"]
        inside = d.feasible.mean(axis=(2, 3))[0]
        return {"kind": "church", "figure": f"/api/job/{job.id}/church.png", "kinds": list(d.kinds), "radius": d.radius,
                "inside": inside.tolist(), "fooled": d.fooled[0].tolist(), "crosses": d.crosses_boundary()[0].tolist(),
                "center": d.center, "source": d.source}
    tri = result["triangle"]
    panels = []
    for k, p in enumerate(result["panels"]):
        data = p["data"]
        base = f"/api/job/{job.id}/panel/{k}"
        panels.append({
            "run": p["run"], "name": p["name"], "extent": data.extent, "full_extent": data.full_extent,
            "resolution": data.resolution, "anchors": data.anchors.tolist(), "inside": float(data.feasible.mean()),
            "evaluations": int(data.evaluations), "magnification": data.magnification, "anchor_classes": p["anchor_classes"],
            "regions": f"{base}/regions.png", "figure": f"{base}/figure.png", "arrays": f"{base}/slice.npz",
        })
    caption = f"b = {tri.attack}"
    if tri.extended is not None:
        caption += f", moved along its direction to {tri.extended:.3g}× the minimal distance, clipped to H (past the boundary)"
    return {"kind": "slice", "panels": panels, "caption": caption, "extended": tri.extended, "fooled": tri.fooled,
            "ab_distance": float((tri.b - tri.a).norm()), "ac_distance": float((tri.c - tri.a).norm())}
