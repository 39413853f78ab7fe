"""Question variants that agents taught: a customer's question, tagged by an agent with the
article that answered it (and accepted by an admin or a trusted agent), joins that article."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from knowledge.documents import Article, SourceDocument, content_hash

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

LEARNED_SOURCE = "learned-variants/"


def add_question_variants(
    knowledge_base: KnowledgeBase, learned: Mapping[str, Sequence[str]]
) -> int:
    """Add question variants to existing articles, then refit once.

    Args:
        knowledge_base: The knowledge base.
        learned: Questions by the article id they belong to. Unknown articles are skipped.

    Returns:
        How many new variants were stored.
    """
    with knowledge_base.changing():
        store = knowledge_base.store
        known = store.passages_by_article()
        added = 0
        for article_id, questions in learned.items():
            header = known.get(article_id)
            if header is None:
                continue
            source = f"{LEARNED_SOURCE}{article_id}"
            existing = store.source_texts(source)
            merged = list(dict.fromkeys([*existing, *(q.strip() for q in questions if q.strip())]))
            if len(merged) == len(existing):
                continue
            added += len(merged) - len(existing)
            article = Article(
                id=article_id,
                title=header.title,
                questions=tuple(merged),
                url=header.url,
                tags=header.tags,
            )
            document = SourceDocument(source, (article,), content_hash("\n".join(merged)))
            store.upsert_source(document)
        if added:
            knowledge_base.refresh()
    return added
