"""Figures for the course, built with ``matplotlib.figure.Figure`` (never pyplot).

pyplot figures drawn inside widget callbacks are flushed half-drawn in JupyterLab about one click in seven;
a bare ``Figure`` never touches pyplot's figure manager, so every plot here is built that way.
"""
from __future__ import annotations

import base64
import io
from typing import Iterable, Mapping, Sequence

from ._validate import check_float, check_int

from matplotlib.figure import Figure

OKABE_ITO = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000",
}
"""Okabe and Ito's colour-blind-safe palette: every colour of the course comes from it."""

RUN_COLORS = {
    "train": OKABE_ITO["orange"],            # training mode
    "eval": OKABE_ITO["blue"],               # eval mode
    "inside": OKABE_ITO["bluish green"],     # the correct loop: train() every epoch
    "outside": OKABE_ITO["vermillion"],      # the misplaced train(): once before the loop
    "never_eval": OKABE_ITO["reddish purple"],  # never eval()
}
RUN_COLORS["correct"], RUN_COLORS["misplaced"] = RUN_COLORS["inside"], RUN_COLORS["outside"]
"""The same colour for the same run or mode in every plot of the course."""

ACCENT = OKABE_ITO["sky blue"]
"""A colour for a second quantity that is neither a mode nor a run (e.g. a mean, a second statistic)."""

HIGHLIGHT = OKABE_ITO["yellow"]
"""A background mark (e.g. 'a graph was built'), always with dark text or edges on it."""

RUN_MARKERS = {"inside": "o", "outside": "s", "never_eval": "^"}
"""Each run's marker, so runs stay apart without colour and identical runs do not hide each other."""

PHASE_STYLES = {"train": "--", "val": "-"}
"""Line style by phase: training loss dashed, validation loss solid, in every plot."""

LEGEND_HANDLE_LENGTH = 3.5
"""Legend handle length (in font sizes) wherever dashed and solid lines with markers must be told apart."""

MIN_FONT = 9.0
"""The smallest text in a course figure, in points (drawn at :data:`DPI`, shown unscaled)."""

MAX_WIDTH = 9.0
"""The widest course figure, in inches: 900 px at :data:`DPI`, within JupyterLab's notebook column at a
1366 px laptop viewport, so a figure is shown at the size it is drawn."""

DPI = 100
"""Resolution of every course figure's PNG."""

PLACEMENT_LABELS = {
    "inside": "train() every epoch (correct)",
    "outside": "train() once before the loop",
    "never_eval": "never eval()",
}


def color_for(name: str, index: int = 0) -> str:
    """The course colour for a run or mode name, or another colour of :data:`OKABE_ITO` for other names."""
    if name in RUN_COLORS:
        return RUN_COLORS[name]
    others = [OKABE_ITO[k] for k in ("sky blue", "orange", "blue", "reddish purple", "black")]
    return others[index % len(others)]


def new_figure(nrows: int = 1, ncols: int = 1, width: float = 6.4, height: float = 3.6):
    """A ``(Figure, axes)`` pair made without pyplot; ``axes`` is one Axes or an array of them.

    A width above :data:`MAX_WIDTH` is drawn at :data:`MAX_WIDTH`: wider figures would be shrunk on screen."""
    check_int("nrows", nrows, minimum=1)
    check_int("ncols", ncols, minimum=1)
    width = min(check_float("width", width, minimum=0.0, min_inclusive=False), MAX_WIDTH)
    check_float("height", height, minimum=0.0, min_inclusive=False)
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols)
    return fig, axes


