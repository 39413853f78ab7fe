"""``tandem kb``: manage the knowledge base."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from integrations.cli.context import (
    Context,
    open_knowledge_base,
    pass_context,
    target_precision_option,
)
from integrations.cli.progress import IngestBars, bar
from integrations.cli.store import with_store
from knowledge.base import FEW_QUESTION_VARIANTS, MIN_CALIBRATION_ARTICLES, KnowledgeBase, Stats
from knowledge.calibration import ConfidenceModel

if TYPE_CHECKING:
    from integrations.storage import SqlStore

console = Console(stderr=True)
out = Console()

FEW_VARIANTS_CAUTION = (
    "caution: articles have a median of {median:g} question variant(s). With {few} or fewer, "
    "calibration sees too few questions to keep its promise either way: on nine small "
    "knowledge bases meeting live traffic, asked for 0.90, it kept 0.78-1.00, and "
    "some answered under a fifth of what they could have. Add question variants (agents' tags add "
    "them); live outcomes then set the threshold from labelled answers."
)
LEARNED_NOTE = (
    "note: with a median of {median:g} question variant(s) an article, the bot answers on the "
    "confidence learned across small deployments' live traffic (threshold {threshold:.3f}), not "
    "on the calibrated one above: on such knowledge bases calibration's promise did not hold "
    "(README, Small knowledge bases). TANDEM_KNOWLEDGE__LEARNED_CONFIDENCE=off keeps the "
    "calibrated one. Agents' tags add question variants; live outcomes set the threshold from "
    "labelled answers."
)
# Below this expected deflection, ``kb calibrate`` says how little the bot will answer.
LOW_DEFLECTION = 0.15


@click.group()
def kb() -> None:
    """Manage the knowledge base (ingest, search, list, remove, stats, calibrate, suggestions,
    accept)."""


@kb.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@pass_context
def ingest(context: Context, paths: tuple[Path, ...]) -> None:
    """Ingest Markdown, text and HTML files, FAQ CSV/JSONL files, and whole folders.

    A changed file replaces its old chunks; an unchanged file is skipped. A bad file is
    reported and the rest still go in. Exit code 1 if any file failed.
    """
    knowledge_base = open_knowledge_base(context, to_change=True)
    with IngestBars(console) as bars:
        report = knowledge_base.ingest(paths, progress=bars)
    click.echo(
        f"added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, failed {len(report.failed)} "
        f"({report.chunks} chunks embedded)"
    )
    for path, reason in report.failed:
        click.echo(f"failed: {path}: {reason}", err=True)
    for article_id, path, others in report.shared_ids:
        click.echo(
            f"warning: article {article_id!r} in {path} is also in {', '.join(others)}: "
            "their questions and answers join one article; give one of them another id "
            "if they are different articles",
            err=True,
        )
    if report.changed:
        stats = knowledge_base.stats()
        why = (
            f", it needs {MIN_CALIBRATION_ARTICLES} articles or more"
            if stats.articles < MIN_CALIBRATION_ARTICLES
            else ""
        )
        click.echo(
            f"answer threshold {stats.threshold:.3f} "
            f"(calibrated: {'yes' if stats.calibrated else 'no' + why})"
        )
    sys.exit(1 if report.failed else 0)


@kb.command()
@click.argument("question")
@click.option(
    "--limit", type=click.IntRange(1, 20), default=3, show_default=True, help="Articles to show."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def search(context: Context, question: str, limit: int, as_json: bool) -> None:
    """Search the knowledge base and show what the bot would decide."""
    from integrations.composition import build_responder

    responder = build_responder(context.settings, open_knowledge_base(context))
    decision = responder.respond(question)
    retrieval = decision.retrieval
    if as_json:
        click.echo(
            json.dumps(
                {
                    "decision": decision.action,
                    "reasons": [str(r) for r in decision.reasons],
                    "confidence": round(retrieval.confidence, 4),
                    "threshold": round(retrieval.threshold, 4),
                    "learned_confidence": retrieval.learned,
                    "uncovered": None
                    if retrieval.uncovered is None
                    else round(retrieval.uncovered, 4),
                    "articles": [
                        {
                            "id": m.article_id,
                            "title": m.title,
                            "url": m.url,
                            "similarity": round(m.similarity, 4),
                            "passages": list(m.passages),
                        }
                        for m in retrieval.matches[:limit]
                    ],
                },
                indent=2,
            )
        )
        return
    reasons = ", ".join(str(r) for r in decision.reasons)
    learned = " learned across deployments" if retrieval.learned else ""
    out.print(
        f"decision: [bold]{decision.action}[/bold] "
        f"(confidence{learned} {retrieval.confidence:.3f}, threshold {retrieval.threshold:.3f})"
        + (f" reasons: {reasons}" if reasons else "")
    )
    if not retrieval.matches:
        out.print("the knowledge base is empty: add articles with `tandem kb ingest FILE`")
    elif retrieval.uncovered is not None:  # the coverage check is on (few question variants)
        out.print(
            f"the best article's words cover {1 - retrieval.uncovered:.0%} of the question"
            + (
                " (too little: escalated)"
                if retrieval.uncovered > responder.config.max_uncovered and not retrieval.learned
                else ""
            )
        )
    for rank, match in enumerate(retrieval.matches[:limit], start=1):
        out.print(
            f"{rank}. [bold]{escape(match.title)}[/bold] {escape(f'[{match.article_id}]')} "
            f"similarity {match.similarity:.2f}",
            highlight=False,
        )
        if match.passages:
            out.print("   " + match.passages[0][:300].replace("\n", " "), highlight=False)


@kb.command("list")
@pass_context
def list_articles(context: Context) -> None:
    """List the articles."""
    table = Table("id", "title", "questions", "passages", "source")
    for article in open_knowledge_base(context).store.articles():
        table.add_row(
            article.id,
            article.title,
            str(article.questions),
            str(article.passages),
            article.url or article.source,
        )
    out.print(table)


@kb.command()
@click.argument("article_id")
@pass_context
def remove(context: Context, article_id: str) -> None:
    """Remove an article by id.

    It stays out until a file that holds it is ingested again: to remove it for good, delete it
    from its file too."""
    removed = open_knowledge_base(context, to_change=True).remove(article_id)
    if not removed:
        click.echo(f"tandem: no article {article_id!r}", err=True)
        sys.exit(1)
    click.echo(f"removed {article_id} ({removed} chunks)")


@kb.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def stats(context: Context, as_json: bool) -> None:
    """Show counts, the embedding model, the answer threshold and the live precision estimate
    (from agents' tags and customers' rejections, with its sample size)."""
    knowledge_base = open_knowledge_base(context)
    stats = knowledge_base.stats()
    figures = dict(stats.__dict__)
    figures.update(asyncio.run(with_store(context.settings, _live(context, knowledge_base))))
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        out.print(f"{key:28} {value}", highlight=False)
    _caution_if_few_variants(knowledge_base, stats)


def _caution_if_few_variants(knowledge_base: KnowledgeBase, stats: Stats) -> None:
    if stats.learned_confidence:
        click.echo(
            LEARNED_NOTE.format(median=stats.median_question_variants, threshold=stats.threshold),
            err=True,
        )
    elif knowledge_base.few_question_variants(stats):
        click.echo(
            FEW_VARIANTS_CAUTION.format(
                median=stats.median_question_variants, few=FEW_QUESTION_VARIANTS
            ),
            err=True,
        )


def _live(
    context: Context, knowledge_base: KnowledgeBase
) -> Callable[[SqlStore], Awaitable[dict[str, Any]]]:
    async def read(store: SqlStore) -> dict[str, Any]:
        from integrations.learning import estimate
        from integrations.storage.learning import LearningStore

        live = await estimate(LearningStore(store), knowledge_base, context.settings.learning)
        return {
            "live_precision": None if live.precision is None else round(live.precision, 3),
            "live_precision_samples": live.samples,
            "live_outcomes": live.labelled,
            "live_rejected_answers": live.rejected,
            "live_answers": live.answers,
            "live_answer_rejection_rate": (
                None if live.rejection_rate is None else round(live.rejection_rate, 3)
            ),
            "live_reviewed_answers": live.reviewed,
            "live_reviewed_precision": (
                None if live.reviewed_precision is None else round(live.reviewed_precision, 3)
            ),
            "live_threshold": live.threshold,
        }

    return read


@kb.command()
@target_precision_option
@pass_context
def calibrate(context: Context, target_precision: float) -> None:
    """Pick the answer threshold from the knowledge base alone, and print the curve.

    Holds out the knowledge base's own question variants (and whole articles, to stand in for
    out-of-scope questions), fits the confidence model and stores the threshold that meets the
    target when out-of-scope questions are TANDEM_KNOWLEDGE__EXPECTED_OUT_OF_SCOPE of traffic
    (default 0.5). The curve shows the precision each threshold keeps at 25 %, 50 % and 75 %.
    """
    knowledge_base = open_knowledge_base(context, to_change=True)
    if knowledge_base.store.count() == 0:
        click.echo("tandem: the knowledge base is empty; run 'tandem kb ingest' first", err=True)
        sys.exit(1)
    with bar(console) as progress:
        task = progress.add_task("calibrating", total=None)
        model = knowledge_base.calibrate(
            target_precision,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if not model.calibrated:
        click.echo(
            f"not calibrated: calibration needs at least {MIN_CALIBRATION_ARTICLES} articles "
            f"(this knowledge base has {knowledge_base.stats().articles}); until then the bot "
            f"answers at the default threshold {model.threshold:.3f}"
        )
        return
    if model.expected_precision is None:
        click.echo(
            f"no threshold reaches precision {target_precision}; the bot will escalate "
            "everything until the knowledge base grows"
        )
    else:
        click.echo(
            f"threshold {model.threshold:.3f}: expected precision "
            f"{model.expected_precision:.3f}, expected deflection "
            f"{model.expected_deflection:.3f} ({model.probes.get('in_scope', 0)} in-scope, "
            f"{model.probes.get('out_of_scope', 0)} out-of-scope probes, "
            f"out-of-scope share {model.out_of_scope_share:.0%})"
        )
    print_calibration(model)
    deflection = model.expected_deflection
    calibration_decides = not knowledge_base.learned_confidence
    if calibration_decides and model.expected_precision is not None and deflection is not None:
        _note_if_little_answered(deflection)
    _caution_if_few_variants(knowledge_base, knowledge_base.stats())


def _note_if_little_answered(deflection: float) -> None:
    if deflection < LOW_DEFLECTION:
        click.echo(
            f"note: at this threshold the bot is expected to answer {deflection:.0%}"
            " of the questions it could answer itself; agents get the rest. Their tags add "
            "question variants, and once TANDEM_LEARNING__MIN_LIVE_OUTCOMES outcomes are in, "
            "the threshold follows what they show.",
            err=True,
        )


def print_calibration(model: ConfidenceModel) -> None:
    """The threshold each out-of-scope share needs, and the precision/deflection curve."""
    shares = Table(
        "out-of-scope share",
        "precision at this threshold",
        "threshold it needs",
        "deflection there",
        title="by out-of-scope share",
    )
    for row in model.by_share:
        at = row["precision_at_threshold"]
        shares.add_row(
            f"{row['out_of_scope_share']:.0%}",
            "-" if at is None else f"{at:.3f}",
            f"{row['threshold_for_share']:.3f}",
            f"{row['deflection_for_share']:.3f}",
        )
    out.print(shares)
    curve = Table(
        "threshold",
        "deflection",
        "precision 25%",
        "precision 50%",
        "precision 75%",
        title="curve (calibration probes)",
    )
    for point in model.curve:
        curve.add_row(
            f"{point['threshold']:.3f}",
            f"{point['deflection']:.3f}",
            *(f"{point[f'precision_{share}']:.3f}" for share in (25, 50, 75)),
        )
    out.print(curve)
