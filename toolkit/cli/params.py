"""Click parameter types shared by the commands."""

from __future__ import annotations

import math
from typing import Any

import click

__all__ = ["Seconds"]


class Seconds(click.ParamType[float]):
    """A finite number of seconds, at least ``minimum`` and at most ``maximum``.

    ``click.FloatRange`` lets ``nan`` and ``inf`` through (every comparison with nan is false;
    inf is above any minimum), and a nan timeout fails deep in a socket call, far from the
    option that gave it."""

    name = "seconds"

    def __init__(self, minimum: float = 0.0, *, maximum: float | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float | int) and not isinstance(value, bool):
            seconds = float(value)
        else:
            try:
                seconds = float(str(value).strip())
            except ValueError:
                self.fail(f"{str(value)[:40]!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        if seconds < self.minimum or (self.maximum is not None and seconds > self.maximum):
            upper = f" and at most {self.maximum:g}" if self.maximum is not None else ""
            least = f"at least {self.minimum:g}{upper}"
            self.fail(f"{seconds:g} is out of range: give {least} seconds", param, ctx)
        return seconds

    def __repr__(self) -> str:
        return f"Seconds({self.minimum:g})"
