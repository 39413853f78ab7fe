"""The shipped signal heads on the real embedding model, on messages written for these tests
(none of them is in the training data), read through the same policy live traffic uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.calm_words import calm_rest, solved_rest
from bot.conversation_frustration import conversation_features
from bot.model import ArticleMatch, EscalationReason, Retrieval
from bot.policy import PolicyConfig, Responder, turn_signals
from bot.signals import MILD, SOLVED_REST_CALM, level, over_conversation, run_of_negative_turns
from config.settings import NOT_TOPIC_NAMES, Settings
from integrations.composition import policy_config
from knowledge.embeddings.cache import CachedEmbeddings
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings
from knowledge.heads.lexical import LexicalHead, buckets, ngrams
from knowledge.heads.model import TOPIC_NAMES, HiddenLayer, SignalHeads
from knowledge.heads.reader import HeadReader, load_conversation_frustration, load_heads


class ConfidentRetriever:
    """A knowledge base that is always sure: only the signals can make the bot escalate."""

    def search(self, text: str, *, limit: int = 3) -> Retrieval:
        match = ArticleMatch("hours", "Opening hours", None, "faq", 0.9, ("9 to 5.",))
        return Retrieval(text, (match,), 0.99, 0.5, 0.5)


@pytest.fixture(scope="module")
def reader(embeddings: MiniLMOnnxEmbeddings) -> HeadReader:
    heads = load_heads(embeddings.name)
    assert heads is not None, "the shipped heads fit the default embedding model"
    return HeadReader(
        embed=CachedEmbeddings(embeddings).embed,
        heads=heads,
        topic_examples={
            "bereavement": [
                "my husband passed away",
                "my mother died last week",
                "there has been a death in the family",
                "my father passed away recently",
            ]
        },
    )


@pytest.fixture(scope="module")
def responder(reader: HeadReader) -> Responder:
    config = PolicyConfig(
        learned_topics=reader.topics,
        conversation_frustration=load_conversation_frustration(heads=reader.heads),
    )
    return Responder(retriever=ConfidentRetriever(), config=config, reader=reader)


def reasons(responder: Responder, text: str, earlier: tuple[str, ...] = ()) -> set[str]:
    return {r.value for r in responder.respond(text, earlier).reasons}


@pytest.mark.parametrize(
    "text",
    [
        "Would somebody on your team be able to look into this for me?",
        "Can a person look at LK-483920 please?",
        "I'd prefer to deal with one of your staff rather than an automated system",
        "please could i have a callback from someone in customer services",
        "could someone from your team ring me back about my account",
        "please put me through to your billing department",
        "can you pass me on to the support team",
    ],
)
def test_requests_for_a_person_including_polite_ones(responder: Responder, text: str) -> None:
    assert EscalationReason.HUMAN_REQUEST.value in reasons(responder, text)


@pytest.mark.parametrize(
    "text",
    [
        "Honestly this is shocking, three weeks and not a single reply from you",
        "The courier threw my parcel over the fence and broke the vase, I'm livid",
        "I'M SO FED UP WITH THIS, WHERE IS MY REFUND",
        "What a joke. Nobody has bothered to reply to me in a fortnight",
        "Absolutely pathetic, I've been waiting since March for a simple answer",
    ],
)
def test_frustration_in_new_words(responder: Responder, text: str) -> None:
    assert reasons(responder, text) & {"frustration", "complaint"}


@pytest.mark.parametrize(
    "text",
    [
        "I'm not angry, just asking what time you open on Saturday",
        "Not upset at all, I just wondered whether the sale includes sofas",
        "No complaints here, can I add a cushion to the same order?",
        "No rush at all, whenever you get a chance: do you deliver to Wales?",
        "Thanks so much, that sorted it",
        "Can my neighbour take in the parcel if I'm out?",
        "How do I change the email address on my account?",
        "What's the difference between the two mattress models?",
    ],
)
def test_calm_and_routine_messages_raise_nothing(responder: Responder, text: str) -> None:
    assert reasons(responder, text) == set()


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("The lamp sparked and my daughter burnt her fingers on it", "safety"),
        (
            "Send me a copy of all the personal data you hold on me, then delete my account",
            "personal_data",
        ),
        ("If this isn't refunded I'm taking you to court", "legal"),
        ("Somebody used my card on your site and I never bought anything", "fraud"),
        ("I'd like to end my monthly plan and stop paying for it", "cancellation"),
        # The example phrases (the fixture's), not the built-in pattern, catch this one.
        ("we buried my father on Friday and his order is still open", "bereavement"),
    ],
)
def test_sensitive_topics_without_any_listed_word(
    responder: Responder, text: str, topic: str
) -> None:
    decision = responder.respond(text)
    assert EscalationReason.SENSITIVE in decision.reasons
    assert topic in decision.signals.sensitive_topics


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # Fraud told only through its facts.
        (
            "A payment of 612 euros to a phone shop in Bucharest went out at 3am, I was asleep",
            "fraud",
        ),
        # A takeover told only as a changed login (read by the fraud pattern).
        ("my login email got switched to an address I don't know and now I can't get in", "fraud"),
        # A hazard where nobody is hurt yet.
        (
            "The plug of the heater went black and half melted into the wall socket overnight",
            "safety",
        ),
        ("water is dripping through the light fitting in the hallway of the flat", "safety"),
    ],
)
def test_fraud_told_by_its_facts_and_a_hazard_before_anyone_is_hurt(
    responder: Responder, text: str, topic: str
) -> None:
    assert topic in responder.respond(text).signals.sensitive_topics


@pytest.mark.parametrize(
    "text",
    [
        "The large serving platter turned up shattered",
        "two of the mugs were broken when the box arrived",
        "the glass door of the cabinet came smashed",
    ],
)
def test_a_damaged_delivery_is_not_a_safety_incident(responder: Responder, text: str) -> None:
    assert "safety" not in responder.respond(text).signals.sensitive_topics


@pytest.mark.parametrize(
    "text",
    [
        "the glass table top shattered and cut my son's arm",
        "the bookcase toppled over onto my little boy",
        "the kettle exploded boiling water over my hand",
    ],
)
def test_harm_from_a_product_is_a_safety_incident(responder: Responder, text: str) -> None:
    assert "safety" in responder.respond(text).signals.sensitive_topics


# Told the way customers tell them, none with a word of the topic patterns (the heads learned
# topics_written.yaml, 6 Dec; on blind messages recall rose from 0.25-0.70 to 0.80-0.85). A
# risk with nobody hurt yet ("the toaster kept glowing after it popped and the worktop is
# scorched"), written with these, is still missed (MODEL_CARD.md, limits).
@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("my son came out in hives all over after one bite of your flapjack", "safety"),
        ("theres a payment of 312 pounds to an electronics shop, i have never been there", "fraud"),
        ("my account email was changed last night and it was not me who did it", "fraud"),
        ("please stop the yearly plan, I don't want it to renew again", "cancellation"),
        ("we're moving in with my parents so I need to end the broadband deal", "cancellation"),
        ("can you tell me which companies you have given my phone number to", "personal_data"),
    ],
)
def test_topics_told_in_a_customers_own_words(responder: Responder, text: str, topic: str) -> None:
    assert topic in responder.respond(text).signals.sensitive_topics


@pytest.mark.parametrize(
    "text",
    [
        "I want to put in a formal complaint about the driver who delivered on Tuesday",
        "how do I raise a complaint about the rude woman at your Leeds counter?",
    ],
)
def test_a_complaint_is_a_complaint_not_a_legal_threat(responder: Responder, text: str) -> None:
    decision = responder.respond(text)
    assert decision.signals.complaint
    assert "legal" not in decision.signals.sensitive_topics


def test_an_example_topic_is_not_flagged_by_its_words_alone(responder: Responder) -> None:
    decision = responder.respond("My father ordered a sofa last week, when will it come?")
    assert "bereavement" not in decision.signals.sensitive_topics


def test_complaint_in_plain_words(responder: Responder) -> None:
    text = "The courier threw my parcel over the fence and broke the vase inside, I'm not happy"
    assert reasons(responder, text) & {"complaint", "frustration"}


# Clear cases; on whole conversations the pipeline catches about two thirds of frustrated
# customers who use no angry word (bench/conversations_b.jsonl, README), a third before.
@pytest.mark.parametrize(
    ("earlier", "latest"),
    [
        (("my new kettle leaks from the bottom",), "so sad, it was a present from my kids"),
        (("can you check my bill?",), "forget it, I'll take my business somewhere that answers"),
        (
            ("is the refund on its way?", "the bank says nothing came in"),
            "so I'm just supposed to keep waiting? great.",
        ),
        (
            ("the engineer was meant to come between 8 and 12",),
            "it's 3pm and still nobody. I took the day off for this.",
        ),
    ],
)
def test_frustration_without_an_angry_word_in_a_support_chat(
    responder: Responder, earlier: tuple[str, ...], latest: str
) -> None:
    assert EscalationReason.FRUSTRATION.value in reasons(responder, latest, earlier)


@pytest.mark.parametrize(
    "text",
    [
        "please cancel my booking for the 14th",
        "How much does it cost to end my broadband contract early?",
        "Could I speak to an advisor, please?",
        "brilliant, that's sorted, thanks",
    ],
)
def test_asking_to_cancel_or_for_a_person_is_not_frustration(
    responder: Responder, text: str
) -> None:
    assert EscalationReason.FRUSTRATION.value not in reasons(responder, text)


# Counted things that are not contacts: a double charge, a line on a receipt twice, a dose. Each
# read 0.3 higher, at or over the threshold, while "twice" alone counted as asking again.
@pytest.mark.parametrize(
    "text",
    [
        "I think I've been charged twice for order 4471",
        "the candle set shows up twice on my receipt",
        "I take the tablets three times a day, is that ok with this?",
        "we come in twice a week for the swim sessions",
    ],
)
def test_a_thing_counted_twice_is_not_frustration(responder: Responder, text: str) -> None:
    assert EscalationReason.FRUSTRATION.value not in reasons(responder, text)


# Questions about what happens in a case, which the head read at 0.46-0.69 for the bad case in
# them; the second after a mildly annoyed turn (0.86), which still carries.
@pytest.mark.parametrize(
    ("earlier", "latest"),
    [
        ((), "if the ferry is cancelled because of a storm, do we get our money back?"),
        (
            ("the kiln arrived with a cracked shelf and I'm not impressed",),
            "if the replacement shelf doesn't fit, can I send it back for free?",
        ),
    ],
)
def test_a_question_about_a_case_is_not_frustration(
    responder: Responder, earlier: tuple[str, ...], latest: str
) -> None:
    assert EscalationReason.FRUSTRATION.value not in reasons(responder, latest, earlier)


def test_a_question_about_a_case_after_fury_is_frustration(responder: Responder) -> None:
    earlier = ("My order is two weeks late and nobody has replied", "absolutely fuming")
    latest = "What happens if it doesn't come tomorrow?"
    assert EscalationReason.FRUSTRATION.value in reasons(responder, latest, earlier)


@pytest.mark.parametrize(
    "text",
    [
        "I've emailed you four times about this refund",
        "done everything on the list. Twice.",
        "that's twice now the courier hasn't come",
    ],
)
def test_contacts_and_efforts_counted_are_frustration(responder: Responder, text: str) -> None:
    assert EscalationReason.FRUSTRATION.value in reasons(responder, text)


# Written for this test after the heads learned distress, repeating and flat consequences
# (customer_chat.yaml); none of them is in the training data or the conversation sets. Two
# more written with them are still missed (the model card's limits): "the deadline is 5pm
# today and he's the only one in his class not paid" (0.39) and "he used the last of it this
# morning and it still says processing" (0.20).
@pytest.mark.parametrize(
    ("earlier", "latest"),
    [
        (
            ("the boiler engineer never turned up",),
            "so that's a third night with no heating, with a newborn in the house",
        ),
        (
            ("my card has been blocked", "I'm in Lisbon"),
            "like I said twice now, I'm abroad, the card is blocked, I can't pay the hotel",
        ),
    ],
)
def test_distress_repeating_and_flat_consequences_are_frustration(
    responder: Responder, reader: HeadReader, earlier: tuple[str, ...], latest: str
) -> None:
    [reading] = reader.read([latest])
    assert reading.levels["frustration"] > 0.5, "the head alone reads it"
    assert EscalationReason.FRUSTRATION.value in reasons(responder, latest, earlier)


@pytest.mark.parametrize(
    "text",
    [
        "we fly out on the 20th, will the new card arrive before then?",
        "sorry, I meant the joint account, not my own one",
        "what happens if a direct debit bounces one month?",
        "no rush at all, just checking the refund is still on its way",
        "it's for my grandad's 90th, could you add a gift note?",
    ],
)
def test_calm_urgency_context_and_clarifications_are_not_frustration(
    responder: Responder, text: str
) -> None:
    assert EscalationReason.FRUSTRATION.value not in reasons(responder, text)


def test_frustration_builds_over_mildly_negative_turns(responder: Responder) -> None:
    earlier = ("hmm that's not quite what I was after", "still a bit confused about the fee")
    latest = "ok that doesn't really help me either"
    assert EscalationReason.FRUSTRATION.value not in reasons(responder, earlier[0])
    assert EscalationReason.FRUSTRATION.value in reasons(responder, latest, earlier)


@pytest.mark.parametrize(
    "text",
    [
        "brilliant, that's fixed it. thank you so much",
        "that's sorted it, many thanks for your help",
        "oh lovely, it arrived this morning. thank you!",
    ],
)
def test_sincere_thanks_read_as_gratitude(reader: HeadReader, text: str) -> None:
    assert reader.read([text])[0].fired("gratitude")


@pytest.mark.parametrize(
    "text",
    [
        "what time do you open on saturdays?",
        "my card payment was declined twice",
        "I'd like to speak to someone about my bill please",
    ],
)
def test_questions_and_problems_are_not_thanks(reader: HeadReader, text: str) -> None:
    assert not reader.read([text])[0].fired("gratitude")


def test_gratitude_is_not_a_sensitive_topic(reader: HeadReader) -> None:
    assert "gratitude" not in reader.topics


def test_settings_refuse_as_topic_names_exactly_the_shipped_heads_that_are_not_topics(
    embeddings: MiniLMOnnxEmbeddings,
) -> None:
    # config cannot import the heads (it loads before them), so the names are spelled twice;
    # this keeps the two spellings the same.
    heads = load_heads(embeddings.name)
    assert heads is not None
    assert set(heads.names) - set(TOPIC_NAMES) == NOT_TOPIC_NAMES
    assert set(TOPIC_NAMES) <= set(heads.names)


def test_calm_thanks_and_solved_problems_end_a_run_of_mild_turns_but_turned_thanks_do_not(
    responder: Responder, reader: HeadReader
) -> None:
    earlier = (
        "the refund was supposed to be in my account by now",
        "the courier says they never got it",
    )
    levels = [r.levels["frustration"] for r in reader.read(list(earlier))]
    assert all(0.4 <= level < 0.5 for level in levels), "two mildly negative turns"
    frustrated = EscalationReason.FRUSTRATION.value
    # A calm next step adds up to a flag after those turns; news that the problem is solved,
    # with thanks or without, settles it.
    assert frustrated in reasons(responder, "ok, so what happens now", earlier)
    assert frustrated not in reasons(responder, "ah it's come through now", earlier)
    assert frustrated not in reasons(responder, "ah it's come through now, thank you!", earlier)
    for turned in (
        "thanks for nothing then",
        "thank you, but I still haven't got my refund",
        "thanks, I'll take my business elsewhere",
    ):
        assert reader.read([turned])[0].fired("gratitude"), turned
        assert frustrated in reasons(responder, turned, earlier), turned


def test_the_same_question_again_counts(reader: HeadReader) -> None:
    readings = reader.read(["when do you open on sunday?", "hello", "what time do you open sunday"])
    assert readings[0].echo == 0.0
    assert readings[2].echo > 0.9 > readings[1].echo


def test_levels_put_each_threshold_at_one_half() -> None:
    assert level(0.8, 0.8) == 0.5
    assert level(0.4, 0.8) == pytest.approx(0.25)
    assert level(0.9, 0.8) == pytest.approx(0.75)
    assert level(1.0, 0.8) == 1.0


def test_heads_trained_on_another_model_are_off() -> None:
    assert load_heads("some-other-embedding-model") is None


def test_heads_round_trip(tmp_path: pytest.TempPathFactory) -> None:
    heads = SignalHeads.load()
    path = tmp_path / "heads.npz"  # type: ignore[operator]
    heads.save(path)
    again = SignalHeads.load(path)
    assert again.names == heads.names and again.thresholds == heads.thresholds
    assert set(again.lexical) == {"frustration", "gratitude"} and again.stack == heads.stack
    assert set(again.hidden) == set(heads.hidden) == {"frustration"}
    texts = ["where is my parcel?", "this is a joke, three weeks and nothing"]
    vectors = np.random.default_rng(0).normal(size=(2, 384)).astype(np.float32)
    for name, scores in heads.score(vectors, texts).items():
        assert np.allclose(scores, again.score(vectors, texts)[name])


def test_the_lexical_head_reads_words_pairs_spellings_and_negation() -> None:
    grams = set(ngrams("So ANGRY!"))
    assert {"w:so", "w:angry", "w:!", "b:so angry", "b:angry !", "c: an", "c:gry "} <= grams
    negated = set(ngrams("I'm not angry, just asking"))
    assert {"W:angry", "C:gry ", "b:not angry", "w:just"} <= negated
    assert "w:angry" not in negated
    assert "W:angry" in ngrams("I don't feel angry") and "w:never" in ngrams("never")
    assert ngrams("I\u2019m fine") == ngrams("i'm fine")
    assert buckets("so angry", bits=8).max() < 256


def test_a_lexical_head_is_a_sparse_logistic() -> None:
    weights = np.zeros(1 << 8, dtype=np.float32)
    weights[buckets("angry", bits=8)] = 1.0
    head = LexicalHead(weights, -0.5)
    angry, calm = head.logits(["angry", "calm"])
    assert angry == pytest.approx(np.sqrt(len(buckets("angry", bits=8))) - 0.5)
    assert calm < angry
    with pytest.raises(ValueError):
        LexicalHead(np.zeros(100), 0.0)


def test_a_hidden_layer_is_relu_units_then_a_logit() -> None:
    layer = HiddenLayer(
        weights=np.array([[1.0, -1.0], [0.0, 2.0]], dtype=np.float32),
        bias=np.array([0.0, -1.0], dtype=np.float32),
        out=np.array([2.0, 3.0], dtype=np.float32),
        out_bias=-1.0,
    )
    # [1, 1] -> units relu([1, 0]) = [1, 0] -> 2 - 1; [-1, 2] -> relu([-1, 4]) = [0, 4] -> 12 - 1
    assert layer.logits(np.array([[1.0, 1.0], [-1.0, 2.0]], dtype=np.float32)).tolist() == [
        1.0,
        11.0,
    ]


def test_the_trained_network_is_read_as_its_hidden_layer() -> None:
    from knowledge.heads.train import _network, layer_of

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 16)).astype(np.float32)
    labels = (vectors[:, 0] + vectors[:, 1] > 0).astype(int)
    network = _network().fit(vectors, labels, sample_weight=np.ones(200))
    probability = network.predict_proba(vectors)[:, 1]
    logits = layer_of(network).logits(vectors)
    assert np.allclose(1 / (1 + np.exp(-logits)), probability, atol=1e-5)


def test_a_head_with_a_hidden_layer_does_not_read_its_row() -> None:
    heads = SignalHeads.load()
    vectors = np.random.default_rng(1).normal(size=(3, 384)).astype(np.float32)
    texts = ["where is my parcel?", "third week of waiting", "thanks, sorted"]
    before = heads.score(vectors, texts)["frustration"]
    heads._coef[heads.names.index("frustration")] = 5.0
    assert np.allclose(heads.score(vectors, texts)["frustration"], before)
    with pytest.raises(ValueError):
        HiddenLayer(np.zeros((4, 3)), np.zeros(2), np.zeros(3), 0.0)


def test_the_stacked_head_needs_the_texts() -> None:
    heads = SignalHeads.load()
    with pytest.raises(ValueError):
        heads.score(np.zeros((2, 384), dtype=np.float32), [])


def test_the_shipped_heads_stay_small() -> None:
    from knowledge.heads.model import HEADS_FILE

    assert HEADS_FILE.stat().st_size < 400_000


def test_a_stacked_head_leans_on_the_head_that_reads_the_label() -> None:
    """``fit_stacked`` with a logistic embedding head, as gratitude is fitted: here the label is
    in the words and only faintly in the vector, so the stack weighs the lexical head more."""
    from knowledge.heads.train import _logistic, fit_stacked

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    vectors = rng.normal(size=(400, 384)).astype(np.float32)
    vectors[:, 0] += 0.3 * labels
    texts = [f"{'many thanks' if y else 'where is'} order {i}" for i, y in enumerate(labels)]
    weights, tuning = np.ones(400), np.ones(400, dtype=bool)
    fitted, lexical, (a, b, c), threshold = fit_stacked(
        vectors, texts, labels, weights, tuning, min_precision=0.9, embedding=_logistic()
    )
    assert b > a
    heads = SignalHeads(
        names=("thanks",),
        coef=fitted.coef_,
        intercept=fitted.intercept_,
        thresholds={"thanks": threshold},
        embedding_model="test",
        lexical={"thanks": lexical},
        stack={"thanks": (a, b, c)},
    )
    fired = heads.score(vectors, texts)["thanks"] >= threshold
    assert (fired == labels.astype(bool)).mean() > 0.95


# Written for this test, after the conversation model was fitted; none is in its training sets.
@pytest.mark.parametrize(
    ("earlier", "latest"),
    [
        (
            ("when will my deposit come back?", "you sent me the booking terms"),
            "that isn't what i asked. when does the deposit come back",
        ),
        (
            ("the washing machine was meant to be delivered saturday", "nobody came"),
            "i stayed in all day again today. nobody.",
        ),
        (
            ("my prescription order says dispatched", "it has been nine days"),
            "i run out tomorrow. what am i meant to do",
        ),
    ],
)
def test_the_conversation_model_reads_flat_frustration_over_turns(
    responder: Responder, earlier: tuple[str, ...], latest: str
) -> None:
    assert EscalationReason.FRUSTRATION.value in reasons(responder, latest, earlier)


# Written with these and still flagged (the model card's limits): "that fixed it, cheers" after
# that first turn (0.77). The gratitude head reads "cheers" at 0.34, and a turn as frustrated as
# the first ("logged me out twice", 1.0) carries over in the model unless the customer thanks.
@pytest.mark.parametrize(
    ("earlier", "latest"),
    [
        (
            ("the app logged me out twice today", "ok reinstalling it now"),
            "that fixed it, thanks!",
        ),
        (("my order is a day late",), "I'm not annoyed, just wondering if it's still coming"),
        (
            ("can I move my class to thursday?", "the 6pm one"),
            "perfect, and can I bring a friend to try it?",
        ),
        (("the parcel hasn't arrived yet",), "no worries, I'll wait until monday then"),
    ],
)
def test_the_conversation_model_lets_calm_turns_be(
    responder: Responder, earlier: tuple[str, ...], latest: str
) -> None:
    assert EscalationReason.FRUSTRATION.value not in reasons(responder, latest, earlier)


def test_the_shipped_conversation_model_fits_this_version_and_these_heads() -> None:
    model = load_conversation_frustration()
    assert model is not None
    assert 0.3 <= model.threshold <= 0.7


def test_the_service_weighs_conversations_with_the_model_only_beside_its_heads(
    reader: HeadReader,
) -> None:
    assert policy_config(Settings(), reader).conversation_frustration is not None
    headless = HeadReader(
        embed=lambda texts: np.zeros((len(texts), 384), dtype=np.float32), heads=None
    )
    assert policy_config(Settings(), headless).conversation_frustration is None


def test_the_model_not_the_rules_reads_the_conversation(
    responder: Responder, reader: HeadReader
) -> None:
    model = responder.config.conversation_frustration
    assert model is not None
    earlier = ["my order was meant to come on friday", "still nothing today"]
    latest = "any news on it?"
    turns = [*earlier, latest]
    readings = reader.read(turns)
    signals = turn_signals(turns, responder.config, readings)
    learned = model.level(conversation_features(turns, signals, readings[-1]))
    floor = run_of_negative_turns(turns, [s.frustration for s in signals])
    read = responder.respond(latest, earlier).signals.frustration
    assert read == pytest.approx(max(learned, floor))
    rules = over_conversation(signals[-1], turns, signals[:-1], readings[-1].echo)
    assert read != pytest.approx(rules.frustration), "the rules would read it otherwise"


def test_a_missing_broken_or_foreign_conversation_model_leaves_the_rules(
    tmp_path: Path, reader: HeadReader
) -> None:
    assert load_conversation_frustration(heads=reader.heads) is not None, "fitted on these heads"
    assert load_conversation_frustration(tmp_path / "missing.json") is None
    for text in ('{"features": ["latest"]}', "[]", "not json"):
        broken = tmp_path / "broken.json"
        broken.write_text(text)
        assert load_conversation_frustration(broken) is None, text
    trained_again = SignalHeads(
        names=[],
        coef=np.zeros((0, 384)),
        intercept=np.zeros(0),
        thresholds={},
        embedding_model="all-MiniLM-L6-v2",
        fingerprint="0123456789abcdef",
    )
    assert load_conversation_frustration(heads=trained_again) is None


def test_the_rest_of_a_message_with_calm_words_is_read(
    responder: Responder, reader: HeadReader
) -> None:
    # Calm words after a plain message and beside each other: each rest is the message's own.
    question, calm, bare, chargeback = reader.read(
        [
            "when do you open on sunday?",
            "ah that's a pity but fair enough, I'll book the later class",
            "no worries",
            "that's fine, I'll be disputing the charge with my bank and leaving a review",
        ]
    )
    assert calm.rest is not None and chargeback.rest is not None
    assert calm.rest < 0.5 and chargeback.rest > 0.8
    assert bare.rest == 0.0  # nothing but the calm words
    assert question.rest is None  # no calm words
    earlier = ("my class was cancelled again, that's the second time this month",)
    frustrated = EscalationReason.FRUSTRATION.value
    assert frustrated not in reasons(
        responder, "ah that's a pity but fair enough, I'll book the later class", earlier
    )
    disputing = "that's fine, I'll be disputing the charge with my bank and leaving a review"
    assert frustrated in reasons(responder, disputing, earlier)


def test_a_solved_problem_told_with_what_went_wrong_is_read_without_its_solving_words(
    responder: Responder, reader: HeadReader
) -> None:
    # The head reads the breakdown as mildly negative; without "all good", which closes the
    # message, the rest reads calm, so the customer who waited is read on this message alone.
    solved = "the engineer rang, his van broke down on the motorway. he's here now, all good"
    grudging = "it's working now. took you long enough"  # the solving words do not close it
    told, late, calm = reader.read([solved, grudging, "ah that's a pity but fair enough"])
    assert told.levels["frustration"] >= MILD
    assert told.solved_rest is not None and told.solved_rest < SOLVED_REST_CALM
    assert told.rest is None  # no calm words
    assert late.solved_rest is None
    assert calm.solved_rest is None and calm.rest is not None
    earlier = (
        "the engineer was due at 8 and it's nearly 11, I've taken the day off for this",
        "still nobody here and no call either",
    )
    decided = responder.respond(solved, earlier)
    assert decided.signals.frustration == pytest.approx(told.levels["frustration"])
    assert responder.respond(grudging, earlier).signals.frustration > 0.5


def test_each_rest_is_read_for_its_own_message(reader: HeadReader) -> None:
    """Calm and solved rests of several turns, some empty and some missing, each land on their
    own message, as each rest reads on its own."""
    texts = [
        "no worries",  # calm words and nothing else: an empty rest
        "his van broke down on the motorway. he's here now, all good",  # a solved rest
        "where is my order",  # neither
        "ah that's a pity but fair enough, I'll book the later class",  # a calm rest
        "the email went to my junk folder and I missed it. my bad",  # a solved rest
        "that's fine, I'll be disputing the charge with my bank",  # a calm rest
    ]
    readings = reader.read(texts)
    for text, reading in zip(texts, readings, strict=True):
        for rest_of, got in ((calm_rest, reading.rest), (solved_rest, reading.solved_rest)):
            rest = rest_of(text)
            if rest is None:
                assert got is None, text
            elif not rest:
                assert got == 0.0, text
            else:
                alone = reader.read([rest])[0].levels["frustration"]
                assert got == pytest.approx(alone, abs=1e-6), text
    assert sum(r.rest is not None for r in readings) == 3
    assert sum(r.solved_rest is not None for r in readings) == 2
