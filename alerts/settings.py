"""What alerts read from configuration: each channel's settings model, and what delivery needs.

The worker's `Settings` satisfies `DeliverySettings` structurally: alerts never import the worker.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

Mode = Literal["immediate", "hourly", "daily"]


class ChannelSettings(BaseModel):
    """Options every channel kind has; each kind's model adds its own (secrets as `SecretStr`)."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode = "immediate"
    """`immediate`, or collect alerts and send one digest at the end of each UTC hour or day."""


class DeliverySettings(Protocol):
    """The settings delivery reads."""

    @property
    def database_url(self) -> str: ...

    @property
    def alert_max_attempts(self) -> int: ...

    @property
    def alert_retry_base(self) -> float: ...
