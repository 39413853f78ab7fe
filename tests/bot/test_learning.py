"""Live outcomes: the precision estimate and the threshold they call for."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bot.learning import AGENT_CONFIRMED, CUSTOMER_REJECTED, Answered, Outcome, live_estimate


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


def test_tagged_escalations_wrong_above_the_threshold_raise_it() -> None:
    points = [(0.95, True)] * 30 + [(0.7, False)] * 10 + [(0.65, True)] * 5
    live = live_estimate(_outcomes(points), threshold=0.6, target=0.9, min_count=40)
    assert live.precision is not None and live.precision < 0.9
    assert live.threshold == 0.95


def _sourced(points: list[tuple[float, bool, str]]) -> list[Outcome]:
    return [
        Outcome("q", "a", confidence, correct, source) for confidence, correct, source in points
    ]


def _answered(confidences: list[float], verdicts: dict[int, str] | None = None) -> list[Answered]:
    """Answers at ``confidences``, each its own conversation; ``verdicts`` by index."""
    verdicts = verdicts or {}
    return [
        Answered(f"a{i}", "a", confidence, verdict=verdicts.get(i), id=i + 1)
        for i, confidence in enumerate(confidences)
    ]


def _rejected(confidences: list[float]) -> list[Answered]:
    return _answered(confidences, dict.fromkeys(range(len(confidences)), CUSTOMER_REJECTED))


def test_answers_rejected_above_the_threshold_do_not_silence_the_bot() -> None:
    """Only wrong answers are ever heard of: five rejections at the top, with nothing to weigh
    them against, once took the threshold to 1.0 and the live precision to 0."""
    answered = _rejected([0.9] * 4 + [0.8])
    points = [(c / 100, c >= 40, "agent_tag") for c in range(10, 64)]
    live = live_estimate(
        _sourced(points), threshold=0.64, target=0.9, min_count=50, answered=answered
    )
    assert live.rejected == 5 and live.labelled == 59
    assert (live.precision, live.samples) == (None, 0), "no tagged escalation above 0.64"
    assert live.threshold is not None and 0.37 <= live.threshold <= 0.4


def test_answers_rejected_too_often_raise_the_threshold() -> None:
    """The bot answers from 0.6, but below 0.8 it is wrong (out-of-scope traffic it did not
    expect), and customers say so for half of those: the answers it gave are what those
    rejections are weighed against, and the threshold rises until few are known to be wrong."""
    rng = random.Random(7)
    confidences = [0.6 + 0.4 * rng.random() for _ in range(400)]
    wrong = [i for i, c in enumerate(confidences) if c < 0.8 and rng.random() < 0.5]
    answered = _answered(confidences, dict.fromkeys(wrong, CUSTOMER_REJECTED))
    live = live_estimate([], threshold=0.6, target=0.9, min_count=50, answered=answered)
    assert live.answers == 400 and live.rejected == len(wrong)
    assert live.rejection_rate is not None and live.rejection_rate > 0.2
    assert live.threshold is not None and 0.72 <= live.threshold <= 0.8, live.threshold
    some = dict.fromkeys(wrong[: len(wrong) // 8], CUSTOMER_REJECTED)
    calm = live_estimate(
        [], threshold=0.6, target=0.9, min_count=50, answered=_answered(confidences, some)
    )
    assert calm.threshold is None, "a few rejections among many answers leave it"
    few = live_estimate([], threshold=0.6, target=0.9, min_count=50, answered=answered[:40])
    assert few.threshold is None, "too few answers to tell"


def test_answers_rejected_below_the_calibrated_threshold_count_against_the_answers_there() -> None:
    """Outcomes lowered the threshold to 0.5; the answers given from there are weighed too."""
    tags = [(0.5, True, "agent_tag")] * 40 + [(0.2, False, "not_in_kb")] * 20
    lowered = live_estimate(_sourced(tags), threshold=0.7, target=0.9, min_count=40)
    assert lowered.threshold == 0.5
    answered = _answered([0.5] * 60 + [0.9] * 40, dict.fromkeys(range(30), CUSTOMER_REJECTED))
    raised = live_estimate(
        _sourced(tags), threshold=0.7, target=0.9, min_count=40, answered=answered
    )
    assert raised.threshold == 0.9, "answering from 0.5 is clearly wrong too often"


def test_imprecise_guesses_below_the_threshold_say_nothing_about_answers_above_it() -> None:
    points = [(c / 100, c % 2 == 0, "agent_tag") for c in range(10, 70)]
    live = live_estimate(_sourced(points), threshold=0.7, target=0.9, min_count=40)
    assert live.threshold is None


def _calibrated_bot(seed: int) -> tuple[list[Outcome], list[Answered]]:
    rng = random.Random(seed)
    points, answered = [], []
    for _ in range(3000):
        confidence = rng.random()
        right = rng.random() < confidence
        if confidence < 0.8 or rng.random() < 0.05:
            points.append((confidence, right, "agent_tag"))
            continue
        heard = not right and rng.random() < 0.5
        verdict = CUSTOMER_REJECTED if heard else None
        answered.append(Answered(f"a{len(answered)}", "a", confidence, verdict=verdict))
    return _sourced(points), answered


def test_outcomes_of_a_calibrated_bot_call_for_its_true_threshold() -> None:
    """A bot whose confidence is the chance it is right (precision above t is (1 + t) / 2, so
    0.9 needs 0.8): agents tag every escalation and one in twenty confident answers escalated by
    a signal; customers reject half the wrong answers. Over 40 seeds the outcomes call for about
    0.8, and for silence only by the bad luck a 95 % bound allows (the old estimate: 1.0)."""
    found = []
    for seed in range(40):
        outcomes, answered = _calibrated_bot(seed)
        live = live_estimate(outcomes, threshold=0.8, target=0.9, min_count=50, answered=answered)
        found.append(live.threshold)
    assert sum(t == 1.0 for t in found) <= 2, found
    proposed = sorted(t for t in found if t is not None)
    middle = proposed[len(proposed) // 2]
    assert 0.77 <= middle <= 0.82


def test_the_escalation_after_a_rejected_answer_is_not_a_fair_sample() -> None:
    """After "that didn't help" the bot escalates with the rejected article on top; the agent's
    tag then says it was wrong, at the answer's confidence. Twelve such conversations once
    took the threshold to 1.0."""
    outcomes = [
        Outcome("q", "a", 0.9, False, "agent_tag", conversation_id=f"c{i}") for i in range(12)
    ]
    answered = [Answered(f"c{i}", "a", 0.9, verdict=CUSTOMER_REJECTED) for i in range(12)]
    outcomes += _sourced([(c / 100, c >= 40, "agent_tag") for c in range(10, 64)])
    live = live_estimate(outcomes, threshold=0.64, target=0.9, min_count=50, answered=answered)
    assert live.samples == 0 and live.rejected == 12
    assert live.threshold is not None and live.threshold < 0.64


def test_a_tag_from_before_a_judged_answer_stays_a_fair_sample() -> None:
    """An escalation tagged, handed back, and later an answer rejected: the first tag was made
    before anyone judged an answer, so it still counts; the tag after the rejection does not."""
    start = datetime(2026, 12, 1, tzinfo=UTC)
    early = Outcome("q", "a", 0.9, True, "agent_tag", "c1", at=start)
    late = Outcome("q2", "a", 0.9, False, "agent_tag", "c1", at=start + timedelta(hours=1))
    undated = Outcome("q3", "a", 0.9, False, "agent_tag", "c2")
    answered = [
        Answered("c1", "a", 0.9, at=start + timedelta(minutes=30), verdict=CUSTOMER_REJECTED),
        Answered("c2", "a", 0.9, at=start, verdict=CUSTOMER_REJECTED),
    ]
    live = live_estimate(
        [late, undated, early], threshold=0.7, target=0.9, min_count=5, answered=answered
    )
    assert (live.samples, live.precision) == (1, 1.0), "only the tag from before counts"


def test_an_escalation_tagged_twice_counts_once() -> None:
    """Outcomes come newest first: the agent's second tag of an escalation is the one kept."""
    first_tag = Outcome("my parcel", "delivery", 0.9, False, "not_in_kb", "c1")
    second_tag = Outcome("My parcel?", "delivery", 0.9, True, "agent_tag", "c1")
    rejected = [Answered(f"c{i}", "delivery", 0.8, verdict=CUSTOMER_REJECTED) for i in (2, 3)]
    live = live_estimate(
        [second_tag, first_tag], threshold=0.7, target=0.9, min_count=5, answered=rejected
    )
    assert (live.rejected, live.samples, live.precision, live.labelled) == (2, 1, 1.0, 3)


