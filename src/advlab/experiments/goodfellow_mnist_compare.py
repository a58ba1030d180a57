"""goodfellow-mnist: our numbers beside Goodfellow et al.'s, with a note where they differ and why.

The "ours" column uses the paper's protocol (FGSM without clipping); the note
adds the clipped value. Paper numbers are quoted from the text (§5–§7, §9, §10,
appendix A); all MNIST rows use ε = 0.25.
"""

from __future__ import annotations

import math
from typing import Any

from advlab.experiments.registry import Comparison, agreement_note

PAPER: dict[str, float] = {
    "softmax_fgsm": 99.9, "softmax_conf": 79.3,
    "maxout_fgsm": 89.4, "maxout_conf": 97.6, "maxout_clean": 0.94,
    "adv_clean": 0.84, "adv_fgsm": 17.9, "adv_conf": 81.4,
    "transfer_to_adv": 19.6, "transfer_to_std": 40.9,
    "sign": 86.2, "sign_conf": 97.3, "uniform": 90.4, "uniform_conf": 97.8,
    "rbf_fgsm": 55.4, "rbf_conf_wrong": 1.2, "rbf_clean_conf": 60.6,
    "ensemble_whole": 91.1, "ensemble_member": 87.9,
    "rubbish_maxout": 98.35, "rubbish_maxout_conf": 92.8, "rubbish_softmax": 59.8, "rubbish_softmax_conf": 70.8,
    "rubbish_rbf": 0.0, "rubbish_maxout_fives": 45.3, "rubbish_maxout_eights": 0.0,
}

SHORT = "paper trains to convergence (early stopping, patience 100 epochs); we train a few epochs"
BIG = "paper: 1600-unit maxout, adversarial early stopping; ours: 240 units, a few epochs"
ADV, ADV_CLIPPED = "maxout-fgsm-unclipped", "maxout-fgsm"
RBF_FORM = ("paper's RBF outputs unnormalised exp(−β‖x−μ‖²) per class; advlab's spreads a reject mass, "
            "so predict_proba never drops below 1/K = 10%")


def _note(ours: float, paper: float | None, why: str, tolerance: float, clipped: float | None = None,
          extra: str = "") -> str:
    parts = []
    if math.isnan(ours):
        parts.append("no input qualified (nothing to average)")
    elif paper is not None:
        parts.append(agreement_note(ours, paper, why, tolerance))
    elif why:
        parts.append(why)
    if clipped is not None:
        parts.append(f"clipped FGSM: {clipped:.1f}%")
    if extra:
        parts.append(extra)
    return "; ".join(parts)


def _row(quantity: str, ours: float, key: str | None, why: str = SHORT, tolerance: float = 3.0,
         clipped: float | None = None, extra: str = "") -> Comparison:
    paper = PAPER[key] if key else None
    return Comparison(quantity, ours, paper, "%", _note(ours, paper, why, tolerance, clipped, extra))


def _pct(x: float) -> float:
    return 100.0 * x


