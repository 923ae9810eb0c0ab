"""The playbook's lint settings: which rules run, how severe, and the team's own words.

Kept apart from the rules (``_lint``) so that the playbook's values module can
hold them without importing the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._errors import FieldError, ValidationError

__all__ = ["LintSettings"]

_CODE = re.compile(r"^[a-z][a-z0-9_.-]*$")
_SEVERITIES = ("error", "warning", "info")


def _codes(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    return tuple(sorted({str(v).strip() for v in value})) if isinstance(value, Iterable) else ()


def _words(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        return ()
    return tuple(sorted({" ".join(str(v).lower().split()) for v in value} - {""}))


def _severity_pairs(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping):
        items: Iterable[Any] = value.items()
    elif isinstance(value, Iterable) and not isinstance(value, str):
        items = value
    else:
        items = ()
    pairs = {}
    for item in items:
        code, severity = item  # a pair; anything else fails the check below
        pairs[str(code).strip()] = str(severity).strip()
    return tuple(sorted(pairs.items()))


@attrs.frozen(kw_only=True)
class LintSettings:
    """How ``okra lint`` judges a playbook's OKRs; part of :class:`PlaybookSettings`.

    Change them like any other playbook setting (the change is an event)::

        okra.revise_playbook(
            lint=LintSettings(disabled=("okra.business-as-usual",),
                              severity={"okra.stale-check-in": "error"},
                              output_words=("migrate",)),
            reason="our rules", actor="ana")

    Attributes:
        disabled: codes of rules that do not run (built-in or a plugin's).
        severity: a severity (``error``, ``warning``, ``info``) per rule code,
            replacing the rule's own; given as a mapping, kept as sorted pairs.
        max_key_results_per_objective: more than this is a focus warning.
        output_words: verbs that mark a key result (or an objective) worded as an
            output, a task, added to okra's own list.
        bau_words: words and phrases that mark business as usual, added to
            okra's own list.
        allowed_words: words of okra's lists that this team does not flag.

    .. versionadded:: 0.1
    """

    disabled: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    severity: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_severity_pairs)
    max_key_results_per_objective: int = 5
    output_words: tuple[str, ...] = attrs.field(default=(), converter=_words)
    bau_words: tuple[str, ...] = attrs.field(default=(), converter=_words)
    allowed_words: tuple[str, ...] = attrs.field(default=(), converter=_words)

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        for code in self.disabled:
            if not _CODE.match(code):
                errors.append(FieldError("disabled", f"expected rule codes, got {code!r}"))
        for code, severity in self.severity:
            if not _CODE.match(code):
                errors.append(FieldError("severity", f"expected rule codes, got {code!r}"))
            if severity not in _SEVERITIES:
                errors.append(
                    FieldError(
                        f"severity.{code}",
                        f"expected one of {', '.join(_SEVERITIES)}, got {severity!r}",
                    )
                )
        value = self.max_key_results_per_objective
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            errors.append(
                FieldError(
                    "max_key_results_per_objective",
                    f"expected a whole number from 1 to 100, got {value!r}",
                )
            )
        if errors:
            raise ValidationError(errors, summary="invalid lint settings")

    def severity_of(self, code: str) -> str | None:
        """The severity the playbook gives rule ``code``, if it sets one."""
        return dict(self.severity).get(code)

    def enabled(self, code: str) -> bool:
        """Whether rule ``code`` runs."""
        return code not in self.disabled
