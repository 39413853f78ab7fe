"""The answer confidence learned across deployments (``knowledge.answer_model``): the shipped
file, and where it decides instead of the calibrated one."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.learning import Outcome
from config import KnowledgeSettings, LearningSettings
from integrations.learning import estimate_from
from knowledge.answer_model import (
    ANSWER_FEATURES,
    MAX_ARTICLES,
    MAX_MEDIAN_VARIANTS,
    MODEL_FILE,
    AnswerModel,
)
from knowledge.base import KnowledgeBase
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings
from knowledge.store import Contents
from tests.knowledge.test_coverage import _small_faq


def test_the_shipped_model_is_a_small_file_fitted_on_these_features() -> None:
    model = AnswerModel.load()
    assert model.names == ANSWER_FEATURES
    assert 0.5 < model.threshold < 1.0
    for values in (model.mean, model.scale, model.coef):
        assert values.shape == (len(ANSWER_FEATURES),) and np.isfinite(values).all()
    assert (model.scale > 0).all()
    assert MODEL_FILE.stat().st_size < 10_000


def test_a_model_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_FILE.read_text())
    data["names"] = data["names"][:-1]
    spoilt = tmp_path / "answer_model.json"
    spoilt.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="other features"):
        AnswerModel.load(spoilt)


def _knowledge_base(
    tmp_path: Path, embeddings: MiniLMOnnxEmbeddings, **settings: object
) -> KnowledgeBase:
    knowledge = KnowledgeSettings(data_dir=tmp_path / "data", **settings)  # type: ignore[arg-type]
    knowledge_base = KnowledgeBase(settings=knowledge, embeddings=embeddings)
    assert not knowledge_base.ingest([_small_faq(tmp_path / "faq.jsonl")]).failed
    return knowledge_base


def test_a_small_knowledge_base_answers_on_the_learned_confidence(
    tmp_path: Path, embeddings: MiniLMOnnxEmbeddings
) -> None:
    knowledge_base = _knowledge_base(tmp_path, embeddings)
    model = knowledge_base.answer_model
    assert model is not None and knowledge_base.learned_confidence
    assert knowledge_base.threshold_in_force() == model.threshold
    assert knowledge_base.stats().learned_confidence
    on_topic = knowledge_base.search("how many turmeric capsules should i take a day")
    elsewhere = knowledge_base.search("turmeric side effects on the liver?")
    assert on_topic.learned and on_topic.threshold == model.threshold
    assert on_topic.best is not None and on_topic.best.article_id == "turmeric-dose"
    assert on_topic.confidence > elsewhere.confidence
    assert elsewhere.confidence < model.threshold, "a question its words do not hold"
    assert knowledge_base.base_threshold() == model.threshold


@pytest.mark.parametrize(
    "settings",
    [{"learned_confidence": "off"}, {"answer_threshold": 0.5}],
    ids=["switched off", "a pinned threshold"],
)
def test_the_calibrated_confidence_decides_when_told_to(
    tmp_path: Path, embeddings: MiniLMOnnxEmbeddings, settings: dict[str, object]
) -> None:
    knowledge_base = _knowledge_base(tmp_path, embeddings, **settings)
    assert not knowledge_base.learned_confidence
    assert not knowledge_base.search("turmeric capsules per day").learned


def test_only_knowledge_bases_like_those_it_learned_on_use_it(
    tmp_path: Path, embeddings: MiniLMOnnxEmbeddings
) -> None:
    knowledge_base = _knowledge_base(tmp_path, embeddings)

    def shaped(articles: int, variants: int) -> Contents:
        ids = [f"a{i}" for i in range(articles)]
        return Contents({}, {a: [a] for a in ids}, {a: variants for a in ids})

    assert knowledge_base.learns_confidence(shaped(40, 5))
    assert not knowledge_base.learns_confidence(shaped(MAX_ARTICLES + 1, 5)), "too many articles"
    assert not knowledge_base.learns_confidence(shaped(20, MAX_MEDIAN_VARIANTS + 1))
    assert not knowledge_base.learns_confidence(shaped(2, 5)), "too few to calibrate"


def test_a_knowledge_base_with_many_variants_keeps_calibration(sample_kb: KnowledgeBase) -> None:
    assert not sample_kb.learned_confidence, "a dozen question variants an article"
    assert not sample_kb.search("how long do refunds take").learned


def test_a_change_of_scale_is_kept_and_outcomes_from_before_it_are_not_read(
    tmp_path: Path, embeddings: MiniLMOnnxEmbeddings
) -> None:
    """Live outcomes carry the confidence they were decided at: one decided on the calibrated
    scale says nothing about a threshold on the learned one, or the other way round."""
    learned = _knowledge_base(tmp_path, embeddings)
    since = learned.scale_since
    assert learned.learned_confidence and since is not None, "a new deployment took it up now"
    data = tmp_path / "data"
    again = KnowledgeBase(settings=KnowledgeSettings(data_dir=data), embeddings=embeddings)
    assert again.learned_confidence and again.scale_since == since, "a restart keeps both"
    off = KnowledgeSettings(data_dir=data, learned_confidence="off")
    calibrated = KnowledgeBase(settings=off, embeddings=embeddings)
    changed = calibrated.scale_since
    assert not calibrated.learned_confidence and changed is not None and changed > since

    def tag(at: datetime) -> Outcome:
        return Outcome("how do returns work", "returns", 0.9, True, "agent_tag", "c1", at)

    before, after = tag(changed - timedelta(seconds=1)), tag(changed + timedelta(seconds=1))
    read = estimate_from([after, before], [], calibrated, LearningSettings())
    assert read.labelled == 1, "only the outcome decided since the change"