def figure_to_png(fig: Figure, dpi: int = DPI) -> bytes:
    """Render ``fig`` to PNG bytes."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib.figure.Figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def figure_to_output(fig: Figure) -> dict:
    """A Jupyter ``display_data`` output holding ``fig`` as a PNG (what an ``ipywidgets.Output`` shows)."""
    png = base64.b64encode(figure_to_png(fig)).decode("ascii")
    return {"output_type": "display_data", "data": {"image/png": png, "text/plain": f"<Figure: {_title_of(fig)}>"},
            "metadata": {}}


def _title_of(fig: Figure) -> str:
    if fig._suptitle is not None:  # noqa: SLF001 - matplotlib has no public getter
        return fig._suptitle.get_text()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    return "; ".join(titles) or "figure"


def draw_histories(histories: Mapping[str, object], ax_loss, ax_gap=None, ax_acc=None) -> None:
    """Draw each named run's losses (dashed training, solid validation) on ``ax_loss``, and optionally its gap
    on ``ax_gap`` and its validation accuracy on ``ax_acc``, in the course colour of the run's name."""
    n = len(histories)
    for i, (name, h) in enumerate(histories.items()):
        epochs = range(1, len(h.train_loss) + 1)
        style = run_style(name, i, n, len(epochs))
        label = PLACEMENT_LABELS.get(name, name)
        ax_loss.plot(epochs, h.train_loss, PHASE_STYLES["train"], label=f"{label}: training loss", **style)
        ax_loss.plot(epochs, h.val_loss, PHASE_STYLES["val"], label=f"{label}: validation loss", **style)
        if ax_gap is not None:
            ax_gap.plot(epochs, h.gap, PHASE_STYLES["val"], label=label, **style)
        if ax_acc is not None:
            ax_acc.plot(epochs, h.val_acc, PHASE_STYLES["val"], label=label, **style)


