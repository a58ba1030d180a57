"""The list of experiments (name, one line, module). One line per experiment; modules load lazily."""

from advlab.experiments.registry import EXPERIMENTS, Experiment


def _add(name: str, summary: str, module: str, function: str = "run") -> None:
    EXPERIMENTS.register(name, Experiment(name, summary, module, function))


_add(
    "iris-fooling",
    "softmax regression and an MLP on iris petals: 96.7% accurate, yet confident far from every flower",
    "advlab.experiments.iris_fooling",
)
_add(
    "bottleneck-fooling",
    "MLP with a 2-unit bottleneck on digits 0-3: far points of its hidden space give confident non-digits",
    "advlab.experiments.bottleneck_fooling",
)
_add(
    "goodfellow-linear",
    "FGSM at eps=0.25 fools softmax regression on MNIST (99.9%) and logistic regression 3 vs 7 (Fig. 2: weights, sign, adversarials)",
    "advlab.experiments.goodfellow_linear",
)
_add(
    "linear-dimension",
    "the linear explanation: the minimal FGSM eps of linear models versus input dimension (MNIST resolutions, synthetic up to 1e5)",
    "advlab.experiments.linear_dimension",
)
_add(
    "transfer-disjoint",
    "FGSM/PGD adversarials transfer between softmax, MLP and CNNs trained on disjoint halves of MNIST (transfer matrices)",
    "advlab.experiments.transfer_disjoint",
)
_add(
    "slices-mnist",
    "decision regions on slices through an MNIST image, its PGD adversarial and third points; church windows, profiles, connectivity",
    "advlab.experiments.slices_mnist",
)
_add(
    "slices-compare",
    "the same slice for a standard CNN, an adversarially trained one, another seed and an MLP, side by side",
    "advlab.experiments.slices_compare",
)
_add(
    "goodfellow-mnist",
    "maxout on MNIST at eps=0.25: FGSM error, FGSM adversarial training, noise and L1 controls, transfer, RBF, ensemble, Gaussian rubbish",
    "advlab.experiments.goodfellow_mnist",
)
_add(
    "madry-mnist",
    "cnn-small at eps=0.3: fast FGSM training (Wong et al.) and PGD training (Madry et al.) vs standard; PGD-50x10 and FMN curves",
    "advlab.experiments.madry_mnist",
)
_add(
    "madry-cifar10",
    "PreAct ResNet-18 on CIFAR-10 at eps=8/255: fast FGSM training (Wong et al.) and PGD-7 training (Madry et al.), PGD-50x10 on the engine",
    "advlab.experiments.madry_cifar10",
)
_add(
    "slices-cifar10",
    "decision regions of a Wide ResNet (WRN-28-10) on slices through a CIFAR-10 image, its PGD adversarial and third points",
    "advlab.experiments.slices_cifar10",
)
_add(
    "rubbish-mnist",
    "confidence on noise and on fooling images (ascent, NES, evolution with pixels and CPPNs, inversion) for 7 MNIST models",
    "advlab.experiments.rubbish_mnist",
)
_add(
    "abs-mnist",
    "analysis by synthesis (ABS, binary ABS) vs CNN, binary CNN, nearest neighbour, PGD-trained CNN: L2/Linf/L0 robustness, noise, bound",
    "advlab.experiments.abs_mnist",
)
