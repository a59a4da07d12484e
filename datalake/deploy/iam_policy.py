"""IAM policy evaluation for identity policies: statements, the requests they answer, the verdict.

A small, strict subset of IAM's evaluation logic, enough to check a role's inline policies against
the requests its code makes (:mod:`datalake.deploy.iam_check`):

- ``Action`` and ``Resource`` patterns with ``*`` and ``?`` (actions case-insensitive, resource
  ARNs case-sensitive, a ``*`` spanning ``/`` and ``:``, as IAM matches them);
- an explicit ``Deny`` beats any ``Allow``; nothing allowed means denied;
- ``Condition`` blocks with the string, ARN, ``Bool`` and ``Null`` operators (and their
  ``...IfExists`` forms): operators are ANDed, keys are ANDed, a key's values are ORed; a key the
  request does not carry fails a positive operator and passes a negated one.

What it cannot judge it refuses (:class:`UnsupportedPolicyError`) instead of guessing:
``NotAction``, ``NotResource``, ``Principal``, policy variables (``${aws:username}``), set
operators (``ForAnyValue:``/``ForAllValues:``) and any other condition operator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from datalake.errors import ConfigurationError

#: Condition operators this evaluator understands (without ``IfExists``), by how they compare.
_STRING_OPERATORS = {
    "StringEquals": ("equals", False),
    "StringNotEquals": ("equals", True),
    "StringEqualsIgnoreCase": ("equals_ignore_case", False),
    "StringNotEqualsIgnoreCase": ("equals_ignore_case", True),
    "StringLike": ("like", False),
    "StringNotLike": ("like", True),
    "ArnEquals": ("like", False),
    "ArnLike": ("like", False),
    "ArnNotEquals": ("like", True),
    "ArnNotLike": ("like", True),
    "Bool": ("bool", False),
}


class UnsupportedPolicyError(ConfigurationError):
    """A policy element this evaluator cannot judge; the check stops rather than guess."""


@dataclass(frozen=True)
class Request:
    """One authorization that a call needs: an action on a resource, with its condition keys.

    Attributes
    ----------
    action
        ``service:Action`` as IAM names it (``s3:GetObject``), never the API operation name.
    resource
        The resource ARN, or ``*`` for actions without resource-level permissions.
    context
        Condition keys the request carries (``s3:prefix``...); keys compare case-insensitively.
    why
        Where the request comes from (the API call, or the platform acting with the role).
    """

    action: str
    resource: str
    context: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    why: str = ""

    def context_values(self, key: str) -> tuple[str, ...] | None:
        """The request's values of a condition key (None when the request does not carry it)."""
        for name, value in self.context.items():
            if name.lower() == key.lower():
                return (value,) if isinstance(value, str) else tuple(value)
        return None


@dataclass(frozen=True)
class Statement:
    """One policy statement, its intrinsic functions already rendered to strings.

    Attributes
    ----------
    sid
        The statement's ``Sid`` (or ``#<index>`` when it has none), used to name it in reports.
    effect
        ``Allow`` or ``Deny``.
    actions, resources
        The ``Action`` and ``Resource`` patterns.
    conditions
        ``{operator: {key: (values...)}}``.
    """

    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, document: Mapping[str, Any], index: int, where: str) -> Statement:
        """A statement from its JSON form, refusing what this evaluator cannot judge.

        Parameters
        ----------
        document
            The statement, every value already a string or a list of strings.
        index
            Its position in the policy (names it when it has no ``Sid``).
        where
            The role and policy, for error messages.

        Raises
        ------
        UnsupportedPolicyError
            For ``NotAction``, ``NotResource``, ``Principal``, policy variables or an unknown
            condition operator.
        """
        sid = str(document.get("Sid") or f"#{index}")
        name = f"{where} statement {sid}"
        for element in ("NotAction", "NotResource", "Principal", "NotPrincipal"):
            if element in document:
                raise UnsupportedPolicyError(f"{name}: {element} is not supported by the IAM check")
        effect = document.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise UnsupportedPolicyError(f"{name}: Effect must be Allow or Deny, not {effect!r}")
        actions = _strings(document.get("Action"), f"{name} Action")
        resources = _strings(document.get("Resource"), f"{name} Resource")
        for pattern in resources:
            if "${" in pattern:
                raise UnsupportedPolicyError(f"{name}: policy variable in Resource {pattern!r}")
        conditions: dict[str, dict[str, tuple[str, ...]]] = {}
        for operator, keys in (document.get("Condition") or {}).items():
            _operator_parts(operator, name)  # refuses unknown operators now, not at evaluation
            conditions[operator] = {
                key: _strings(values, f"{name} Condition {operator} {key}") for key, values in keys.items()
            }
        return cls(sid, effect, actions, resources, conditions)

    def matches(self, request: Request) -> bool:
        """Whether the statement applies to the request (action, resource and conditions)."""
        return (
            any(action_matches(pattern, request.action) for pattern in self.actions)
            and any(resource_matches(pattern, request.resource) for pattern in self.resources)
            and conditions_hold(self.conditions, request, self.sid)
        )


