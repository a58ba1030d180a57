"""Evaluation beyond one attack: transferability between models (more measures join here)."""

from advlab.evaluate.transfer import TransferResult, transfer

__all__ = ["TransferResult", "transfer"]
