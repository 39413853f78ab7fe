"""Customer questions shared by the knowledge tests (written for them)."""

from __future__ import annotations

ROUTINE = [
    "How long do refunds take?",
    "How do I return an item?",
    "Can I change my order after placing it?",
    "Do you deliver on Saturdays?",
    "How do I track my order?",
    "Which payment methods do you accept?",
    "Can I pay with PayPal?",
    "How much is delivery?",
]
