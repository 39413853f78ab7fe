"""Train the model of frustration over a conversation (``bot/conversation_frustration.py``) and
print its leave-one-set-out figures beside the rules'.

Usage: python bench/frustration_model.py [--write]

Data: the written support conversations ``bench/conversations.jsonl`` and ``_b`` to ``_i``
(nine sets of 80, each half frustrated at its latest message; not the later sets). Only the
conversations with earlier turns are used: a first message is read by the frustration head
alone. Each conversation is read through the product's own code (the shipped heads over the
query embedding, ``turn_signals`` and ``conversation_features``); the label is the set's.

Method: a logistic regression (L2, ``C``) over standardised features. The threshold is the one
with the best F1 whose precision reaches ``TARGET_PRECISION`` over out-of-fold scores (leave one
set out). The figures printed are nested: for each set, a model and a threshold fitted on the
other sets only, then read on it. The rules (``bot.signals.over_conversation``) are read on the
same conversations; they were written while reading these sets, so their figures are in-sample.
The product reads a latest message that settles the matter (``settled``) on its own, and
otherwise flags a conversation when the model's level reaches 0.5 or when a run of mildly
negative turns adds up (``run_of_negative_turns``); both columns are read that way.
``--write`` fits on all nine sets and writes ``knowledge/heads/conversation_frustration.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.progress import track
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
# The model learns the product's defaults, whatever this shell's TANDEM_* settings say.
for name in [n for n in os.environ if n.startswith("TANDEM_")]:
    del os.environ[name]

from heads_reader import temporary_reader  # noqa: E402

from bot.conversation_frustration import FEATURES, conversation_features  # noqa: E402
from bot.policy import EARLIER_TURNS, turn_signals  # noqa: E402
from bot.signals import over_conversation, run_of_negative_turns, settled  # noqa: E402
from config import load_settings  # noqa: E402
from integrations.composition import policy_config  # noqa: E402
from knowledge.heads.reader import CONVERSATION_FILE, heads_fingerprint  # noqa: E402

# The nine sets read before this model; ``conversations_j`` was its held-out read (model card).
SETS = (ROOT / "conversations.jsonl", *(ROOT / f"conversations_{c}.jsonl" for c in "bcdefghi"))
TARGET_PRECISION = 0.9
C = 0.3
Array = npt.NDArray[np.float64]
Labels = npt.NDArray[np.bool_]


def extract() -> tuple[Array, Labels, npt.NDArray[np.int_], Array, Labels, Labels]:
    """Features, labels, set index, the rules' level, whether a run of mildly negative turns
    flags it, and whether its latest message settles it (``settled``), for every conversation
    with earlier turns."""
    settings = load_settings(env_file=None)
    rows: list[list[float]] = []
    labels: list[bool] = []
    groups: list[int] = []
    rules: list[float] = []
    runs: list[bool] = []
    settles: list[bool] = []
    with temporary_reader(settings, "frustration") as (_, reader):
        if not reader.has_heads:
            raise SystemExit("the signal heads did not load: the model reads their levels")
        config = policy_config(settings, reader)
        cases = [
            (group, json.loads(line))
            for group, path in enumerate(SETS)
            for line in path.read_text().splitlines()
            if line.strip()
        ]
        for group, case in track(cases, description="reading conversations"):
            if not case["turns"]:
                continue
            turns = [*case["turns"][-EARLIER_TURNS:], case["text"]]
            readings = reader.read(turns)
            signals = turn_signals(turns, config, readings)
            rows.append(conversation_features(turns, signals, readings[-1]))
            rules.append(
                over_conversation(signals[-1], turns, signals[:-1], readings[-1].echo).frustration
            )
            levels = [s.frustration for s in signals]
            runs.append(run_of_negative_turns(turns, levels) >= 0.5)
            settles.append(settled(case["text"], signals[-1], readings[-1]))
            labels.append(bool(case["frustrated"]))
            groups.append(group)
    return (
        np.array(rows),
        np.array(labels),
        np.array(groups),
        np.array(rules),
        np.array(runs),
        np.array(settles),
    )


def scored(x: Array, y: Labels, x_new: Array) -> tuple[Array, LogisticRegression, Array, Array]:
    """Fit on ``x`` and score ``x_new``; also the model and its standardisation."""
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=2000).fit((x - means) / scales, y)
    return model.predict_proba((x_new - means) / scales)[:, 1], model, means, scales


def out_of_fold(x: Array, y: Labels, groups: npt.NDArray[np.int_]) -> Array:
    """Each conversation's score from a model fitted on the other sets."""
    scores = np.zeros(len(y))
    for group in np.unique(groups):
        held = groups == group
        scores[held] = scored(x[~held], y[~held], x[held])[0]
    return scores


