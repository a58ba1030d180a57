"""Datasets for advlab: embedded (iris, digits, moons, blobs) and downloaded (mnist, fashion-mnist, cifar10).

    >>> from advlab import data
    >>> ds = data.load("iris", features=("petal length", "petal width"))
    >>> ds.x_train.shape, ds.class_names
    (torch.Size([120, 2]), ('setosa', 'versicolor', 'virginica'))

Downloaded sets live in ``data_dir()/<name>/`` under their canonical file
names, verified by MD5 (see :mod:`advlab.data.registry`).
"""

from __future__ import annotations

from advlab.data.api import fetch, info, list_datasets, load
from advlab.data.dataset import Dataset
from advlab.data.errors import DatasetError
from advlab.data.paths import data_dir
from advlab.data.registry import DATASETS, DatasetInfo

__all__ = ["DATASETS", "Dataset", "DatasetError", "DatasetInfo", "data_dir", "fetch", "info", "list_datasets", "load"]
