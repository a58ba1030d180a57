"""Heat map of a transfer matrix: rows = source (crafted on), columns = target (evaluated on)."""

from __future__ import annotations

from typing import Any

import numpy as np

from advlab.evaluate.transfer import TransferResult

_KIND_TITLES = {
    "error": "error rate\n(all inputs; clean mistakes count)",
    "transfer": "transfer rate\n(inputs both models get right when clean)",
}


class TransferDisplay:
    """``TransferDisplay(result).plot(ax=None, eps_index=0, kind="error")`` returns self (``figure_``, ``ax_``)."""

    def __init__(self, result: TransferResult):
        if not isinstance(result, TransferResult):
            raise TypeError(f"TransferDisplay: expected a TransferResult, got {type(result).__name__}")
        self.result = result
        self.figure_: Any = None
        self.ax_: Any = None
        self.image_: Any = None

    def plot(
        self,
        ax: Any = None,
        *,
        eps_index: int = 0,
        kind: str = "error",
        cmap: str = "Reds",
        colorbar: bool = True,
        title: str | None = None,
        fontsize: float = 9.0,
    ) -> TransferDisplay:
        import matplotlib.pyplot as plt

        r = self.result
        if not -r.num_eps <= eps_index < r.num_eps:
            raise ValueError(f"TransferDisplay: eps_index must be in 0..{r.num_eps - 1}, got {eps_index}")
        m = r.matrix(eps_index, kind)
        if ax is None:
            s, t = m.shape
            _, ax = plt.subplots(figsize=(1.2 + 1.1 * t, 1.0 + 0.8 * s))
        self.ax_, self.figure_ = ax, ax.figure
        self.image_ = ax.imshow(np.nan_to_num(m, nan=0.0), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                v = m[i, j]
                text = "—" if np.isnan(v) else f"{100 * v:.1f}%"
                ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                        color="white" if (not np.isnan(v) and v > 0.6) else "black")
        ax.set_xticks(range(m.shape[1]), r.target_names, rotation=30, ha="right")
        ax.set_yticks(range(m.shape[0]), r.source_names)
        ax.set_xlabel("target (evaluated on)")
        ax.set_ylabel("source (crafted on)")
        attack = f"{r.attack.get('attack', '?')} {r.attack.get('norm', '')}".strip()
        ax.set_title(title if title is not None else f"{attack}, ε = {r.eps_label(eps_index)}: {_KIND_TITLES[kind]}",
                     fontsize=fontsize + 1)
        if colorbar:
            ax.figure.colorbar(self.image_, ax=ax, fraction=0.046, pad=0.04)
        return self

    @classmethod
    def grid(cls, result: TransferResult, *, kinds: tuple[str, ...] = ("error", "transfer"), **plot_kwargs: Any) -> Any:
        """One figure: a panel per (kind, ε). Returns the matplotlib Figure."""
        import matplotlib.pyplot as plt

        s, t = len(result.source_names), len(result.target_names)
        rows, cols = len(kinds), result.num_eps
        fig, axes = plt.subplots(rows, cols, figsize=(cols * (2.4 + 1.1 * t), rows * (1.6 + 0.8 * s)), squeeze=False)
        for a, kind in enumerate(kinds):
            for k in range(cols):
                cls(result).plot(axes[a][k], eps_index=k, kind=kind, colorbar=False, **plot_kwargs)
        fig.tight_layout()
        return fig