def test_an_answer_the_agent_confirmed_is_not_wrong_whatever_the_customer_said() -> None:
    """Twenty answers rejected, then an agent tagged the very article answered with: the
    answers were right (the customer wanted something else, or a person), so nothing rises."""
    confirmed = _answered([0.9] * 60, dict.fromkeys(range(20), AGENT_CONFIRMED))
    live = live_estimate([], threshold=0.7, target=0.9, min_count=50, answered=confirmed)
    assert (live.rejected, live.threshold, live.labelled) == (0, None, 20)
    rejected = _answered([0.9] * 60, dict.fromkeys(range(20), CUSTOMER_REJECTED))
    assert live_estimate([], threshold=0.7, target=0.9, min_count=50, answered=rejected).threshold


def test_the_threshold_rises_past_every_band_still_known_to_be_wrong() -> None:
    """Answers from 0.6 are clearly too often wrong; the top five (too few to test on their
    own) hold two rejections: the threshold goes past them too, to where no more than one in
    ten answers above it is known to be wrong, and to 1.0 when no such place is left."""
    confidences = [0.6] * 60 + [0.95, 0.96, 0.97, 0.98, 0.99]
    wrong = dict.fromkeys([*range(30), 61, 63], CUSTOMER_REJECTED)
    live = live_estimate(
        [], threshold=0.6, target=0.9, min_count=50, answered=_answered(confidences, wrong)
    )
    assert live.threshold == 0.99
    wrong[64] = CUSTOMER_REJECTED
    live = live_estimate(
        [], threshold=0.6, target=0.9, min_count=50, answered=_answered(confidences, wrong)
    )
    assert live.threshold == 1.0


