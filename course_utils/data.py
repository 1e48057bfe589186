"""The course's data: the shipped UCI digits (checked against SHA-256) and generated 2-D toy sets.

Nothing here downloads anything. ``data/digits.csv.gz`` ships with the course; the 2-D sets are generated
from a seed, so every learner gets the same points.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import math
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from ._validate import check_bool, check_callable, check_choice, check_float, check_int

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
"""The folder that holds the shipped data files."""

CHECKSUMS = {
    "digits.csv.gz": "ad8bdbd5ae0e92f68033108f331b6fae4be0990d250e01d6b959a6bb81e7832c",
}
"""SHA-256 of every shipped file (also listed in data/README.md)."""

RESTORE_HINT = (
    "Restore it with `git checkout -- data/{name}` (or download the course again); to rebuild it from "
    "scikit-learn's copy run `python -m pip install scikit-learn && python scripts/export_digits.py`."
)


class DataFileError(RuntimeError):
    """A shipped data file is missing or does not match its recorded SHA-256."""


def sha256_of(path: str | Path) -> str:
    """Return the hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_path(name: str, data_dir: str | Path | None = None) -> Path:
    """Return the path of the shipped file ``name`` after checking it exists and matches its SHA-256.

    Raises :class:`DataFileError` with instructions to restore the file when it is missing or corrupted.
    """
    if name not in CHECKSUMS:
        raise ValueError(f"unknown data file {name!r}; the course ships: {', '.join(sorted(CHECKSUMS))}")
    path = Path(data_dir if data_dir is not None else DATA_DIR) / name
    hint = RESTORE_HINT.format(name=name)
    if not path.is_file():
        raise DataFileError(f"The data file {path} is missing. {hint}")
    actual = sha256_of(path)
    if actual != CHECKSUMS[name]:
        raise DataFileError(
            f"The data file {path} is corrupted: its SHA-256 is {actual[:12]}..., expected "
            f"{CHECKSUMS[name][:12]}.... {hint}"
        )
    return path


