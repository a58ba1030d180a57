"""A network of your own, in a module of its own so that ``advlab.load`` can rebuild it."""

from torch import nn


class SmallNet(nn.Module):
    """Any ``nn.Module`` returning logits will do; this one is a two-layer MLP for 8×8 digits."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.layers(x)
