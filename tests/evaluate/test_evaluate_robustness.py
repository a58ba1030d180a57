"""The cascade: worst case per point, verified adversarials, ε monotonicity, reproducibility, resuming, class form."""

from __future__ import annotations

import pytest
import torch

from advlab.attacks import APGD, FGSM, FMN, Attack
from advlab.evaluate import RobustAccuracy, Suite, robust_accuracy
from advlab.evaluate.robustness import accuracy_at

EPS = [0.03, 0.08]


def small_suite() -> Suite:
    return Suite.of("linf", [("fgsm", FGSM()), ("apgd-ce", APGD(steps=20)), ("fmn", FMN("linf", steps=30))])


@pytest.fixture(scope="module")
def result(digits_model):
    model, x, y = digits_model
    return robust_accuracy(model, x, y, EPS, small_suite(), seed=0)


def test_worst_case_is_verified_and_monotone(digits_model, result):
    model, x, y = digits_model
    acc = result.robust_accuracy
    assert acc[0] >= acc[1]
    assert result.clean_accuracy >= acc[0]
    for k, e in enumerate(EPS):
        broken = ~result.robust[k] & (result.clean_predictions == y)
        adv = result.adversarials[k][broken]
        assert (model.predict(adv) != y[broken]).all()
        assert ((adv - x[broken]).flatten(1).abs().amax(1) <= e + 1e-5).all()
        # Robust points kept their clean input; every point is credited to exactly one cause.
        assert torch.equal(result.adversarials[k][result.robust[k]], x[result.robust[k]])
        assert ((result.broken_by[k] >= 0) == broken).all()


def test_no_weaker_than_each_member(digits_model, result):
    model, x, y = digits_model
    for attack in (FGSM(), APGD(steps=20)):
        alone = attack(model, x, y, eps=EPS, seed=1).robust_accuracy
        assert all(a <= b + 0.02 for a, b in zip(result.robust_accuracy, alone.tolist()))
    table = result.per_attack()
    assert table[-1][f"after {result.member_names[-1]}"] == pytest.approx(result.robust_accuracy[-1])
    assert sum(c.broken for c in result.contributions if c.eps == EPS[0]) == int(
        ((result.broken_by[0] >= 0)).sum())


def test_later_members_run_only_on_robust_points(result):
    by_eps = [c for c in result.contributions if c.eps == EPS[0]]
    for before, after in zip(by_eps, by_eps[1:]):
        assert after.attacked == before.attacked - before.broken


def test_same_seed_same_result(digits_model, result):
    model, x, y = digits_model
    again = robust_accuracy(model, x, y, EPS, small_suite(), seed=0)
    assert torch.equal(again.adversarials, result.adversarials)
    assert torch.equal(again.broken_by, result.broken_by)


class Crashing(Attack):
    """Wraps an attack; raises on its ``crash_on``-th call (a killed evaluation), counts calls."""

    name = "crashing"

    def __init__(self, inner: Attack, crash_on: int | None):
        super().__init__(inner.norm.name)
        self.inner, self.crash_on, self.calls = inner, crash_on, 0

    def params(self):
        return {"inner": self.inner.config}

    def run(self, model, x, y, *, eps, target, generator):
        self.calls += 1
        if self.crash_on is not None and self.calls == self.crash_on:
            raise KeyboardInterrupt("killed")
        return self.inner.run(model, x, y, eps=eps, target=target, generator=generator)


