"""Step ``white_balance``: gray-world balance inside the field (:mod:`..whitebalance`)."""

from __future__ import annotations

from ..whitebalance import gray_world
from .base import Column, Option, PhotoWork, RunContext, Step


class WhiteBalanceStep(Step):
    """Gray-world white balance, when ``--white-balance`` is given."""

    name = "white_balance"
    title = "white balance"
    options = (Option("white_balance", False, "gray-world white balance", kind=bool),)
    columns = (Column("white_balance", "gray_world when it was applied, else empty"),)

    def process(self, photo: PhotoWork, run: RunContext) -> None:
        if run.settings.white_balance:
            photo.image = gray_world(photo.image, photo.fov)
        photo.values["white_balance"] = "gray_world" if run.settings.white_balance else ""