def comparisons(m: dict[str, Any]) -> list[Comparison]:
    models, tr, ens, rub = m["models"], m["transfer"], m["ensemble"], m["rubbish"]["unclipped"]

    def fg(name: str, what: str = "error", v: str = "unclipped") -> float:
        return _pct(models[name]["fgsm"][v][what])

    def fgsm_row(quantity: str, name: str, key: str | None, why: str = SHORT) -> Comparison:
        return _row(quantity, fg(name), key, why, clipped=fg(name, v="clipped"))

    rows = [
        fgsm_row("softmax regression: FGSM error", "softmax", "softmax_fgsm"),
        _row("softmax regression: confidence on FGSM mistakes", fg("softmax", "confidence_wrong"), "softmax_conf", tolerance=5),
        fgsm_row("maxout: FGSM error", "maxout", "maxout_fgsm"),
        _row("maxout: confidence on FGSM mistakes", fg("maxout", "confidence_wrong"), "maxout_conf", tolerance=5),
        _row("maxout: clean test error", _pct(models["maxout"]["clean"]["error"]), "maxout_clean", tolerance=0.2),
        _row("maxout FGSM-trained (α=0.5): clean test error", _pct(models[ADV]["clean"]["error"]), "adv_clean",
             tolerance=0.2, extra=f"trained on clipped FGSM: {_pct(models[ADV_CLIPPED]['clean']['error']):.2f}%"),
        _row("maxout FGSM-trained: FGSM error", fg(ADV), "adv_fgsm", BIG,
             extra=f"trained and attacked with clipping to [0, 1]: {fg(ADV_CLIPPED, v='clipped'):.1f}%"),
        _row("maxout FGSM-trained: confidence on FGSM mistakes", fg(ADV, "confidence_wrong"), "adv_conf", BIG, 5),
        _row("transfer: maxout's adversarials on the FGSM-trained net", _pct(tr["unclipped"]["maxout_to_fgsm_trained"]["error"]),
             "transfer_to_adv", BIG, extra=f"all clipped: {_pct(tr['clipped']['maxout_to_fgsm_trained']['error']):.1f}%"),
        _row("transfer: FGSM-trained net's adversarials on maxout", _pct(tr["unclipped"]["fgsm_trained_to_maxout"]["error"]),
             "transfer_to_std", BIG, extra=f"all clipped: {_pct(tr['clipped']['fgsm_trained_to_maxout']['error']):.1f}%"),
        *([fgsm_row("maxout FGSM-trained on the last hidden layer (ε on its activations): FGSM error on the input",
                    "maxout-fgsm-hidden", None, "paper: perturbing the input was better than hidden layers (no number); "
                    f"input-trained (clipped) for comparison: {fg(ADV_CLIPPED, v='clipped'):.1f}%")]
          if "maxout-fgsm-hidden" in models else []),
        fgsm_row("maxout ±ε sign-noise trained: FGSM error", "maxout-noise-sign", "sign"),
        _row("maxout ±ε sign-noise trained: confidence on mistakes", fg("maxout-noise-sign", "confidence_wrong"), "sign_conf",
             tolerance=5),
        fgsm_row("maxout U(−ε, ε) noise trained: FGSM error", "maxout-noise-uniform", "uniform"),
        _row("maxout U(−ε, ε) noise trained: confidence on mistakes", fg("maxout-noise-uniform", "confidence_wrong"),
             "uniform_conf", tolerance=5),
    ]
    for name, mm in models.items():
        if mm["training"] == "l1":
            coeff = name.removeprefix("maxout-l1-")
            rows.append(Comparison(f"maxout L1 {coeff}: training error", _pct(mm["train_error"]),
                                   ">5%" if coeff == "0.0025" else None, "%",
                                   "paper: 0.0025 'caused the model to get stuck with over 5% error on the training set'"
                                   if coeff == "0.0025" else "paper gives no number"))
            rows.append(fgsm_row(f"maxout L1 {coeff}: FGSM error", name, None,
                                 "paper gives no number; smaller coefficients 'conferred no regularization benefit'"))
    rows += [
        fgsm_row("maxout mixup (not in the paper): FGSM error", "maxout-mixup", None, "not in the paper"),
        fgsm_row("shallow RBF: FGSM error", "rbf", "rbf_fgsm", "our RBF is trained briefly by Adam from class-mean prototypes"),
        _row("shallow RBF: confidence on FGSM mistakes (predict_proba)", fg("rbf", "confidence_wrong"), "rbf_conf_wrong",
             RBF_FORM),
        _row("shallow RBF: class probability on FGSM mistakes, reject mass not spread",
             _pct(models["rbf"]["fgsm_class_probability_wrong"]["unclipped"]), "rbf_conf_wrong",
             "our closest analogue of the paper's unnormalised probability"),
        _row("shallow RBF: mean confidence on clean test images", _pct(models["rbf"]["clean"]["confidence_all"]),
             "rbf_clean_conf", RBF_FORM, 5),
        _row(f"ensemble of {ens['members']} maxout nets: FGSM on the ensemble", _pct(ens["unclipped"]["whole"]["error"]),
             "ensemble_whole", f"paper: 12 fully trained members; ours {ens['members']} × {ens['member_epochs']} epochs",
             clipped=_pct(ens["clipped"]["whole"]["error"])),
        _row("ensemble: FGSM on one member, classified by the ensemble (mean over members)",
             _pct(ens["unclipped"]["one_member_mean_error"]), "ensemble_member",
             f"paper: 12 fully trained members; ours {ens['members']} × {ens['member_epochs']} epochs",
             clipped=_pct(ens["clipped"]["one_member_mean_error"])),
        _row("rubbish N(0, I): maxout confident (p > 0.5)", _pct(rub["maxout"]["fraction_confident"]), "rubbish_maxout"),
        _row("rubbish N(0, I): maxout mean confidence when confident", _pct(rub["maxout"]["mean_confidence_confident"]),
             "rubbish_maxout_conf", tolerance=5),
        _row("rubbish N(0, I): softmax regression confident", _pct(rub["softmax"]["fraction_confident"]), "rubbish_softmax",
             "confidence far from the data depends on ‖w‖, i.e. on how long and how regularised training was"),
        _row("rubbish N(0, I): softmax mean confidence when confident", _pct(rub["softmax"]["mean_confidence_confident"]),
             "rubbish_softmax_conf", "as above", 5),
        _row("rubbish N(0, I): share of maxout's confident answers that are 5s",
             _pct(rub["maxout"]["confident_class_shares"][5]), "rubbish_maxout_fives", tolerance=5),
        _row("rubbish N(0, I): share of maxout's confident answers that are 8s",
             _pct(rub["maxout"]["confident_class_shares"][8]), "rubbish_maxout_eights", tolerance=1),
        _row("rubbish N(0, I): RBF confident", _pct(rub["rbf"]["fraction_confident"]), "rubbish_rbf", tolerance=1),
        _row("rubbish N(0, I): ensemble confident (not in the paper)", _pct(rub["ensemble"]["fraction_confident"]), None,
             "not in the paper"),
    ]
    return rows


def bar_rows(m: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for the bar chart: label, our two FGSM errors, the paper's number (percent) or None."""
    paper = {"softmax": "softmax_fgsm", "maxout": "maxout_fgsm", ADV: "adv_fgsm",
             "maxout-noise-sign": "sign", "maxout-noise-uniform": "uniform", "rbf": "rbf_fgsm"}
    rows = [{"label": mm["label"], "unclipped": mm["fgsm"]["unclipped"]["error"], "clipped": mm["fgsm"]["clipped"]["error"],
             "paper": PAPER[paper[name]] if name in paper else None} for name, mm in m["models"].items()]
    ens = m["ensemble"]
    rows.append({"label": f"ensemble ({ens['members']}), attack on the ensemble", "unclipped": ens["unclipped"]["whole"]["error"],
                 "clipped": ens["clipped"]["whole"]["error"], "paper": PAPER["ensemble_whole"]})
    rows.append({"label": "ensemble, attack on one member", "unclipped": ens["unclipped"]["one_member_mean_error"],
                 "clipped": ens["clipped"]["one_member_mean_error"], "paper": PAPER["ensemble_member"]})
    return rows
