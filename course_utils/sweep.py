"""Many seeds at once: train one copy of a course MLP per seed, all as a single batched model.

One seed is an anecdote. To see whether a result is luck, the course trains the same experiment on twenty seeds;
one after another that takes more than ten seconds, so :func:`sweep` trains all the seeds' copies of the model in
one go. The copies share nothing but the tensors they are stored in. Each seed's batch lies in the last dimension,
``(S, features, B)``, which lets every layer run without a copy:

- each seed's ``Linear`` layer is a slice of one weight tensor of shape ``(S, out, in)`` (its own ``(out, in)``
  weight), applied with one batched matrix product (``torch.baddbmm``);
- the seeds' ``BatchNorm1d(F)`` layers are **torch's own** ``nn.BatchNorm1d(S * F)``, fed ``(1, S * F, B)``:
  BatchNorm's statistics are per channel, so channel ``s * F + f`` holds exactly seed ``s``'s statistics of
  feature ``f``, taken over seed ``s``'s batch;
- ReLU works element by element, and Dropout is an ``nn.Dropout`` (:class:`SeedDropout`) whose masks are drawn
  with ``torch.rand``, which costs a third of what ``nn.Dropout``'s ``bernoulli_`` costs per element on a CPU.

The mode logic is nn.Module's own: ``train()`` and ``eval()`` act on the batched model exactly as on one small
model, and :func:`course_utils.training.enter_phase` (the placements of ``fit``) drives it. Each seed gets the
initial weights and the batch order its own run would get; the loss is the sum of the seeds' losses, so each
seed's gradient (and each Adam update, which is element-wise) is its own. The one difference from separate runs:
the dropout masks come from one generator, so a seed's masks differ from the ones its separate run would draw
(they have the same distribution), and each seed is another sample of the same experiment. Unit tests show that,
given the same masks (a per-seed mask generator swapped in), every seed's losses match its separate
:func:`course_utils.training.fit`: to float precision in the first epoch, within 1 % over ten (Adam turns rounding
differences of the batched matrix products into small drifts).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from ._validate import check_choice, check_float, check_int
from .models import mlp
from .runtime import one_thread, seeded
from .modes import summarize_modes
from .training import PLACEMENTS, _watched, enter_phase


class SeedLinear(nn.Module):
    """``S`` independent ``nn.Linear`` layers as one: input ``(S, in, B)`` -> output ``(S, out, B)``.

    Seed ``s``'s layer computes ``weight[s] @ x[s] + bias[s]``: ``nn.Linear``'s ``x @ W.T + b`` with the batch
    in the last dimension, so ``weight[s]`` is that layer's own ``(out, in)`` weight.
    """

    def __init__(self, layers: Sequence[nn.Linear]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.stack([layer.weight.detach() for layer in layers]).contiguous())
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers]).unsqueeze(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, self.weight, x)


class SeedBatchNorm(nn.Module):
    """``S`` independent ``nn.BatchNorm1d(F)`` layers as torch's own ``nn.BatchNorm1d(S * F)`` (kept as ``norm``).

    Input ``(S, F, B)`` is, without a copy, BatchNorm1d's ``(N, C, L)`` input ``(1, S * F, B)``: the statistics
    of channel ``s * F + f`` are taken over seed ``s``'s own batch, as its own ``BatchNorm1d(F)`` takes them.
    """

    def __init__(self, layers: Sequence[nn.BatchNorm1d]) -> None:
        super().__init__()
        first = layers[0]
        self.seeds, self.features = len(layers), first.num_features
        self.norm = nn.BatchNorm1d(self.seeds * self.features, eps=first.eps, momentum=first.momentum)
        with torch.no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(self.norm, name).copy_(torch.cat([getattr(layer, name) for layer in layers]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s, f, b = x.shape
        return self.norm(x.reshape(1, s * f, b)).reshape(s, f, b)

    def seed_stats(self, seed_index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(running_mean, running_var) of one seed's layer."""
        part = slice(seed_index * self.features, (seed_index + 1) * self.features)
        return self.norm.running_mean[part], self.norm.running_var[part]


