"""Follow the out-of-scope share of live traffic, and never answer as if it were lower.

Calibration picks the threshold for an expected out-of-scope share (settings; 0.5 by default).
Real traffic of live bots ran 42–72 % out of scope, and at a share above the one calibrated
for, the bot answers wrongly more often than it promises. This module keeps the confidences of
the latest customer questions the bot decided on confidence alone (in the bot's hands, no
signal sending them to a person) and reads from them the share their answer rate implies
(``calibration.out_of_scope_share``).

The share is unlabelled evidence, so it is acted on with care:

* only its lower confidence bound counts (one-sided 95 %, from the answer rate's Wilson
  bound), so a window of traffic at the expected share does not raise the threshold by chance;
* only where calibration's in-scope and out-of-scope probes are answered at rates at least
  ``ACT_SEPARATION`` apart (closer, a small change in the rate is a large change in share);
* the threshold it asks for is the one calibration found for that share, capped at the share
  ``MAX_SHARE`` and never 1.0: silencing the bot is left to labelled evidence (live outcomes);
* it never lowers the calibrated threshold: an estimate that errs low costs nothing; one that
  errs high costs deflection, not precision.

Each question is noted in the store with the turn that decided it (``bot.learning.NotedQuestion``),
and every replica replaces its window with the latest ``WINDOW`` noted by all of them, at start
and every ``live_refresh_seconds`` (``integrations.learning.share_traffic``): replicas read one
share, and a restart does not start from the expected share again. Between two such reads a
replica adds its own questions. Only questions noted under a calibrated threshold within
``REFIT_TOLERANCE`` of the current one are read (confidences of an old model do not read against
a new one), and a refit that moves the threshold further empties the window. Live outcomes, when
they set a threshold, are labelled evidence and take precedence, as a pinned threshold does.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.learning import wilson_upper
from knowledge.calibration import (
    ConfidenceModel,
    acceptance_at,
    out_of_scope_share,
    threshold_for_share,
)

WINDOW = 1000  # the latest questions read
READ_EVERY = 25  # questions between two readings of the window
Z_ONE_SIDED_95 = 1.645
ACT_SEPARATION = 0.2
MAX_SHARE = 0.9
THRESHOLD_STEP = 0.005  # a raise smaller than this is no raise
REFIT_TOLERANCE = 0.02


@dataclass(frozen=True)
class TrafficReading:
    """What the window shows.

    Attributes:
        questions: Questions in the window.
        out_of_scope_share: The share their answer rate implies (None: too few, or the model
            cannot tell).
        raised_threshold: The threshold the share's lower bound calls for, when above the
            calibrated one (None: the calibrated threshold stands).
    """

    questions: int
    out_of_scope_share: float | None
    raised_threshold: float | None


class TrafficShare:
    """A sliding window of the confidences of questions decided on confidence.

    Args:
        min_questions: Questions needed before the window is read.
        window: Questions kept.
    """

    def __init__(self, min_questions: int, window: int = WINDOW) -> None:
        self.min_questions = min_questions
        self._confidences: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()
        self._since_reading = 0

    def __len__(self) -> int:
        return len(self._confidences)

    def clear(self) -> None:
        """Forget every confidence (after a refit that moved the calibrated threshold)."""
        with self._lock:
            self._confidences.clear()
            self._since_reading = 0

    def replace(self, confidences: Sequence[float]) -> None:
        """Hold ``confidences`` (oldest first; the newest ``window`` kept) instead: the window
        every replica shares, read from the store."""
        kept = [c for c in confidences if math.isfinite(c)]
        with self._lock:
            self._confidences.clear()
            self._confidences.extend(kept)
            self._since_reading = 0

    def add(self, confidence: float) -> bool:
        """Keep one question's confidence; True when the window is due to be read again."""
        if not math.isfinite(confidence):
            return False
        with self._lock:
            self._confidences.append(confidence)
            self._since_reading += 1
            due = self._since_reading >= READ_EVERY
            if due:
                self._since_reading = 0
        return due

    def read(self, model: ConfidenceModel) -> TrafficReading:
        """The share the window implies at the calibrated threshold, and the threshold its
        lower bound calls for."""
        with self._lock:
            confidences = np.fromiter(self._confidences, dtype=np.float64)
        count = len(confidences)
        if count < self.min_questions or not model.calibrated:
            return TrafficReading(count, None, None)
        rate = float(np.mean(confidences >= model.threshold))
        share = out_of_scope_share(model, model.threshold, rate)
        return TrafficReading(count, share, raised_threshold(model, rate, count))


def raised_threshold(model: ConfidenceModel, rate: float, count: int) -> float | None:
    """The threshold ``count`` questions answered at ``rate`` (at the calibrated threshold)
    call for, when above the calibrated one (None: it stands)."""
    rates = acceptance_at(model, model.threshold)
    if rates is None or rates[0] - rates[1] < ACT_SEPARATION or count <= 0:
        return None
    # The highest answer rate the window is consistent with gives the lowest share.
    highest = min(1.0, wilson_upper(round(rate * count), count, Z_ONE_SIDED_95))
    lowest_share = out_of_scope_share(model, model.threshold, highest)
    if lowest_share is None or lowest_share <= model.out_of_scope_share:
        return None
    # Where no threshold meets the target (the curve's 1.0), the last share where one does.
    curve = model.share_thresholds
    shares, thresholds = curve.get("share", []), curve.get("threshold", [])
    reachable = [s for s, t in zip(shares, thresholds, strict=True) if t < 1.0]
    if not reachable:
        return None
    needed = threshold_for_share(model, min(lowest_share, MAX_SHARE, reachable[-1]))
    if needed is None or needed <= model.threshold + THRESHOLD_STEP:
        return None
    return needed
