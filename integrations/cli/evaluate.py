"""``tandem eval``: measure answer quality and escalation on a temporary knowledge base."""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Column, Table

from bot.evaluation import CasesError, evaluate, read_cases
from integrations.cli.context import Context, pass_context, target_precision_option
from integrations.cli.progress import IngestBars, bar
from knowledge.ingest import IngestProgress

console = Console(stderr=True)


@click.command("eval")
@click.option(
    "--kb",
    "kb_file",
    required=True,
    type=click.Path(path_type=Path),
    help="FAQ file (JSONL/CSV) or documents for the temporary knowledge base.",
)
@click.option(
    "--cases",
    "cases_file",
    required=True,
    type=click.Path(path_type=Path),
    help="Cases JSONL: {text, expect, article?, frustrated?, turns?}.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print every figure as JSON (no progress bars); without it, a summary table.",
)
@click.option("--sweep", is_flag=True, help="Add the precision/deflection curve.")
@click.option(
    "--details",
    "details_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write one JSON line per case (decision, article, confidence, reasons, right) here.",
)
@click.option(
    "--replay",
    is_flag=True,
    help="Run the cases in order and teach each escalated case's article back, as an agent "
    "would (a tag, and a live outcome; a share of wrong answers is rejected, then tagged); "
    "print precision and deflection per block (the learning curve).",
)
@click.option("--block", default=100, show_default=True, type=click.IntRange(10, 100_000))
@click.option(
    "--rejection-rate",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="With --replay: the share of wrong bot answers customers say did not help.",
)
@target_precision_option
@pass_context
def eval_command(
    context: Context,
    kb_file: Path,
    cases_file: Path,
    as_json: bool,
    sweep: bool,
    details_file: Path | None,
    replay: bool,
    block: int,
    rejection_rate: float,
    target_precision: float,
) -> None:
    """Run cases through the live decision path on a temporary copy of a knowledge base.

    The user's own knowledge base is never touched. The threshold is the one calibration
    picks from the knowledge base alone; as live, it rises once 200 questions show more
    out-of-scope traffic than calibrated for (``threshold_at_end``; switch off with
    TANDEM_KNOWLEDGE__FOLLOW_TRAFFIC_SHARE=false).
    """
    from integrations.composition import build_responder, open_knowledge_base

    settings = context.settings
    try:
        cases = read_cases(cases_file)
    except CasesError as error:
        click.echo(f"tandem: {error}", err=True)
        sys.exit(2)
    with tempfile.TemporaryDirectory(prefix="tandem-eval-") as temp:
        knowledge = settings.knowledge.model_copy(
            update={"data_dir": Path(temp), "chroma_url": None, "collection": "tandem_eval"}
        )
        knowledge_base = open_knowledge_base(settings, knowledge=knowledge)
        knowledge_base.confidence.target_precision = target_precision
        if as_json:
            report = knowledge_base.ingest([kb_file], progress=IngestProgress())
        else:
            with IngestBars(console) as bars:
                report = knowledge_base.ingest([kb_file], progress=bars)
        if report.failed:
            for path, reason in report.failed:
                click.echo(f"tandem: {path}: {reason}", err=True)
            sys.exit(2)
        known = {article.id for article in knowledge_base.store.articles()}
        unknown = sorted({c.article for c in cases if c.article and c.article not in known})
        if unknown:
            shown = ", ".join(unknown[:5]) + (", …" if len(unknown) > 5 else "")
            click.echo(
                f"tandem: warning: cases name {len(unknown)} article(s) the knowledge base does "
                f"not hold ({shown}): an answer to them can only count as wrong",
                err=True,
            )
        responder = build_responder(settings, knowledge_base)
        with bar(console, enabled=not as_json) as progress:
            task = progress.add_task("replaying" if replay else "evaluating", total=len(cases))
            with _details_writer(details_file) as write:
                if replay:
                    from integrations.replay import replay as run_replay

                    result = run_replay(
                        responder,
                        knowledge_base,
                        cases,
                        block=block,
                        progress=lambda: progress.advance(task),
                        learning=settings.learning,
                        rejection_rate=rejection_rate,
                        details=write,
                    )
                    if not as_json:
                        _print_curve(result["blocks"])
                else:
                    result = evaluate(
                        responder,
                        cases,
                        sweep=sweep,
                        progress=lambda: progress.advance(task),
                        details=write,
                    )
        if not replay:
            from knowledge.calibration import out_of_scope_share

            share = (
                None  # the answer rate reads against calibration's curve, not the learned scale
                if result["answer_rate"] is None or knowledge_base.learned_confidence
                else out_of_scope_share(
                    knowledge_base.confidence, result["threshold"], result["answer_rate"]
                )
            )
            result["estimated_out_of_scope_share"] = None if share is None else round(share, 3)
            # Raised during the run if the cases showed more out-of-scope questions than the
            # calibration assumed (TANDEM_KNOWLEDGE__FOLLOW_TRAFFIC_SHARE), as live.
            result["threshold_at_end"] = round(knowledge_base.threshold_in_force(), 4)
            result["learned_confidence"] = knowledge_base.learned_confidence
        result["calibration"] = {
            key: value
            for key, value in dataclasses.asdict(knowledge_base.confidence).items()
            if key
            in {
                "threshold",
                "target_precision",
                "expected_precision",
                "expected_deflection",
                "probes",
                "out_of_scope_share",
                "acceptance",
                "share_thresholds",
            }
        }
    if as_json:
        click.echo(json.dumps(result))
    else:
        _print_summary(result.get("overall", result), result)


