"""The team's roles, and what each may do: the rules behind okra's authorizer.

okra_core asks an authorizer ``(actor, command, target)`` before every write:
``command`` is the name of the :class:`okra_core.Okra` method, ``target`` the
entity it changes (for a new objective, the cycle it goes in; for a new key
result, its objective; for a new action, nothing). :data:`RULES` says, for every
command okra_core asks about, who may issue it:

- a *viewer* issues none: they read;
- a *contributor* checks in on any key result, drafts objectives and proposes
  actions, and changes what they own: the objectives, key results and actions
  whose ``owner`` is their name (and the check-ins of their key results);
- an *admin* issues every command: cycles, the playbook, subscriptions, imports,
  seals, and whatever else.

A command missing from the table (a new one) is an admin's until the table
names it: a new power is never handed to contributors by accident.
"""

from __future__ import annotations

import enum
from typing import Final

from okra_core import Entity, FieldError, ValidationError

__all__ = ["RULES", "Role", "Rule", "allowed", "parse_role"]


class Role(enum.StrEnum):
    """What a member of the team may do, from least to most."""

    VIEWER = "viewer"
    CONTRIBUTOR = "contributor"
    ADMIN = "admin"


class Rule(enum.StrEnum):
    """Which contributors may issue a command (viewers never, admins always)."""

    ANY = "any contributor"
    OWNER = "the contributor who owns the target"
    ADMIN = "admins only"


RULES: Final[dict[str, Rule]] = {
    # cycles and the whole store: admins
    "plan_cycle": Rule.ADMIN,
    "start_cycle": Rule.ADMIN,
    "close_cycle": Rule.ADMIN,
    "continue_objective": Rule.ADMIN,
    "revise_playbook": Rule.ADMIN,
    "subscribe": Rule.ADMIN,
    "unsubscribe": Rule.ADMIN,
    "import_events": Rule.ADMIN,
    "seal": Rule.ADMIN,
    # new things anyone on the team may start
    "draft_objective": Rule.ANY,
    "propose_action": Rule.ANY,
    "check_in": Rule.ANY,
    # changing what one owns
    "revise_objective": Rule.OWNER,
    "reassign_objective": Rule.OWNER,
    "activate_objective": Rule.OWNER,
    "close_objective": Rule.OWNER,
    "abandon_objective": Rule.OWNER,
    "align": Rule.OWNER,
    "unalign": Rule.OWNER,
    "add_key_result": Rule.OWNER,
    "measure_baseline": Rule.OWNER,
    "rebaseline": Rule.OWNER,
    "retarget": Rule.OWNER,
    "reweight": Rule.OWNER,
    "bind_key_result": Rule.OWNER,
    "unbind_key_result": Rule.OWNER,
    "correct_check_in": Rule.OWNER,
    "retract_check_in": Rule.OWNER,
    "place_action": Rule.OWNER,
    "resolve_action": Rule.OWNER,
    "add_task": Rule.OWNER,
    "complete_task": Rule.OWNER,
    "reopen_task": Rule.OWNER,
}
"""Who among contributors may issue each command okra_core authorizes."""


def parse_role(value: str, field: str = "role") -> Role:
    """The role named ``value``.

    Raises:
        ValidationError: naming ``field`` when it is not a role.
    """
    try:
        return Role(value.strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        message = f"expected one of {names}, got {value!r}"
        raise ValidationError([FieldError(field, message)]) from None


def allowed(role: Role | None, actor: str, command: str, target: Entity | None) -> bool:
    """Whether someone with ``role`` (None: not on the team) may issue ``command``."""
    if role is Role.ADMIN:
        return True
    if role is not Role.CONTRIBUTOR:
        return False
    rule = RULES.get(command, Rule.ADMIN)
    if rule is Rule.ANY:
        return True
    if rule is Rule.OWNER:
        owner = getattr(target, "owner", None)
        return isinstance(owner, str) and owner.strip() == actor.strip()
    return False
