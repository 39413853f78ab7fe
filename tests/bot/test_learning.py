"""Live outcomes: the precision estimate and the threshold they call for."""

from __future__ import annotations

from bot.learning import Outcome, live_estimate


def _outcomes(points: list[tuple[float, bool]]) -> list[Outcome]:
    return [Outcome("q", "a", confidence, correct, "agent_tag") for confidence, correct in points]


def test_too_few_outcomes_move_nothing() -> None:
    live = live_estimate(_outcomes([(0.9, True)] * 4), threshold=0.6, target=0.9, min_count=10)
    assert (live.precision, live.samples, live.labelled, live.threshold) == (1.0, 4, 4, None)


def test_right_answers_below_the_threshold_lower_it() -> None:
    points = [(0.9, True)] * 20 + [(0.5, True)] * 20 + [(0.2, False)] * 20
    live = live_estimate(_outcomes(points), threshold=0.7, target=0.9, min_count=40)
    assert live.precision == 1.0 and live.samples == 20
    assert live.threshold == 0.5, "the bot was right at 0.5 too: answer from there"


def test_wrong_answers_above_the_threshold_raise_it() -> None:
    points = [(0.95, True)] * 30 + [(0.7, False)] * 10 + [(0.65, True)] * 5
    live = live_estimate(_outcomes(points), threshold=0.6, target=0.9, min_count=40)
    assert live.precision is not None and live.precision < 0.9
    assert live.threshold == 0.95
