"""Follow the out-of-scope share of live traffic, and never answer as if it were lower.

Calibration picks the threshold for an expected out-of-scope share (settings; 0.5 by default).
Real traffic of live bots ran 42–72 % out of scope, and at a share above the one calibrated
for the bot answers wrongly more often than it promises. This module keeps the confidences of
the latest questions the bot decided on confidence alone (no signal sent them to a person) and
reads from them the share their answer rate implies (``calibration.out_of_scope_share``). When
that share is above the expected one, the threshold becomes the one calibration found for it
(``calibration.threshold_for_share``); it never goes below the calibrated threshold, so an
estimate that errs low costs nothing.

The window lives in the process: each replica reads its own share of the traffic, and a
restart starts from the expected share again until ``min_questions`` have been seen. It
outlives a refit (the share it shows changes slowly; the latest 1,000 questions replace it).
Live outcomes, when they set a threshold, are labelled evidence and take precedence.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from knowledge.calibration import ConfidenceModel, out_of_scope_share, threshold_for_share

WINDOW = 1000  # the latest questions read
REFRESH_EVERY = 25  # questions between two readings of the window


@dataclass(frozen=True)
class TrafficReading:
    """What the window shows.

    Attributes:
        questions: Questions in the window.
        out_of_scope_share: The share their answer rate implies (None: too few, or the model
            cannot tell).
        threshold: The threshold that share calls for when it is above the expected one (None:
            the calibrated threshold stands).
    """

    questions: int
    out_of_scope_share: float | None
    threshold: float | None


class TrafficShare:
    """A sliding window of the confidences of questions decided on confidence.

    Args:
        min_questions: Questions needed before the window moves the threshold.
        window: Questions kept.
    """

    def __init__(self, min_questions: int, window: int = WINDOW) -> None:
        self.min_questions = min_questions
        self._confidences: deque[float] = deque(maxlen=window)
        self._lock = threading.Lock()
        self._since_reading = 0

    def observe(self, confidence: float) -> bool:
        """Keep one question's confidence; True when the window is due to be read again."""
        with self._lock:
            self._confidences.append(confidence)
            self._since_reading += 1
            due = self._since_reading >= REFRESH_EVERY
            if due:
                self._since_reading = 0
        return due

    def clear(self) -> None:
        with self._lock:
            self._confidences.clear()
            self._since_reading = 0

    def read(self, model: ConfidenceModel) -> TrafficReading:
        """The share the window implies at the calibrated threshold, and the threshold it
        calls for."""
        with self._lock:
            confidences = np.fromiter(self._confidences, dtype=np.float64)
        count = len(confidences)
        if count < self.min_questions or not model.calibrated:
            return TrafficReading(count, None, None)
        answer_rate = float(np.mean(confidences >= model.threshold))
        share = out_of_scope_share(model, model.threshold, answer_rate)
        if share is None or share <= model.out_of_scope_share:
            return TrafficReading(count, share, None)
        raised = threshold_for_share(model, share)
        if raised is None or raised <= model.threshold:
            return TrafficReading(count, share, None)
        return TrafficReading(count, share, raised)