class SeedDropout(nn.Dropout):
    """``nn.Dropout`` whose training-mode mask is drawn with ``torch.rand`` (the sweep's one departure from torch's
    own layers, for speed).

    The mode logic is ``nn.Dropout``'s, untouched: ``train()`` / ``eval()`` set ``self.training`` and in eval mode
    the input passes through. In training mode each element is kept when a uniform draw in [0, 1) is at least
    ``p`` (probability ``1 - p``) and scaled by ``1 / (1 - p)``: the distribution of ``F.dropout``, whose
    ``bernoulli_`` costs about three times as much per element on a CPU (``make bench`` measures both).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0  # everything dropped, as F.dropout(x, 1.0) does
        # 1 / (1 - p) where a uniform draw is >= p (kept), 0 where it is < p (dropped)
        mask = torch.rand(x.shape, dtype=x.dtype).ge_(self.p).mul_(1.0 / (1.0 - self.p))
        return x * mask


def stack_models(models: Sequence[nn.Sequential]) -> nn.Sequential:
    """One batched model from ``S`` models built by :func:`course_utils.models.mlp` with the same settings.

    The result maps ``(S, in, B)`` to ``(S, out, B)`` (each seed's batch in the last dimension, which lets
    BatchNorm and the matrix products run without copies); slice ``s`` computes what ``models[s]`` computes on its
    own batch: ``stacked(x)[s] == models[s](x[s].T).T``.
    """
    if not models or not all(isinstance(m, nn.Sequential) for m in models):
        raise TypeError("models must be a non-empty sequence of nn.Sequential models from course_utils.models.mlp")
    shapes = {tuple(type(layer) for layer in m) for m in models}
    if len(shapes) != 1:
        raise ValueError("every model must have the same layers (build them with the same mlp(...) settings)")
    stacked: list[nn.Module] = []
    for parts in zip(*models):
        first = parts[0]
        if isinstance(first, nn.Linear):
            stacked.append(SeedLinear(parts))
        elif isinstance(first, nn.BatchNorm1d):
            stacked.append(SeedBatchNorm(parts))
        elif isinstance(first, nn.Dropout):
            stacked.append(SeedDropout(first.p))
        elif isinstance(first, nn.ReLU):
            stacked.append(nn.ReLU())
        else:
            raise TypeError(f"cannot batch a {type(first).__name__} layer (only Linear, BatchNorm1d, ReLU, Dropout)")
    return nn.Sequential(*stacked)


def unstack(model: nn.Sequential, index: int) -> nn.Sequential:
    """Slice ``index`` of a batched model from :func:`stack_models` as a plain ``nn.Sequential`` (a copy in eval
    mode): the inverse of :func:`stack_models` for one seed."""
    layers: list[nn.Module] = []
    for part in model:
        if isinstance(part, SeedLinear):
            weight = part.weight[index].detach()
            layer = nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                layer.weight.copy_(weight)
                layer.bias.copy_(part.bias[index, :, 0])
        elif isinstance(part, SeedBatchNorm):
            layer = nn.BatchNorm1d(part.features, eps=part.norm.eps, momentum=part.norm.momentum)
            part_slice = slice(index * part.features, (index + 1) * part.features)
            with torch.no_grad():
                for name in ("weight", "bias", "running_mean", "running_var"):
                    getattr(layer, name).copy_(getattr(part.norm, name)[part_slice])
                layer.num_batches_tracked.copy_(part.norm.num_batches_tracked)
        elif isinstance(part, nn.Dropout):
            layer = nn.Dropout(part.p)
        else:
            layer = type(part)()
        layers.append(layer)
    return nn.Sequential(*layers).eval()


@dataclass(frozen=True)
class SeedRuns:
    """One placement trained on many seeds at once: per-epoch records of shape ``(epochs, S)``.

    ``train_loss`` and ``val_loss`` are recorded as ``fit`` records them (in the mode each phase ran in);
    ``clean_val_loss`` / ``clean_val_acc`` (shape ``(S,)``) measure the final models in eval mode.
    """

    placement: str
    seeds: tuple[int, ...]
    train_loss: torch.Tensor
    val_loss: torch.Tensor
    val_acc: torch.Tensor
    clean_val_loss: torch.Tensor
    clean_val_acc: torch.Tensor
    clean_train_loss: torch.Tensor
    model: nn.Sequential
    """The final batched model (in eval mode); :func:`unstack` takes one seed's model out of it."""
    train_mode: list[str] = field(default_factory=list)

    def seed_model(self, seed: int) -> nn.Sequential:
        """The final model of seed ``seed`` as a plain :func:`course_utils.models.mlp` (a copy, in eval mode)."""
        if seed not in self.seeds:
            raise ValueError(f"seed {seed!r} was not in this sweep; it ran {self.seeds}")
        return unstack(self.model, self.seeds.index(seed))