def load_digits_tensors(data_dir: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Load the 1,797 UCI 8x8 digits as ``(images, labels)``.

    ``images`` is a uint8 tensor of shape (1797, 8, 8) with values 0-16; ``labels`` is int64 (1797,) in 0-9.
    """
    path = verified_path("digits.csv.gz", data_dir)
    with gzip.open(path, "rt", encoding="ascii") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    if len(header) != 65:
        raise DataFileError(f"{path} has {len(header)} columns, expected 65. " + RESTORE_HINT.format(name=path.name))
    values = torch.tensor([[int(v) for v in row] for row in body], dtype=torch.int64)
    images = values[:, :64].reshape(-1, 8, 8).to(torch.uint8)
    labels = values[:, 64].clone()
    return images, labels


class DigitsDataset(Dataset):
    """The UCI optical handwritten digits as a torchvision-style dataset.

    Each item is ``(image, label)``: by default ``image`` is a float tensor of shape (1, 8, 8) scaled to
    [0, 1]; pass ``transform`` (e.g. ``torchvision.transforms.v2.Compose([...])``) to change it.

    Args:
        transform: applied to each (1, 8, 8) float image.
        target_transform: applied to each label.
        indices: optional subset of the 1,797 images (e.g. from :func:`split_indices`).
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, transform: Callable | None = None, target_transform: Callable | None = None,
                 indices: list[int] | torch.Tensor | None = None, data_dir: str | Path | None = None) -> None:
        if transform is not None:
            check_callable("transform", transform, "e.g. torchvision.transforms.v2.Normalize([0.5], [0.5])")
        if target_transform is not None:
            check_callable("target_transform", target_transform)
        images, labels = load_digits_tensors(data_dir)
        if indices is not None:
            try:
                indices = torch.as_tensor(indices, dtype=torch.long).flatten()
            except (TypeError, ValueError, RuntimeError):
                raise TypeError(f"indices must be a list or tensor of ints, got {indices!r}") from None
            bad = indices[(indices < 0) | (indices >= len(labels))]
            if len(bad):
                raise ValueError(f"indices must be in 0..{len(labels) - 1}, got {int(bad[0])}")
            images, labels = images[indices], labels[indices]
        self.images = images
        self.labels = labels
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index].to(torch.float32).unsqueeze(0) / 16.0
        label = int(self.labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label


def split_indices(n: int, val_fraction: float = 0.3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Shuffle ``range(n)`` with ``seed`` and split it into (train, validation) index tensors."""
    check_int("n", n, minimum=2)
    check_float("val_fraction", val_fraction, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False)
    check_int("seed", seed, minimum=0)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(n, generator=generator)
    n_val = max(1, min(n - 1, round(n * val_fraction)))
    return order[n_val:], order[:n_val]


def digits_tensors(flatten: bool = True, val_fraction: float = 0.3, seed: int = 0,
                   train_size: int | None = None) -> tuple[TensorDataset, TensorDataset]:
    """The digits as (train, validation) ``TensorDataset`` s of float images in [0, 1] and int64 labels.

    Args:
        flatten: images as (N, 64) vectors for an MLP (True) or (N, 1, 8, 8) for a CNN (False).
        val_fraction: share of images held out for validation.
        seed: the shuffle before the split.
        train_size: keep only the first ``train_size`` training images (a small training set overfits sooner).
    """
    check_bool("flatten", flatten)
    images, labels = load_digits_tensors()
    x = images.to(torch.float32) / 16.0
    x = x.reshape(len(x), 64) if flatten else x.unsqueeze(1)
    train_idx, val_idx = split_indices(len(labels), val_fraction, seed)
    if train_size is not None:
        check_int("train_size", train_size, minimum=2, maximum=len(train_idx))
        train_idx = train_idx[:train_size]
    return TensorDataset(x[train_idx], labels[train_idx]), TensorDataset(x[val_idx], labels[val_idx])


def make_loaders(train: Dataset, val: Dataset, batch_size: int = 64, seed: int = 0,
                 drop_last: bool = False) -> tuple[DataLoader, DataLoader]:
    """Training loader (shuffled by a seeded generator) and validation loader (in order) for two datasets.

    ``drop_last=True`` drops a final short training batch, which avoids BatchNorm's error on a batch of one.
    The validation loader has a generator of its own too: a ``DataLoader`` draws a seed from its generator each
    time it is iterated, from torch's global one when it has none, which would shift the dropout masks of the
    next training epoch.
    """
    check_int("batch_size", batch_size, minimum=1)
    check_int("seed", seed, minimum=0)
    generator = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator, drop_last=drop_last)
    val_loader = DataLoader(val, batch_size=max(batch_size, 256), shuffle=False,
                            generator=torch.Generator().manual_seed(seed))
    return train_loader, val_loader


def make_toy_2d(kind: str = "moons", n: int = 400, noise: float = 0.2, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate a 2-D two-class toy set deterministically: ``kind`` is "moons" or "spirals".

    Returns ``(x, y)``: float32 points of shape (n, 2), roughly in [-1.5, 1.5]^2, and int64 labels 0/1.
    """
    check_choice("kind", kind, ("moons", "spirals"))
    check_int("n", n, minimum=2)
    check_float("noise", noise, minimum=0.0)
    check_int("seed", seed, minimum=0)
    generator = torch.Generator().manual_seed(seed)
    n0 = n // 2
    n1 = n - n0
    if kind == "moons":
        t0 = torch.rand(n0, generator=generator) * math.pi
        t1 = torch.rand(n1, generator=generator) * math.pi
        a = torch.stack([torch.cos(t0), torch.sin(t0)], 1)
        b = torch.stack([1 - torch.cos(t1), 0.5 - torch.sin(t1)], 1)
        x = torch.cat([a, b]) - torch.tensor([0.5, 0.25])
    else:
        t0 = torch.sqrt(torch.rand(n0, generator=generator)) * 3 * math.pi
        t1 = torch.sqrt(torch.rand(n1, generator=generator)) * 3 * math.pi
        a = torch.stack([t0 * torch.cos(t0), t0 * torch.sin(t0)], 1)
        b = torch.stack([-t1 * torch.cos(t1), -t1 * torch.sin(t1)], 1)
        x = torch.cat([a, b]) / (3 * math.pi) * 1.4
    x = x + noise * torch.randn(x.shape, generator=generator)
    y = torch.cat([torch.zeros(n0, dtype=torch.long), torch.ones(n1, dtype=torch.long)])
    order = torch.randperm(n, generator=generator)
    return x[order].to(torch.float32), y[order]


def toy_2d_tensors(kind: str = "moons", n_train: int = 200, n_val: int = 400, noise: float = 0.25,
                   seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """A 2-D toy set as (train, validation) ``TensorDataset`` s drawn from the same distribution."""
    check_int("n_train", n_train, minimum=2)
    check_int("n_val", n_val, minimum=2)
    x, y = make_toy_2d(kind, n_train + n_val, noise, seed)
    return TensorDataset(x[:n_train], y[:n_train]), TensorDataset(x[n_train:], y[n_train:])


class TensorBatches:
    """Mini-batches of a ``TensorDataset`` sliced straight from its tensors: what a ``DataLoader`` over the same
    data yields, without fetching the samples one by one (about twice as fast for tiny models).

    With ``shuffle=True`` each pass draws a new order from ``generator`` (which :func:`~course_utils.training.fit`
    seeds for its run and restores afterwards), so runs are reproducible; ``drop_last=True`` drops a final short
    batch.
    """

    def __init__(self, dataset: TensorDataset, batch_size: int, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = False) -> None:
        if not isinstance(dataset, TensorDataset):
            raise TypeError(f"dataset must be a TensorDataset, got {type(dataset).__name__}")
        self.x, self.y = dataset.tensors
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0)) if shuffle else None

    def __len__(self) -> int:
        n = len(self.y)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.y)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for i in range(len(self)):
            index = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.x[index], self.y[index]
