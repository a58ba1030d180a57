"""Your own network in advlab: wrap, train, attack, save, load. Run from the repository root:

    python examples/own_network.py

Uses the embedded 8×8 digits (no download); takes a few seconds on a laptop CPU.
"""

from examples.small_net import SmallNet

import advlab
from advlab.attacks import PGD
from advlab.data import load
from advlab.models import wrap
from advlab.train import fit

digits = load("digits")
model = wrap(SmallNet(), bounds=(0, 1))  # input shape and classes come from the first batch
fit(model, digits, epochs=5, lr=3e-3, seed=0, quiet=True)

x, y = digits.x_test[:200], digits.y_test[:200]
result = PGD(steps=20)(model, x, y, eps=[0.05, 0.1], seed=0)
print(result)  # robust accuracy per eps, verified on the model

advlab.save(model, "runs/small-net.safetensors")  # weights + "examples.small_net:SmallNet" in the spec
again = advlab.load("runs/small-net.safetensors")
assert (again.predict(x) == model.predict(x)).all()
print("saved and loaded runs/small-net.safetensors; try:")
print("  advlab attack runs/small-net.safetensors --data digits --attack pgd --eps 0.1 --n 200")
