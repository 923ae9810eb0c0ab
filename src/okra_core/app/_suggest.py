"""Did you mean ...? The closest titles to a reference that matched nothing."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Final

__all__ = ["did_you_mean"]

_CUTOFF: Final = 0.6
_MOST: Final = 3


def did_you_mean(ref: str, labels: Iterable[str]) -> str:
    """``did you mean 'Reduce churn'?`` for the labels closest to ``ref``, else ``""``.

    Matching ignores case and surrounding space; at most three labels are named,
    closest first, each once.

    Example:
        >>> did_you_mean("redcue churn", ["Reduce churn", "Grow revenue"])
        "did you mean 'Reduce churn'?"
        >>> did_you_mean("xyz", ["Reduce churn"])
        ''
    """
    by_folded: dict[str, str] = {}
    for label in labels:
        by_folded.setdefault(label.strip().casefold(), label.strip())
    close = difflib.get_close_matches(
        ref.strip().casefold(), list(by_folded), n=_MOST, cutoff=_CUTOFF
    )
    if not close:
        return ""
    return "did you mean " + " or ".join(repr(by_folded[c]) for c in close) + "?"