@dataclass(frozen=True)
class Decision:
    """The verdict on one request: allowed or not, by which statements, and why not."""

    allowed: bool
    allowed_by: tuple[str, ...] = ()
    denied_by: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """One line: which statements allow it, deny it, or that none applies."""
        if self.denied_by:
            return f"explicitly denied by {', '.join(self.denied_by)}"
        if self.allowed:
            return f"allowed by {', '.join(self.allowed_by)}"
        return "no statement allows it (implicit deny)"


@dataclass(frozen=True)
class Policy:
    """The statements of one principal (every inline policy of a role, together)."""

    name: str
    statements: tuple[Statement, ...]

    @classmethod
    def parse(cls, name: str, documents: Iterable[Mapping[str, Any]]) -> Policy:
        """A policy from rendered policy documents (``{"Version", "Statement"}``).

        Raises
        ------
        UnsupportedPolicyError
            As :meth:`Statement.parse`.
        """
        statements: list[Statement] = []
        for document in documents:
            raw = document.get("Statement", [])
            for item in raw if isinstance(raw, list) else [raw]:
                statements.append(Statement.parse(item, len(statements), name))
        return cls(name, tuple(statements))

    def decide(self, request: Request) -> Decision:
        """IAM's verdict for one request under these statements alone.

        Parameters
        ----------
        request
            The action, resource and condition keys of the call.

        Returns
        -------
        Decision
            Allowed when an ``Allow`` statement matches and no ``Deny`` statement does.
        """
        matching = [s for s in self.statements if s.matches(request)]
        denied = tuple(s.sid for s in matching if s.effect == "Deny")
        allowed = tuple(s.sid for s in matching if s.effect == "Allow")
        return Decision(bool(allowed) and not denied, allowed, denied)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str | bool) for v in values):
        raise UnsupportedPolicyError(f"{where}: expected a string or a list of strings, got {value!r}")
    return tuple(str(v).lower() if isinstance(v, bool) else v for v in values)


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcard match: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def action_matches(pattern: str, action: str) -> bool:
    """Whether an ``Action`` pattern covers an action (case-insensitive, as IAM compares them).

    Parameters
    ----------
    pattern
        ``s3:GetObject``, ``s3:Get*``, ``*``.
    action
        ``service:Action``.
    """
    return bool(_glob(pattern, True).match(action))


def resource_matches(pattern: str, resource: str) -> bool:
    """Whether a ``Resource`` pattern covers a resource ARN (case-sensitive).

    A request for ``*`` (an action without resource-level permissions) is covered only by a
    pattern that is ``*`` itself.
    """
    if resource == "*":
        return pattern == "*"
    return bool(_glob(pattern, False).match(resource))


def _operator_parts(operator: str, where: str) -> tuple[str, bool, bool]:
    """(comparison, negated, if_exists) of a condition operator; refuses what is not supported."""
    if ":" in operator:
        raise UnsupportedPolicyError(f"{where}: set operator {operator!r} is not supported by the IAM check")
    base = operator.removesuffix("IfExists")
    if base == "Null":
        if operator != "Null":
            raise UnsupportedPolicyError(f"{where}: {operator!r} is not a condition operator")
        return "null", False, False
    if base not in _STRING_OPERATORS:
        raise UnsupportedPolicyError(
            f"{where}: condition operator {operator!r} is not supported by the IAM check"
        )
    comparison, negated = _STRING_OPERATORS[base]
    return comparison, negated, operator != base


def _compare(comparison: str, expected: str, actual: str) -> bool:
    if comparison == "equals":
        return expected == actual
    if comparison == "equals_ignore_case":
        return expected.lower() == actual.lower()
    if comparison == "bool":
        return expected.lower() == actual.lower()
    return bool(_glob(expected, False).match(actual))  # like (and ARN patterns)


def conditions_hold(
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]], request: Request, where: str = ""
) -> bool:
    """Whether every condition of a statement holds for a request.

    Parameters
    ----------
    conditions
        ``{operator: {key: (values...)}}`` of one statement.
    request
        Its ``context`` holds the condition keys the request carries.
    where
        Names the statement in errors.

    Returns
    -------
    bool
        True when every operator holds: for a positive operator some request value matches some
        policy value; for a negated one no request value matches any; a missing key fails a
        positive operator, passes a negated one, and passes any ``...IfExists``.

    Raises
    ------
    UnsupportedPolicyError
        For an operator this evaluator does not support.
    """
    for operator, keys in conditions.items():
        comparison, negated, if_exists = _operator_parts(operator, where)
        for key, expected in keys.items():
            actual = request.context_values(key)
            if comparison == "null":
                if (actual is None) != (expected[0].lower() == "true"):
                    return False
                continue
            if actual is None:
                if if_exists or negated:
                    continue
                return False
            matched = any(_compare(comparison, e, a) for e in expected for a in actual)
            if matched == negated:
                return False
    return True
