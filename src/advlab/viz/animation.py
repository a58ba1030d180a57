"""One fixed slice through training: frames per epoch or per checkpoint, saved as a GIF (or MP4).

``SliceRecorder(a, b, c)`` is a ``fit`` callback: ``fit(model, data, callbacks=[rec])``
records the slice before training (epoch 0) and after every epoch; ``rec.save_gif(path)``
writes the animation with the epoch (and test accuracy, when ``fit`` measured it) shown
on each frame. ``frames_from_models`` builds the same frames from saved checkpoints.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from advlab.models.model import Model
from advlab.viz.slices import SliceData, compute_slice


@dataclass
class SliceFrame:
    """The slice at one point of training."""

    epoch: int
    data: SliceData
    test_accuracy: float | None = None

    @property
    def caption(self) -> str:
        acc = "" if self.test_accuracy is None else f", test accuracy {100 * self.test_accuracy:.1f}%"
        return f"epoch {self.epoch}{acc}"


class SliceRecorder:
    """A ``fit`` callback recording the slice through a, b, c every ``every`` epochs (epoch 0 included)."""

    def __init__(self, a: Any, b: Any, c: Any, resolution: int = 96, *, every: int = 1, images: bool = True, **slice_options: Any):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"SliceRecorder: every must be a positive integer, got {every!r}")
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
            raise ValueError(f"SliceRecorder: resolution must be an integer ≥ 2, got {resolution!r}")
        self.points = (a, b, c)
        self.resolution = resolution
        self.every = every
        self.images = images
        self.slice_options = slice_options
        self.frames: list[SliceFrame] = []

    def __call__(self, state: Any) -> None:
        if state.epoch % self.every:
            return
        last = state.history.last if state.epoch > 0 else None
        acc = None if last is None else last.test_accuracy
        self.record(state.model, state.epoch, acc)

    def record(self, model: Model, epoch: int, test_accuracy: float | None = None) -> SliceFrame:
        """Compute and keep the slice of ``model`` now (also usable without ``fit``)."""
        data = compute_slice(model, *self.points, resolution=self.resolution, **self.slice_options)
        frame = SliceFrame(int(epoch), data, test_accuracy)
        self.frames.append(frame)
        return frame

    def animation(self) -> SliceAnimation:
        return SliceAnimation(self.frames, images=self.points if self.images else None)

    def save_gif(self, path: str | Path, **kwargs: Any) -> Path:
        return self.animation().save_gif(path, **kwargs)

    def save_mp4(self, path: str | Path, **kwargs: Any) -> Path:
        return self.animation().save_mp4(path, **kwargs)


def frames_from_models(models: Iterable[tuple[int, Model]], a: Any, b: Any, c: Any, resolution: int = 96,
                       **slice_options: Any) -> list[SliceFrame]:
    """Frames of one slice for (epoch, model) pairs, e.g. models loaded from training checkpoints."""
    recorder = SliceRecorder(a, b, c, resolution, **slice_options)
    for epoch, model in models:
        recorder.record(model, epoch)
    return recorder.frames


def _shared_palette(rgb: list[np.ndarray], num_classes: int) -> Any:
    """One 256-colour palette for all frames: the exact class hues (legend), black, white and grey, then
    the frames' most common colours (median cut), so hues stay true and do not flicker between frames."""
    from PIL import Image

    from advlab.viz.colors import INFEASIBLE_GREY, class_colors

    fixed = [tuple(c) for c in class_colors(num_classes)] + [(0, 0, 0), (1, 1, 1), INFEASIBLE_GREY[:3]]
    exact = [int(round(255 * v)) for c in fixed for v in c]
    mixed = Image.fromarray(np.concatenate(rgb, axis=0)).quantize(colors=256 - len(fixed), method=Image.Quantize.MEDIANCUT)
    rest = (mixed.getpalette() or [])[: 3 * (256 - len(fixed))]
    palette = Image.new("P", (1, 1))
    palette.putpalette(exact + rest + [0] * (768 - len(exact) - len(rest)))
    return palette


class SliceAnimation:
    """Render ``SliceFrame`` s with one fixed layout; ``save_gif`` (Pillow) or ``save_mp4`` (ffmpeg)."""

    def __init__(self, frames: list[SliceFrame], images: Any = None, title: str | None = None):
        if not frames:
            raise ValueError("SliceAnimation: no frames recorded (was the recorder passed to fit(callbacks=[…])?)")
        self.frames = frames
        self.images = images
        self.title = title

    def render(self, dpi: int = 80) -> list[np.ndarray]:
        """Each frame as an RGB uint8 array (H, W, 3), all of one size."""
        import matplotlib.pyplot as plt

        from advlab.viz.slice_display import SliceDisplay

        out = []
        for frame in self.frames:
            fig, ax = plt.subplots(figsize=(6.4, 5.8), dpi=dpi)
            try:
                title = frame.caption if self.title is None else f"{self.title}\n{frame.caption}"
                SliceDisplay(frame.data).plot(ax, title=title, images=self.images)
                # A fixed canvas (no tight bbox), so every frame has the same size.
                fig.subplots_adjust(left=0.14, right=0.78, bottom=0.26, top=0.84)
                fig.canvas.draw()
                out.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())  # type: ignore[attr-defined]  # Agg canvas
            finally:
                plt.close(fig)
        return out

    def save_gif(self, path: str | Path, *, fps: float = 2.0, dpi: int = 80, loop: int = 0) -> Path:
        from PIL import Image

        from advlab._io import atomic_path

        if fps <= 0:
            raise ValueError(f"save_gif: fps must be positive, got {fps!r}")
        rgb = self.render(dpi)
        palette = _shared_palette(rgb, len(self.frames[0].data.class_names))
        pictures = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in rgb]
        path = Path(path)
        with atomic_path(path) as tmp:
            pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:], duration=int(1000 / fps), loop=loop)
        return path

    def save_mp4(self, path: str | Path, *, fps: float = 2.0, dpi: int = 80) -> Path:
        """MP4 (H.264) through the ``ffmpeg`` program; raises when it is not installed."""
        from advlab._io import atomic_path

        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise ValueError("save_mp4: the ffmpeg program is not installed; save a GIF instead (save_gif)")
        rgb = self.render(dpi)
        h, w = (s - s % 2 for s in rgb[0].shape[:2])  # H.264 needs even sizes
        raw = b"".join(np.ascontiguousarray(f[:h, :w]).tobytes() for f in rgb)
        path = Path(path)
        with atomic_path(path) as tmp:
            cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps),
                   "-i", "-", "-f", "mp4", "-pix_fmt", "yuv420p", "-vcodec", "libx264", str(tmp)]
            done = subprocess.run(cmd, input=raw, capture_output=True, check=False)
            if done.returncode != 0:
                raise ValueError(f"save_mp4: ffmpeg failed: {done.stderr.decode(errors='replace').strip()[:300]}")
        return path
