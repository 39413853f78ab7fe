"""The core's errors::

TandemError
├── IllegalTransition      a state change the hand-off table does not allow
├── UnknownConversation    no conversation (or escalation) with that id
├── InvalidAction          an action that makes no sense now (empty text, no draft, …)
└── StoreConflict          a concurrent writer changed the conversation first
"""

from __future__ import annotations


class TandemError(Exception):
    """Base class of the core's errors."""


class IllegalTransition(TandemError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"a conversation in state '{current}' cannot move to '{target}'")
        self.current = current
        self.target = target


class UnknownConversation(TandemError):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"unknown {what} '{ident}'")


class InvalidAction(TandemError):
    """An action that cannot apply (the message says why)."""


class StoreConflict(TandemError):
    """Another writer changed the conversation between our read and our write."""
