"""The list of experiments (name, one line, module). One line per experiment; modules load lazily."""

from advlab.experiments.registry import register_experiment

register_experiment(
    "iris-fooling",
    "softmax regression and an MLP on iris petals: 96.7% accurate, yet confident far from every flower",
    "advlab.experiments.iris_fooling",
)
register_experiment(
    "bottleneck-fooling",
    "MLP with a 2-unit bottleneck on digits 0-3: far points of its hidden space give confident non-digits",
    "advlab.experiments.bottleneck_fooling",
)
register_experiment(
    "goodfellow-linear",
    "FGSM at eps=0.25 fools softmax regression on MNIST (99.9%) and logistic regression 3 vs 7 (Fig. 2: weights, sign, adversarials)",
    "advlab.experiments.goodfellow_linear",
)
register_experiment(
    "linear-dimension",
    "the linear explanation: the minimal FGSM eps of linear models versus input dimension (MNIST resolutions, synthetic up to 1e5)",
    "advlab.experiments.linear_dimension",
)
register_experiment(
    "transfer-disjoint",
    "FGSM/PGD adversarials transfer between softmax, MLP and CNNs trained on disjoint halves of MNIST (transfer matrices)",
    "advlab.experiments.transfer_disjoint",
)
register_experiment(
    "slices-mnist",
    "decision regions on slices through an MNIST image, its PGD adversarial and third points; church windows, profiles, connectivity",
    "advlab.experiments.slices_mnist",
)
register_experiment(
    "slices-compare",
    "the same slice for a standard CNN, an adversarially trained one, another seed and an MLP, side by side",
    "advlab.experiments.slices_compare",
)
register_experiment(
    "goodfellow-mnist",
    "maxout on MNIST at eps=0.25: FGSM error, FGSM adversarial training, noise and L1 controls, transfer, RBF, ensemble, Gaussian rubbish",
    "advlab.experiments.goodfellow_mnist",
)
register_experiment(
    "madry-mnist",
    "cnn-small at eps=0.3: fast FGSM training (Wong et al.) and PGD training (Madry et al.) vs standard; PGD-50x10 and FMN curves",
    "advlab.experiments.madry_mnist",
)
register_experiment(
    "abs-mnist",
    "analysis by synthesis (ABS, binary ABS) vs CNN, binary CNN, nearest neighbour, PGD-trained CNN: L2/Linf/L0 robustness, noise, bound",
    "advlab.experiments.abs_mnist",
)
