"""``Oracle``: the only door from a black-box attack to the model; it counts queries per sample and
enforces the budget.

The attack base builds one per batch and hands it to query attacks. Each call says which
sample every row belongs to (``owner``; by default row i is sample i). Rows of a sample whose
budget is spent are not sent to the model at all: ``labels`` answers −1 for them, ``probs``
NaN, ``adversarial`` False and ``margin`` +inf, so a refused row can never look like progress.
Within one call a sample's rows are answered in order until its budget runs out, so a budget
is honoured exactly, batched calls included.
"""

from __future__ import annotations

import torch

from advlab.attacks.margins import is_adversarial
from advlab.models.model import Model


class Oracle:
    """Counted, budgeted access to ``model`` for a batch of ``n`` samples (``max_queries`` per sample)."""

    def __init__(self, model: Model, n: int, max_queries: int | None = None):
        self.model = model
        self.n = int(n)
        self.max_queries = max_queries
        self.counts = torch.zeros(self.n, dtype=torch.long)
        self.device = model.device
        self.bounds = model.bounds
        self.num_classes = model.num_classes
        self._index: torch.Tensor | None = None  # a subset view: local sample i is sample _index[i] of the parent

    def subset(self, index: torch.Tensor) -> Oracle:
        """A view on some samples (local i → ``index[i]``) sharing this oracle's counts and budget."""
        view = Oracle.__new__(Oracle)
        view.__dict__.update(self.__dict__)
        base = torch.arange(self.n) if self._index is None else self._index
        view._index = base[index.detach().to("cpu", torch.long).reshape(-1)]
        view.n = len(view._index)
        return view

    def _global(self, own: torch.Tensor) -> torch.Tensor:
        return own if self._index is None else self._index[own]

    # --- budget -----------------------------------------------------------------------------------
    def remaining(self) -> torch.Tensor:
        """Queries each sample may still make (a large number when there is no budget)."""
        if self.max_queries is None:
            return torch.full((self.n,), 2**62, dtype=torch.long)
        used = self.counts if self._index is None else self.counts[self._index]
        return (self.max_queries - used).clamp_min(0)

    def exhausted(self) -> torch.Tensor:
        """(n,) bool on the model's device: samples with no query left."""
        return (self.remaining() <= 0).to(self.device)

    def _allowed(self, owner: torch.Tensor) -> torch.Tensor:
        """Which rows are answered: per owner, the first ``remaining`` rows of this call (in order)."""
        if self.max_queries is None or int(self.remaining().min()) >= len(owner):
            return torch.ones(len(owner), dtype=torch.bool)
        order = torch.sort(owner, stable=True)
        sorted_owner = order.values
        first = torch.searchsorted(sorted_owner, sorted_owner, right=False)
        rank_sorted = torch.arange(len(owner)) - first
        rank = torch.empty_like(rank_sorted)
        rank[order.indices] = rank_sorted
        return rank < self.remaining()[owner]

    # --- queries ----------------------------------------------------------------------------------
    def logits(self, x: torch.Tensor, owner: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits for the answered rows, NaN elsewhere; the answered mask), both on the model's device."""
        own = self._owner(x, owner)
        ok = self._allowed(own)
        out = torch.full((len(x), self.num_classes), float("nan"), device=self.device)
        if ok.all():
            out = self._forward(x.to(self.device))
            self.counts.index_add_(0, self._global(own), torch.ones(len(own), dtype=torch.long))
        elif ok.any():
            rows = ok.nonzero().squeeze(1)
            out[rows.to(self.device)] = self._forward(x[rows.to(x.device)].to(self.device))
            self.counts.index_add_(0, self._global(own[rows]), torch.ones(len(rows), dtype=torch.long))
        return out, ok.to(self.device)

    def decide(
        self, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, owner: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(adversarial per row — False where refused; answered per row)."""
        own = self._owner(x, owner).to(self.device)
        z, ok = self.logits(x, owner)
        return ok & is_adversarial(z.nan_to_num(0.0), y[own], None if target is None else target[own]), ok

    def _forward(self, x: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
        """Float32 logits, without autograd, in chunks (the attack base has put the model in eval mode)."""
        if len(x) == 0:
            return torch.empty(0, self.num_classes, device=self.device)
        with torch.no_grad():
            return torch.cat([self.model(x[i : i + chunk]).float() for i in range(0, len(x), chunk)])

    def probs(self, x: torch.Tensor, owner: torch.Tensor | None = None) -> torch.Tensor:
        """Class probabilities per row (NaN rows: refused, the sample's budget is spent)."""
        z, _ = self.logits(x, owner)
        return torch.softmax(z, dim=1)

    def labels(self, x: torch.Tensor, owner: torch.Tensor | None = None) -> torch.Tensor:
        """Predicted class per row (−1: refused)."""
        z, ok = self.logits(x, owner)
        return torch.where(ok, z.nan_to_num(0.0).argmax(dim=1), torch.full_like(ok, -1, dtype=torch.long))

    def adversarial(
        self, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, owner: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per row: is it adversarial for its sample (``y``/``target`` per sample)? Refused rows: False."""
        return self.decide(x, y, target, owner)[0]

    def margin(
        self, x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None, owner: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per row, the log-probability margin, negative once adversarial (untargeted log p_y − max_{j≠y}
        log p_j; targeted max_{j≠t} log p_j − log p_t); +inf for refused rows. Equal to the logit margin,
        so score attacks see the same numbers from a torch model and from a black box's probabilities."""
        own = self._owner(x, owner).to(self.device)
        z, _ = self.logits(x, owner)
        cls = (y if target is None else target)[own]
        mine = z.gather(1, cls[:, None]).squeeze(1)
        others = z.scatter(1, cls[:, None], float("-inf")).amax(dim=1)
        m = mine - others if target is None else others - mine
        return torch.nan_to_num(m, nan=float("inf"))

    def _owner(self, x: torch.Tensor, owner: torch.Tensor | None) -> torch.Tensor:
        if owner is None:
            if len(x) != self.n:
                raise ValueError(f"Oracle: {len(x)} rows for {self.n} samples; pass owner= (the sample of each row)")
            return torch.arange(self.n)
        own = owner.detach().to("cpu", torch.long).reshape(-1)
        if len(own) != len(x):
            raise ValueError(f"Oracle: owner has {len(own)} entries for {len(x)} rows")
        if len(own) and (own.min() < 0 or own.max() >= self.n):
            raise ValueError(f"Oracle: owner must be in 0..{self.n - 1}")
        return own