def _print_summary(scores: dict[str, Any], result: dict[str, Any]) -> None:
    """The headline figures for a person; ``--json`` has them all."""
    out = Console()
    table = Table("figure", "value", title="tandem eval", title_justify="left")
    rows: list[tuple[str, Any]] = [
        (
            "cases (in scope / out of scope)",
            f"{scores['cases']} ({scores['in_scope']} / {scores['out_of_scope']})",
        ),
        (
            "answered (correct / wrong)",
            f"{scores['answered']} ({scores['correct']} / {scores['wrong']})",
        ),
        ("answer precision", scores["answer_precision"]),
        ("deflection", scores["deflection"]),
        ("out-of-scope escalation recall", scores["oos_escalation_recall"]),
    ]
    for key in ("frustration_precision", "frustration_recall"):
        if scores.get(key) is not None:
            rows.append((key.replace("_", " "), scores[key]))
    calibration = result.get("calibration", {})
    # A replay recalibrates as agents teach: its calibration is the one at the end.
    label = "calibrated threshold" + (" at the end" if "blocks" in result else "")
    rows.append((label, calibration.get("threshold")))
    for key in ("threshold_at_end", "estimated_out_of_scope_share"):
        if result.get(key) is not None:
            rows.append((key.replace("_", " "), result[key]))
    for key in ("latency_ms_p50", "latency_ms_p95"):
        if scores.get(key) is not None:
            rows.append((key.replace("_", " "), scores[key]))
    for name, value in rows:
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        table.add_row(name, "–" if value is None else shown)
    out.print(table)
    out.print("Every figure, the curve and the calibration: --json.")


@contextmanager
def _details_writer(
    path: Path | None,
) -> Iterator[Callable[[dict[str, Any]], None] | None]:
    if path is None:
        yield None
        return
    with path.open("w", encoding="utf-8") as handle:

        def write(row: dict[str, Any]) -> None:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")

        yield write


def _figure(value: float | None) -> str:
    """A share as the summary shows it: three decimals, or "–" when there was nothing to count."""
    return "–" if value is None else f"{value:.3f}"


def _print_curve(blocks: list[dict[str, Any]]) -> None:
    # Nine columns in 80 (a log or a pipe): no rules, short threshold headers.
    names = ("block", "cases", "precision", "deflection", "taught", "rejected")
    table = Table(
        *(Column(name, min_width=len(name)) for name in (*names, "calibrated", "live", "in force")),
        box=None,
        collapse_padding=True,
        pad_edge=False,
        padding=(0, 1),
        header_style="bold underline",
        caption="thresholds: calibrated, from live outcomes (live), and the one in force",
    )
    for row in blocks:
        live = row["live_threshold"]
        table.add_row(
            str(row["block"]),
            str(row["cases"]),
            _figure(row["answer_precision"]),
            _figure(row["deflection"]),
            str(row["taught"]),
            "–" if row["rejected"] is None else str(row["rejected"]),
            f"{row['threshold']:.3f}",
            "–" if live is None else f"{live:.3f}",
            f"{row['threshold_in_force']:.3f}",
        )
    console.print(table)