def test_resumes_from_saved_state(digits_model, tmp_path):
    model, x, y = digits_model
    state = tmp_path / "state.safetensors"
    crashing = Crashing(APGD(steps=10), crash_on=2)  # dies at the second ε
    suite = Suite.of("linf", [("fgsm", FGSM()), ("apgd", crashing)])
    with pytest.raises(KeyboardInterrupt):
        robust_accuracy(model, x, y, EPS, suite, seed=0, state=state)
    assert state.is_file()
    resumed_attack = Crashing(APGD(steps=10), crash_on=None)
    resumed = robust_accuracy(model, x, y, EPS, Suite.of("linf", [("fgsm", FGSM()), ("apgd", resumed_attack)]),
                              seed=0, state=state)
    assert resumed_attack.calls == 1  # only the unfinished (second ε) step ran again
    full = robust_accuracy(model, x, y, EPS, Suite.of("linf", [("fgsm", FGSM()), ("apgd", Crashing(APGD(steps=10), None))]),
                           seed=0)
    assert torch.equal(resumed.adversarials, full.adversarials)
    assert resumed.robust_accuracy == full.robust_accuracy
    # A state from another evaluation is refused.
    with pytest.raises(ValueError, match="another evaluation"):
        robust_accuracy(model, x, y, EPS, suite, seed=1, state=state)


def test_class_form_accumulates(digits_model):
    model, x, y = digits_model
    metric = RobustAccuracy(Suite.of("linf", [FGSM()]), [0.05], seed=0)
    metric.update(model, x[:40], y[:40])
    metric.update(model, x[40:], y[40:])
    out = metric.compute()
    assert out.n == len(x)
    whole = FGSM()(model, x, y, eps=[0.05]).robust_accuracy[0].item()
    assert out.robust_accuracy[0] == pytest.approx(whole)  # FGSM is deterministic
    metric.reset()
    with pytest.raises(ValueError):
        metric.compute()


def test_suites_and_validation():
    s = Suite.preset_for("linf", "standard")
    assert s.names[:3] == ["apgd-ce", "apgd-t", "fmn"]
    assert Suite.preset_for("l2", "quick").names == ["apgd-ce", "apgd-t"]
    assert Suite.preset_for("l0").names[0] == "fmn" and Suite.preset_for("l1").norm == "l1"
    assert s.with_member("fgsm", FGSM()).names[-1] == "fgsm"
    assert "fmn" not in s.without("fmn").names
    with pytest.raises(ValueError):
        Suite.of("linf", [FMN("l2")])
    with pytest.raises(ValueError):
        Suite.preset_for("linf", "fast")
    with pytest.raises(TypeError):
        Suite.of("linf", [("x", object())])  # type: ignore[list-item]


def test_accuracy_at_from_minimal_distances():
    d = torch.tensor([0.0, 0.05, 0.2, float("inf"), 0.1])
    correct = torch.tensor([False, True, True, True, True])
    assert accuracy_at(d, correct, [0.0, 0.05, 0.1, 0.3]) == pytest.approx([0.8, 0.6, 0.4, 0.2])


def test_worst_case_of_separate_results(digits_model):
    from advlab.evaluate import worst_case

    model, x, y = digits_model
    pgd = APGD(steps=10)(model, x, y, eps=EPS, seed=0)
    fmn = FMN("linf", steps=20)(model, x, y, seed=0)
    wc = worst_case([pgd, fmn], EPS)
    for k, e in enumerate(EPS):
        expected = (pgd.predictions[k] == y) & (fmn.min_distances > e * (1 + 1e-5) + 1e-6) & (pgd.clean_predictions == y)
        assert torch.equal(wc.robust[k], expected)
    with pytest.raises(ValueError):
        worst_case([pgd], [0.5])


@pytest.mark.parametrize("norm,eps", [("l2", [0.5, 1.0]), ("l0", [2.0, 6.0])])
def test_other_norms(digits_model, norm, eps):
    model, x, y = digits_model
    res = robust_accuracy(model, x[:30], y[:30], eps, norm=norm, preset="quick", seed=0)
    assert res.norm == norm and res.robust_accuracy[0] >= res.robust_accuracy[1]
    from advlab.attacks.norms import get_norm

    for k, e in enumerate(eps):
        broken = res.broken_by[k] >= 0
        d = get_norm(norm).distance(res.adversarials[k][broken] - x[:30][broken])
        assert (d <= e * (1 + 1e-5) + 1e-5).all()
        assert (model.predict(res.adversarials[k][broken]) != y[:30][broken]).all()