def _seed_losses(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-seed mean cross-entropy of logits (S, classes, B) (cross_entropy's (N, C, d) form) for labels y (S, B)."""
    return F.cross_entropy(logits, y, reduction="none").mean(1)


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-seed loss and accuracy on the whole of ``x`` (N, in), ``y`` (N,), under no_grad on a forked generator."""
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        logits, y = model(x.t().expand(seeds, *x.t().shape)), y.expand(seeds, *y.shape)
        return _seed_losses(logits, y), (logits.argmax(1) == y).float().mean(1)


def sweep(train: TensorDataset, val: TensorDataset, placement: str, seeds: Sequence[int], *,
          hidden: Sequence[int] = (128, 128), dropout: float = 0.5, batchnorm: bool = True, epochs: int = 60,
          lr: float = 2e-3, batch_size: int = 32, validate_every: int = 1) -> SeedRuns:
    """Train :func:`course_utils.models.mlp` with ``train()`` placed as ``placement``, once per seed, all at once.

    Seed ``s`` starts from the weights ``torch.manual_seed(s); mlp(...)`` gives and shuffles its batches with a
    generator seeded ``s`` (as :func:`course_utils.placement.train_run` does); the batches drop a short last one.
    Adam with learning rate ``lr``; validation uses ``val`` whole, under ``no_grad``, after every
    ``validate_every``-th epoch and after the last (the records hold only those epochs). ``"never_eval"``
    validates in training mode, which changes BatchNorm's running statistics, so it validates every epoch.
    """
    check_choice("placement", placement, PLACEMENTS)
    seeds = tuple(check_int("seed", s, minimum=0) for s in seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed, e.g. range(20)")
    check_int("epochs", epochs, minimum=1, maximum=1000)
    check_int("batch_size", batch_size, minimum=2)
    check_float("lr", lr, minimum=0.0, min_inclusive=False)
    validate_every = 1 if placement == "never_eval" else check_int("validate_every", validate_every, minimum=1)
    x_train, y_train = train.tensors
    x_val, y_val = val.tensors
    n, in_features = x_train.shape
    x_train_t = x_train.t().contiguous()  # (in, N): a batch of indices (S, B) gathers to (in, S, B)
    out_features = int(max(y_train.max(), y_val.max())) + 1
    if n < batch_size:
        raise ValueError(f"the training set has {n} samples, fewer than one batch of {batch_size}")
    models = []
    for s in seeds:
        with seeded(s):
            models.append(mlp(in_features, hidden, out_features, dropout=dropout, batchnorm=batchnorm))
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    with one_thread(), seeded(seeds[0]):
        model = stack_models(models)
        # fused: one kernel per step for all parameters (element-wise, the same update as separate Adams)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
        watched = _watched(model)
        steps = n // batch_size
        records: dict[str, list[torch.Tensor]] = {"train_loss": [], "val_loss": [], "val_acc": []}
        train_mode: list[str] = []
        for epoch in range(epochs):
            enter_phase(model, placement, "train", epoch)
            train_mode.append(summarize_modes(watched))
            # the epoch's batches of every seed, gathered at once: x (steps, S, in, B), y (steps, S, B)
            order = torch.stack([torch.randperm(n, generator=g)[:steps * batch_size] for g in generators])
            order = order.reshape(len(seeds), steps, batch_size).transpose(0, 1)
            xs, ys = x_train_t[:, order].permute(1, 2, 0, 3).contiguous(), y_train[order]
            total = torch.zeros(len(seeds))
            for i in range(steps):
                loss = _seed_losses(model(xs[i]), ys[i])
                optimizer.zero_grad(set_to_none=True)
                loss.sum().backward()
                optimizer.step()
                total += loss.detach()
            enter_phase(model, placement, "validate", epoch)
            if (epoch + 1) % validate_every == 0 or epoch == epochs - 1:
                val_loss, val_acc = _evaluate(model, x_val, y_val, len(seeds))
                records["train_loss"].append(total / steps)
                records["val_loss"].append(val_loss)
                records["val_acc"].append(val_acc)
        model.eval()
        clean_loss, clean_acc = _evaluate(model, x_val, y_val, len(seeds))
        clean_train_loss, _ = _evaluate(model, x_train, y_train, len(seeds))
    return SeedRuns(placement, seeds, *(torch.stack(records[k]) for k in ("train_loss", "val_loss", "val_acc")),
                    clean_loss, clean_acc, clean_train_loss, model, train_mode)


@dataclass(frozen=True)
class SeedComparison:
    """Per-seed differences between a placement's runs and the correct loop's, at the final epoch."""

    placement: str
    seeds: tuple[int, ...]
    val_loss_change: list[float]
    """Final validation loss (eval mode) minus the correct run's, per seed (positive: the placement is worse)."""
    relative_val_loss_change: list[float]
    """The same, relative to the correct run's final validation loss."""
    val_acc_change: list[float]
    """Final validation accuracy minus the correct run's, per seed."""

    @property
    def worse(self) -> int:
        """On how many seeds the placement ends with the higher validation loss."""
        return sum(d > 0 for d in self.val_loss_change)

    def describe(self) -> str:
        """Count and mean ± SD, in one line."""
        n = len(self.seeds)
        loss, rel, acc = self.val_loss_change, self.relative_val_loss_change, self.val_acc_change
        return (f"higher final validation loss on {self.worse} of {n} seeds; change {_mean_sd(loss, '+.3f')} "
                f"({_mean_sd([100 * r for r in rel], '+.0f')} %); accuracy change {_mean_sd(acc, '+.3f')}")


def _mean_sd(values: Sequence[float], fmt: str) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{format(statistics.fmean(values), fmt)} ± {format(sd, fmt.lstrip('+'))}"


def compare(correct: SeedRuns, other: SeedRuns) -> SeedComparison:
    """Seed-by-seed comparison of ``other`` with ``correct`` (same seeds): the final models, both measured in eval
    mode (``clean_val_loss``/``clean_val_acc``), so a placement that validates in training mode (``"never_eval"``) is
    judged by what its model can do, not by its misreported numbers. For ``"inside"`` and ``"outside"`` these equal
    the last recorded validation numbers."""
    if correct.seeds != other.seeds:
        raise ValueError(f"the two sweeps ran different seeds: {correct.seeds} vs {other.seeds}")
    ref_loss, loss = correct.clean_val_loss, other.clean_val_loss
    return SeedComparison(other.placement, correct.seeds, (loss - ref_loss).tolist(),
                          (loss / ref_loss - 1).tolist(), (other.clean_val_acc - correct.clean_val_acc).tolist())


__all__ = ["SeedLinear", "SeedBatchNorm", "SeedDropout", "stack_models", "SeedRuns", "unstack", "sweep", "SeedComparison", "compare"]
