"""The error raised for dataset files that are missing, corrupt or unreachable."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset could not be read or fetched; the message says what to do about it."""