def _reviewed(points: list[tuple[float, bool]]) -> list[Answered]:
    return [
        Answered(f"r{i}", "a", confidence, review="right" if right else "wrong")
        for i, (confidence, right) in enumerate(points)
    ]


def test_reviews_that_clearly_miss_the_target_raise_it_to_where_they_meet_it() -> None:
    """A random sample of 28 among 400 answers reviewed: wrong often below 0.85, right above
    it. The nine known wrong among 400 answers would not raise it on their own."""
    points = [(0.72, False), (0.75, True), (0.8, False), (0.82, False)] * 3
    points += [(0.9, True)] * 10 + [(0.95, True)] * 6
    unreviewed = [Answered(f"u{i}", "a", 0.7 + (i % 30) / 100) for i in range(372)]
    answered = _reviewed(points) + unreviewed
    live = live_estimate([], threshold=0.7, target=0.9, min_count=20, answered=answered)
    assert (live.reviewed, live.reviewed_right, live.answers) == (28, 19, 400)
    assert live.threshold == 0.9
    assert live.rejected == 9, "reviewed wrong answers are known to be wrong"


def test_reviews_that_may_meet_the_target_move_nothing() -> None:
    points = [(0.8, True)] * 17 + [(0.8, False)] * 3  # 0.85: its upper bound is above 0.9
    live = live_estimate([], threshold=0.7, target=0.9, min_count=20, answered=_reviewed(points))
    assert live.reviewed_precision == 0.85 and live.threshold is None


def test_sparse_reviews_raise_it_only_as_far_as_they_reach() -> None:
    """Eight reviews, half wrong: clearly short of 0.9, but above 0.75 fewer than a quarter of
    ``min_count`` remain to say more. The bot keeps answering from 0.75, where the reviews of
    its next answers can show whether it is right; it is not silenced."""
    points = [(0.55, False), (0.6, False), (0.65, False), (0.7, True)]
    points += [(0.75, True), (0.8, False), (0.85, True), (0.9, True)]
    live = live_estimate([], threshold=0.5, target=0.9, min_count=20, answered=_reviewed(points))
    assert live.threshold == 0.75
    assert (live.reviewed, live.reviewed_right) == (8, 4)


def test_a_handful_of_reviews_cannot_silence_the_bot_whatever_the_minimum() -> None:
    """With ``min_count`` 5, a quarter of it is one review: four wrong answers at the top
    confidence would have silenced the bot. Reviews need five in a band: it rises only to
    0.99, where its next answers are reviewed; a fifth wrong one there silences it."""
    unreviewed = [Answered(f"u{i}", "a", 0.6) for i in range(40)]
    points = [(0.99, False)] * 4 + [(0.8, True)] * 3
    answered = _reviewed(points) + unreviewed
    live = live_estimate([], threshold=0.5, target=0.9, min_count=5, answered=answered)
    assert live.threshold == 0.99
    answered = _reviewed(points + [(0.99, False)]) + unreviewed
    live = live_estimate([], threshold=0.5, target=0.9, min_count=5, answered=answered)
    assert live.threshold == 1.0, "five answers at the top confidence, all wrong"


def test_reviews_wrong_at_the_top_confidence_answer_nothing() -> None:
    points = [(0.99, False)] * 4 + [(0.99, True)] * 2 + [(0.8, False)] * 4
    live = live_estimate([], threshold=0.5, target=0.9, min_count=20, answered=_reviewed(points))
    assert live.threshold == 1.0


def test_reviews_raise_from_a_threshold_the_tags_lowered() -> None:
    """Tags lower the threshold to 0.5; the reviews of answers between 0.5 and 0.8 clearly
    miss the target, so it rises again to where they meet it. Every review counts in the
    reviewed precision, whatever threshold its answer was given at (some below 0.7)."""
    tags = [(0.9, True)] * 20 + [(0.5, True)] * 20 + [(0.2, False)] * 20
    points = [(0.55, False), (0.6, True), (0.65, False), (0.7, False)] * 2 + [(0.8, True)] * 6
    live = live_estimate(
        _outcomes(tags), threshold=0.7, target=0.9, min_count=20, answered=_reviewed(points)
    )
    assert live.threshold == 0.8 and (live.reviewed, live.reviewed_right) == (14, 8)


def test_a_review_outranks_any_verdict_on_its_answer() -> None:
    rejected_then_right = Answered("c", "a", 0.8, verdict=CUSTOMER_REJECTED, review="right")
    confirmed_then_wrong = Answered("c", "a", 0.8, verdict=AGENT_CONFIRMED, review="wrong")
    assert not rejected_then_right.wrong and confirmed_then_wrong.wrong