def counts(flagged: Labels, y: Labels) -> tuple[float, float, float]:
    """Precision, recall and F1."""
    hits = float((flagged & y).sum())
    precision = hits / max(1, int(flagged.sum()))
    recall = hits / max(1, int(y.sum()))
    return precision, recall, 2 * precision * recall / max(1e-9, precision + recall)


def threshold_for(scores: Array, y: Labels) -> float:
    """The threshold with the best F1 whose precision reaches ``TARGET_PRECISION`` (0.5, with
    a warning, when none does)."""
    best, chosen = -1.0, 0.5
    for threshold in np.arange(0.2, 0.9, 0.01):
        precision, _, f1 = counts(scores >= threshold, y)
        if precision >= TARGET_PRECISION and f1 > best:
            best, chosen = f1, float(threshold)
    if best < 0:
        print(f"warning: no threshold reaches precision {TARGET_PRECISION}; using 0.5")
    return chosen


def report(
    x: Array,
    y: Labels,
    groups: npt.NDArray[np.int_],
    rules: Array,
    runs: Labels,
    settles: Labels,
) -> None:
    """Nested leave-one-set-out figures beside the rules'. Both are read as the product reads
    them: a settling latest message is read on its own (never flagged: it reads calm), else the
    model at its threshold or a run of mildly negative turns (the rules at 0.5)."""
    flagged = np.zeros(len(y), dtype=bool)
    print(f"{'held-out set':<26}{'n':>4}{'rules p / r':>14}{'learned p / r':>16}{'threshold':>11}")
    for group in np.unique(groups):
        held = groups == group
        threshold = threshold_for(out_of_fold(x[~held], y[~held], groups[~held]), y[~held])
        learned = (scored(x[~held], y[~held], x[held])[0] >= threshold) | runs[held]
        flagged[held] = learned & ~settles[held]
        rule_p, rule_r, _ = counts((rules[held] >= 0.5) & ~settles[held], y[held])
        p, r, _ = counts(flagged[held], y[held])
        print(
            f"{SETS[group].name:<26}{int(held.sum()):>4}{rule_p:>8.3f} / {rule_r:.3f}"
            f"{p:>10.3f} / {r:.3f}{threshold:>11.2f}"
        )
    rule_p, rule_r, rule_f = counts((rules >= 0.5) & ~settles, y)
    p, r, f = counts(flagged, y)
    print(f"{'all (pooled)':<26}{len(y):>4}{rule_p:>8.3f} / {rule_r:.3f}{p:>10.3f} / {r:.3f}")
    print(f"F1: rules {rule_f:.3f} (in-sample), learned {f:.3f} (leave one set out)")


def write(x: Array, y: Labels, groups: npt.NDArray[np.int_]) -> None:
    """Fit on every set and write the shipped file, naming the heads it read."""
    threshold = threshold_for(out_of_fold(x, y, groups), y)
    _, model, means, scales = scored(x, y, x[:1])
    data = {
        "heads": heads_fingerprint(),
        "features": list(FEATURES),
        "means": [round(float(v), 6) for v in means],
        "scales": [round(float(v), 6) for v in scales],
        "weights": [round(float(v), 6) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "threshold": round(threshold, 2),
        "trained_on": [path.name for path in SETS],
        "conversations": len(y),
        "C": C,
    }
    CONVERSATION_FILE.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {CONVERSATION_FILE} (threshold {threshold:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="Write the shipped model file.")
    args = parser.parse_args()
    x, y, groups, rules, runs, settles = extract()
    report(x, y, groups, rules, runs, settles)
    print(
        f"a settling latest message (read on its own): {int(settles.sum())} of {len(y)}"
        f" conversations, {int((settles & y).sum())} of them frustrated"
    )
    if args.write:
        write(x, y, groups)


if __name__ == "__main__":
    main()
