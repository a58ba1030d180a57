"""Start the explorer: load runs into a ``Session`` and serve the app on 127.0.0.1 with uvicorn."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
_MISSING = "the explorer needs the optional extra: pip install 'advlab[explore]' (starlette and uvicorn)"


def check_installed() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise RuntimeError(_MISSING) from None


def load_session(run_paths: Sequence[str | Path], data: str | None = None, data_dir: str | Path | None = None,
                 quiet: bool = True, max_resolution: int = 384) -> Any:
    """A ``Session`` of the runs at ``run_paths``; test images from ``data`` (a dataset name) or the first run's dataset."""
    from advlab import data as data_mod
    from advlab.explore.session import LoadedRun, Session
    from advlab.runs import open_run

    runs = [open_run(p) for p in run_paths]
    loaded = [LoadedRun(name=_name(r.path, r.model_file, i), model=r.load_model().cpu().eval()) for i, r in enumerate(runs)]
    if data is not None:
        ds = data_mod.load(data, data_dir=data_dir, quiet=quiet)
    else:
        with_data = [r for r in runs if r.info.get("data")]
        if not with_data:
            raise ValueError("explore: no run says which dataset it was trained on (bare .safetensors); pass --data NAME")
        ds = with_data[0].load_data(data_dir, quiet=quiet)
    return Session(loaded, ds, max_resolution=max_resolution)


def _name(path: Path, model_file: str, i: int) -> str:
    return f"{i}: {path.name if model_file == 'model.safetensors' else model_file}"


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port=0``: a free port the system picks)."""
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be in [0, 65535], got {port}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise ValueError(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None
    sock.listen(64)
    return sock


def serve(session: Any, port: int = 0, *, announce: Callable[[str], None] = print, workers: int = 2) -> None:
    """Serve the explorer for ``session`` on 127.0.0.1:``port`` until interrupted; ``announce(url)`` once listening."""
    check_installed()
    import uvicorn

    from advlab.explore.app import create_app

    app = create_app(session, workers=workers)
    sock = bind(port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    announce(url)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