def run_style(name: str, index: int = 0, count: int = 1, points: int = 10) -> dict:
    """``plot`` keywords for run ``name``: its colour and marker, markers staggered between the ``count`` runs
    (so two identical runs still both show), later runs drawn thinner on top."""
    step = max(1, points // 8)
    return {"color": color_for(name, index), "marker": RUN_MARKERS.get(name, "o"), "markersize": 5,
            "markevery": (min(index * max(1, step // max(count, 1)), points - 1), step),
            "linewidth": 2.2 - 0.5 * index, "zorder": 2 + index}


def loss_curves(histories: Mapping[str, object], title: str | None = None, show_gap: bool = True) -> Figure:
    """Training (dashed) and validation (solid) loss per epoch for each named run, and the gap beside them.

    ``histories`` maps a run name (e.g. a placement) to a :class:`course_utils.training.History`.
    """
    if not isinstance(histories, Mapping):
        raise TypeError(f"histories must be a dict {{'run name': History}}, got {type(histories).__name__}")
    if not histories:
        raise ValueError("histories is empty: pass {'run name': History, ...}")
    for name, h in histories.items():
        if not (hasattr(h, "train_loss") and hasattr(h, "val_loss")):
            raise TypeError(f"histories[{name!r}] must be a History (from fit), got {h!r}")
    fig, axes = new_figure(1, 2 if show_gap else 1, width=MAX_WIDTH if show_gap else 6.4, height=3.8)
    ax_loss = axes[0] if show_gap else axes
    draw_histories(histories, ax_loss, axes[1] if show_gap else None)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_loss.set_title("Loss per epoch (dashed: training, solid: validation)")
    # Long handles, so the dashes of the training loss show on both sides of the marker: with the default short
    # handle, "training loss" (dashed) and "validation loss" (solid) look the same in the legend.
    ax_loss.legend(fontsize=MIN_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.2),  # below, off the curves
                   handlelength=LEGEND_HANDLE_LENGTH)
    if show_gap:
        axes[1].axhline(0, color="0.6", lw=0.8)
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("validation loss − training loss")
        axes[1].set_title("Gap as recorded: validation − training loss,\neach measured in the mode its phase ran in")
        axes[1].legend(fontsize=MIN_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    if title:
        fig.suptitle(title)
    return fig


def histogram(values: Sequence[float], bins: int = 40, title: str = "", xlabel: str = "value",
              reference: float | None = None, reference_label: str = "reference") -> Figure:
    """A histogram of ``values`` with an optional vertical reference line (e.g. the input value)."""
    import torch

    try:
        data = torch.as_tensor(values, dtype=torch.float64).flatten()
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"values must be numbers (a tensor or a list of floats), got {values!r}") from None
    if data.numel() == 0:
        raise ValueError("values is empty: nothing to plot")
    fig, ax = new_figure(width=6.4, height=3.4)
    ax.hist(data.numpy(), bins=bins, color=RUN_COLORS["eval"], alpha=0.85)
    if reference is not None:
        ax.axvline(reference, color="black", ls="--", label=reference_label)
        ax.legend(fontsize=MIN_FONT)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.set_title(title)
    return fig


def digits_grid(images, labels, rows: int = 2, cols: int = 8, title: str = "") -> Figure:
    """A grid of 8x8 digit images with their labels (the first ``rows * cols`` of them)."""
    import torch

    check_int("rows", rows, minimum=1)
    check_int("cols", cols, minimum=1)
    n = min(rows * cols, len(images))
    if n == 0:
        raise ValueError("images is empty: nothing to plot")
    fig, axes = new_figure(rows, cols, width=min(1.1 * cols, MAX_WIDTH), height=1.25 * rows)
    flat = axes.flatten() if hasattr(axes, "flatten") else [axes]
    for i, ax in enumerate(flat):
        ax.set_axis_off()
        if i < n:
            ax.imshow(torch.as_tensor(images[i]).reshape(8, 8).numpy(), cmap="gray_r")
            ax.set_title(str(int(labels[i])), fontsize=10)
    if title:
        fig.suptitle(title)
    return fig


def steady_limits(values: Iterable[float], base: tuple[float, float], pad: float = 0.05) -> tuple[float, float]:
    """Axis limits that cover ``base`` whatever the data (widened only for a value outside it), plus ``pad`` of
    the span on each side: an explorer passes the same ``base`` for every setting, so moving a control changes the
    data on screen, not the scale."""
    values = [float(v) for v in values]
    low, high = min(values + [base[0]]), max(values + [base[1]])
    margin = pad * (high - low or 1.0)
    return low - margin, high + margin


def seed_strip(ax, values: Sequence[float], color: str, highlight: int | None = None, xlabel: str = "",
               span: tuple[float, float] = (0.0, 0.0)) -> None:
    """One dot per seed along the x-axis (spread vertically so none hide each other), a line at 0, and the
    mean ± SD as a bar; ``highlight`` (an index into ``values``) is drawn as a larger ringed dot. The x-axis covers
    at least ``span``, so a small effect is not blown up to the panel's width (an explorer passes the same span
    for every setting)."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError("values must hold at least one number (one per seed)")
    n = len(values)
    ys = [((i * 0.618) % 1.0) - 0.5 for i in range(n)]   # a fixed, even spread: the same picture every time
    ax.axvline(0, color="0.45", lw=1)
    ax.scatter(values, ys, s=36, color=color, alpha=0.85, edgecolors="white", linewidths=0.5, zorder=3)
    if highlight is not None and 0 <= highlight < n:
        ax.scatter([values[highlight]], [ys[highlight]], s=140, facecolors="none", edgecolors="black",
                   linewidths=1.5, zorder=4)
    mean = sum(values) / n
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    ax.errorbar([mean], [-0.8], xerr=[sd], fmt="D", color="black", capsize=5, zorder=4)
    ax.set(xlabel=xlabel, yticks=[], ylim=(-1.05, 0.7))
    ax.set_xlim(*steady_limits(values + [0.0], span, pad=0.08))


def small_texts(fig: Figure, minimum: float = MIN_FONT) -> list[str]:
    """The visible texts of ``fig`` smaller than ``minimum`` points, as ``"size pt: text"`` (for tests)."""
    from matplotlib.text import Text

    fig.canvas.draw() if hasattr(fig.canvas, "draw") else None
    return [f"{t.get_fontsize():g} pt: {t.get_text()!r}" for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < minimum - 1e-9]
