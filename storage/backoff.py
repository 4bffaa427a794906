"""The one retry delay policy: exponential backoff with full jitter, capped."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, *, base: float = 10.0, cap: float = 900.0) -> float:
    """Delay before retry number `attempt` (0-based): random in [base/2, min(cap, base * 2**attempt)].

    The cap stays far below Redis's visibility timeout: a countdown longer than it makes Celery run the
    task again and again (celery#5935).
    """
    ceiling = min(cap, base * (2 ** max(0, attempt)))
    return random.uniform(min(base / 2, ceiling), ceiling)
