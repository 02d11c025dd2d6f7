"""The fusion policy: which factors together authorise an operator.

A policy is a boolean expression over factor names with AND, OR and parentheses (AND binds
tighter), e.g. `face AND liveness AND (voiceprint OR challenge)`. It is parsed by a small
recursive-descent parser into a tree (no eval); evaluating it on the factors' results gives the
decision and, for every factor, what it contributed.
"""
from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Callable, Mapping, Union

FACTORS = ('face', 'liveness', 'voiceprint', 'challenge')
_TOKEN = re.compile(r'\s*(?:(\()|(\))|([A-Za-z_][A-Za-z0-9_]*))')


class PolicyError(ValueError):
    """The policy text is not a valid expression over the known factors."""


@dataclass(frozen=True)
class FactorResult:
    """One factor's verdict: passed or not, its score (if any) and why."""

    passed: bool
    reason: str
    score: float | None = None


@dataclass(frozen=True)
class Factor:
    """A leaf of the policy: one factor by name."""

    name: str


@dataclass(frozen=True)
class AllOf:
    """Every term must pass (AND)."""

    terms: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    """At least one term must pass (OR)."""

    terms: tuple[Node, ...]


Node = Union[Factor, AllOf, AnyOf]


@dataclass(frozen=True)
class Decision:
    """The policy's verdict: authorised or not, why, and each factor's part in it.

    contributions[name] = {'status': passed | failed | missing, 'score', 'reason'} for every
    factor the policy names.
    """

    authorised: bool
    reason: str
    contributions: dict[str, dict]


class Policy:
    """A parsed fusion policy."""

    def __init__(self, text: str, factors: tuple[str, ...] = FACTORS) -> None:
        self.text = text.strip()
        self._known = factors
        self._tokens = _tokenise(self.text)
        self._position = 0
        self.tree = self._expression()
        if self._position != len(self._tokens):
            raise PolicyError(f"policy '{self.text}': unexpected '{self._tokens[self._position]}'")
        del self._tokens

    @property
    def factors(self) -> tuple[str, ...]:
        """The factor names the policy uses, in order of first appearance."""
        seen: list[str] = []

        def walk(node: Node) -> None:
            if isinstance(node, Factor):
                if node.name not in seen:
                    seen.append(node.name)
            else:
                for term in node.terms:
                    walk(term)
        walk(self.tree)
        return tuple(seen)

    def decide(self, results: Mapping[str, FactorResult]) -> Decision:
        """Evaluate on the factors' results; a factor without a result fails ('missing')."""
        contributions = {}
        for name in self.factors:
            result = results.get(name)
            contributions[name] = (
                {'status': 'missing', 'score': None, 'reason': 'no evidence yet'} if result is None
                else {'status': 'passed' if result.passed else 'failed', 'score': result.score,
                      'reason': result.reason})
        authorised, reason = _evaluate(self.tree, contributions)
        return Decision(authorised, reason, contributions)

    # --- recursive descent: expression := term (OR term)*; term := atom (AND atom)* --------------
    def _peek(self) -> str | None:
        return self._tokens[self._position] if self._position < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise PolicyError(f"policy '{self.text}' ends early")
        self._position += 1
        return token

    def _expression(self) -> Node:
        return self._chain('OR', self._term, AnyOf)

    def _term(self) -> Node:
        return self._chain('AND', self._atom, AllOf)

    def _chain(self, keyword: str, operand: Callable[[], Node], node_type: type) -> Node:
        """Parse `operand (keyword operand)*`: one operand alone, else node_type of all."""
        parts = [operand()]
        while (self._peek() or '').upper() == keyword:
            self._take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else node_type(tuple(parts))

    def _atom(self) -> Node:
        token = self._take()
        if token == '(':
            node = self._expression()
            if self._take() != ')':
                raise PolicyError(f"policy '{self.text}': missing ')'")
            return node
        name = token.lower()
        if token == ')' or name in ('and', 'or'):
            raise PolicyError(f"policy '{self.text}': expected a factor, got '{token}'")
        if name not in self._known:
            raise PolicyError(f"policy '{self.text}': unknown factor '{token}' "
                              f"(known: {', '.join(self._known)})")
        return Factor(name)


def _tokenise(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == '':
            break
        match = _TOKEN.match(text, position)
        if not match:
            bad = text[position:].strip()[0]
            raise PolicyError(f"policy '{text}': unexpected character '{bad}'")
        tokens.append(match.group(match.lastindex))
        position = match.end()
    if not tokens:
        raise PolicyError('policy is empty')
    return tokens


def _evaluate(node: Node, contributions: dict[str, dict]) -> tuple[bool, str]:
    """(passed, reason) of a node.

    The reason names the first failing factor of a failed AND, or every alternative of a failed OR.
    """
    if isinstance(node, Factor):
        entry = contributions[node.name]
        return entry['status'] == 'passed', f"{node.name}: {entry['reason']}"
    outcomes = [_evaluate(term, contributions) for term in node.terms]
    if isinstance(node, AllOf):
        failed = [reason for passed, reason in outcomes if not passed]
        return (False, failed[0]) if failed else (True, 'all of: ' + '; '.join(
            reason for _, reason in outcomes))
    passing = [reason for passed, reason in outcomes if passed]
    return (True, passing[0]) if passing else (False, 'none of: ' + ' | '.join(
        reason for _, reason in outcomes))
