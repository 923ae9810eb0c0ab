"""The playbook's lint settings: which rules run, how severe, and the team's own words.

Kept apart from the rules (``_lint``) so that the playbook's values module can
hold them without importing the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

from ._errors import FieldError, ValidationError

__all__ = ["LintSettings"]

_CODE = re.compile(r"^[a-z][a-z0-9_.-]*$")


# The converters normalise what they can and leave anything else in place, for
# __attrs_post_init__ to refuse by name (a stored record with a number for a code).


def _items(value: object) -> list[Any]:
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, Iterable) else [value]


def _codes(value: object) -> tuple[Any, ...]:
    items = [v.strip() if isinstance(v, str) else v for v in _items(value)]
    return tuple(sorted(set(items))) if all(isinstance(v, str) for v in items) else tuple(items)


def _words(value: object) -> tuple[Any, ...]:
    items = [" ".join(v.lower().split()) if isinstance(v, str) else v for v in _items(value)]
    if all(isinstance(v, str) for v in items):
        return tuple(sorted(set(items) - {""}))
    return tuple(items)


@attrs.frozen(kw_only=True)
class LintSettings:
    """How ``okra lint`` judges a playbook's OKRs; part of :class:`PlaybookSettings`.

    Change them like any other playbook setting (the change is an event)::

        okra.revise_playbook(
            lint=LintSettings(disabled=("okra.business-as-usual",),
                              errors=("okra.stale-check-in",),
                              output_words=("migrate",)),
            reason="our rules", actor="ana")

    Attributes:
        disabled: codes of rules that do not run (built-in or a plugin's).
        errors: codes of rules whose findings are errors (``okra lint --strict``
            fails on them), whatever the rule's own severity.
        warnings: codes of rules whose findings are warnings.
        infos: codes of rules whose findings are for information only.
        max_key_results_per_objective: more than this is a focus warning.
        output_words: verbs that mark a key result (or an objective) worded as an
            output, a task, added to okra's own list.
        bau_words: words and phrases that mark business as usual, added to
            okra's own list.
        allowed_words: words of okra's lists that this team does not flag.

    .. versionadded:: 0.1
    """

    disabled: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    errors: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    infos: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    max_key_results_per_objective: int = 5
    output_words: tuple[str, ...] = attrs.field(default=(), converter=_words)
    bau_words: tuple[str, ...] = attrs.field(default=(), converter=_words)
    allowed_words: tuple[str, ...] = attrs.field(default=(), converter=_words)

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        seen: dict[str, str] = {}
        for name in ("disabled", "errors", "warnings", "infos"):
            for index, code in enumerate(getattr(self, name)):
                if not isinstance(code, str) or not _CODE.match(code):
                    errors.append(
                        FieldError(f"{name}[{index}]", f"expected a rule code, got {code!r}")
                    )
                elif name != "disabled" and code in seen:
                    errors.append(
                        FieldError(
                            f"{name}[{index}]",
                            f"{code} is in {seen[code]} already; expected one severity per rule",
                        )
                    )
                elif name != "disabled":
                    seen[code] = name
        for name in ("output_words", "bau_words", "allowed_words"):
            for index, word in enumerate(getattr(self, name)):
                if not isinstance(word, str):
                    errors.append(FieldError(f"{name}[{index}]", f"expected text, got {word!r}"))
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
        for name, severity in (("errors", "error"), ("warnings", "warning"), ("infos", "info")):
            if code in getattr(self, name):
                return severity
        return None

    def codes(self) -> dict[str, str]:
        """Every rule code the settings name, with the setting that names it."""
        named: dict[str, str] = {}
        for name in ("disabled", "errors", "warnings", "infos"):
            for code in getattr(self, name):
                named.setdefault(code, name)
        return named

    def enabled(self, code: str) -> bool:
        """Whether rule ``code`` runs."""
        return code not in self.disabled
