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
