"""Evaluation beyond one attack: transferability between models (more measures join here)."""

from advlab.evaluate.noise_confidence import NoiseConfidence, NoiseConfidenceResult, noise_confidence
from advlab.evaluate.transfer import TransferResult, transfer

__all__ = ["NoiseConfidence", "NoiseConfidenceResult", "TransferResult", "noise_confidence", "transfer"]
