"""Small argument checks shared by every module, so that bad input gets a message naming the bad value."""
from __future__ import annotations

from typing import Any


def check_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int in ``[minimum, maximum]``; raise a clear TypeError/ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                min_inclusive: bool = True, max_inclusive: bool = True) -> float:
    """Return ``float(value)`` if it is a real number in the given range; raise a clear error otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if value != value:
        raise ValueError(f"{name} must be a finite number, got NaN")
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if minimum is not None and (value < minimum or (not min_inclusive and value == minimum)):
        bound = ">=" if min_inclusive else ">"
        raise ValueError(f"{name} must be {bound} {minimum}, got {value}")
    if maximum is not None and (value > maximum or (not max_inclusive and value == maximum)):
        bound = "<=" if max_inclusive else "<"
        raise ValueError(f"{name} must be {bound} {maximum}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``; raise a ValueError listing the valid ones otherwise."""
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {valid}; got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False; raise a TypeError naming it otherwise (``"no"`` is not False)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} of type {type(value).__name__}")
    return value


def check_callable(name: str, value: Any, example: str = "a function") -> Any:
    """Return ``value`` if it can be called; raise a TypeError naming it otherwise."""
    if not callable(value):
        raise TypeError(f"{name} must be callable ({example}), got {value!r} of type {type(value).__name__}")
    return value


def check_iterable(name: str, value: Any, example: str = "a DataLoader") -> Any:
    """Return ``value`` if it can be iterated over; raise a TypeError naming it otherwise."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be iterable ({example}), got {value!r} of type {type(value).__name__}")
    return value


def check_module(name: str, value: Any) -> Any:
    """Return ``value`` if it is a ``torch.nn.Module``; raise a TypeError that says what was passed otherwise."""
    import torch.nn as nn

    if not isinstance(value, nn.Module):
        raise TypeError(
            f"{name} must be a torch.nn.Module (for example nn.Linear(2, 2)), got {value!r} "
            f"of type {type(value).__name__}"
        )
    return value
