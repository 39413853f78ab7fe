"""The aiohttp application: one port for every HTTP surface of Tandem."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from bot import wording
from bot.drafting import passage_text
from bot.model import Decision
from config import Settings
from integrations.background import Background
from integrations.composition import Services, build_services, public_url
from integrations.learning import refresh_live_threshold, share_traffic
from integrations.memory import trim_periodically
from integrations.metrics import CONTENT_TYPE
from integrations.web import customer, desk, reviews
from integrations.web.errors import error
from integrations.web.http import (
    MAX_BODY_BYTES,
    body_in_time,
    channel_bodies,
    close_sockets,
    desk_json_only,
    json_errors,
    json_object,
    no_sniffing,
    widget_cors,
)
from integrations.web.keys import (
    LIMITER,
    LOGIN_GUARD,
    PROPOSALS,
    RECLAIMER,
    SERVICES,
    SLACK,
    SOCKETS,
    TASKS,
    TEAMS,
    ChannelAdapter,
)
from integrations.web.limits import RateLimiter
from integrations.web.login_guard import LoginGuard
from integrations.web.models import message_text
from integrations.web.reclaim import Reclaimer
from integrations.web.sweeps import (
    follow_knowledge,
    follow_live_outcomes,
    follow_traffic_window,
    sweep_messages,
    watch_queue,
)

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self' data:; frame-ancestors 'self'",
}


def customer_view(decision: Decision) -> dict[str, object]:
    """What a customer may see of a decision: never scores, drafts or internal notes."""
    if decision.action == "answer" and decision.answer:
        answer = decision.answer
        return {
            "type": "answer",
            "text": passage_text(answer),
            "sources": [{"title": answer.title, "url": answer.url}],
        }
    text = wording.with_care(wording.PERSON_SOON, decision.signals.sensitive_topics)
    return {"type": "escalated", "text": text}


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics; the live estimate is the last refresh's (``follow_live_outcomes``)."""
    body = request.app[SERVICES].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def ask(request: web.Request) -> web.Response:
    """``POST /api/ask`` with ``{"text"}``: the bot's decision for one question, statelessly."""
    services = request.app[SERVICES]
    text = message_text(await json_object(request), services.settings.server.max_message_chars)
    decision = await services.engine.decide(text)
    return web.json_response(customer_view(decision))


def page(name: str) -> Handler:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / name, headers=SECURITY_HEADERS)

    return handler


async def favicon(request: web.Request) -> web.Response:
    """Browsers that ask for ``/favicon.ico`` get the SVG every page links to."""
    raise web.HTTPMovedPermanently("/static/favicon.svg")


def create_app(settings: Settings, services: Services | None = None) -> web.Application:
    """Build the application. Its services (knowledge base, store, bus, engine) open at
    start-up unless a test passes its own."""
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            no_sniffing,
            widget_cors(settings.server.widget_origins, public_url(settings.server)),
            json_errors,
            body_in_time,
            channel_bodies,
            desk_json_only,
        ],
    )
    app[LIMITER] = RateLimiter(
        settings.server.rate_limit_per_minute, redis_url=settings.storage.redis_url
    )
    app[LOGIN_GUARD] = LoginGuard()
    app[TASKS] = Background()
    app[SOCKETS] = set()
    app[RECLAIMER] = reclaimer = Reclaimer()

    async def start(app: web.Application) -> None:
        app[SERVICES] = services or await build_services(settings)
        await _start_slack(app)
        await _start_teams(app)
        _start_proposals(app)
        app[TASKS].spawn(_recover(app[SERVICES]))
        built = app[SERVICES]
        await refresh_live_threshold(
            built.learning, built.knowledge_base, settings.learning, built.metrics
        )
        await share_traffic(built.learning, built.knowledge_base)  # a restart keeps the window
        if not await app[SERVICES].store.count("agents"):
            logger.warning("no desk agents yet: create one with `tandem agents add NAME`")
        knowledge_base = app[SERVICES].knowledge_base
        stats = await asyncio.to_thread(knowledge_base.stats)
        if stats.learned_confidence:
            logger.info(
                "few question variants an article: the confidence learned across small "
                "deployments decides (see tandem kb stats)",
                extra={"median": stats.median_question_variants, "threshold": stats.threshold},
            )
        elif knowledge_base.few_question_variants(stats):
            logger.warning(
                "few question variants an article: calibration's threshold is unsure either way "
                "(too high or too low for live traffic; see tandem kb stats)",
                extra={"median": stats.median_question_variants},
            )
        logger.info(
            "tandem ready",
            extra={
                "articles": len(knowledge_base.catalogue()),
                "chunks": knowledge_base.store.count(),
                "public_url": public_url(settings.server),
            },
        )

    async def stop(app: web.Application) -> None:
        for key in (SLACK, TEAMS, PROPOSALS):
            if key in app:
                await app[key].close()
        await app[TASKS].settle(timeout=10)
        await app[LIMITER].close()
        if services is None:
            await app[SERVICES].close()

    app.on_startup.append(start)
    app.on_startup.append(reclaimer.on_startup)  # after the services are built
    app.cleanup_ctx.append(trim_periodically)
    app.cleanup_ctx.append(watch_queue)
    app.cleanup_ctx.append(sweep_messages)
    app.cleanup_ctx.append(follow_live_outcomes)
    app.cleanup_ctx.append(follow_traffic_window)
    if settings.knowledge.chroma_url:  # embedded Chroma belongs to this process alone
        app.cleanup_ctx.append(follow_knowledge)
    app.on_shutdown.append(close_sockets)
    app.on_cleanup.append(stop)
    app.on_cleanup.append(reclaimer.on_cleanup)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/api/ask", ask)
    app.router.add_routes(customer.routes)
    app.router.add_routes(desk.routes)
    app.router.add_routes(reviews.routes)
    app.router.add_post("/slack/events", channel_endpoint(SLACK, "Slack", "slack_off"))
    app.router.add_post(
        "/api/messages",
        channel_endpoint(TEAMS, "Teams / Bot Framework", "teams_off"),
    )
    app.router.add_get("/", page("index.html"))
    app.router.add_get("/desk", page("desk.html"))
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static/", STATIC)
    return app


async def _start_slack(app: web.Application) -> None:
    slack = app[SERVICES].settings.slack
    if not slack.enabled:
        logger.info("Slack is off (set TANDEM_SLACK__BOT_TOKEN and TANDEM_SLACK__SIGNING_SECRET)")
        return
    from integrations.slack.app import SlackChannel

    channel = SlackChannel(services=app[SERVICES])
    await channel.start()
    app[SLACK] = channel
    logger.info("Slack is on", extra={"api": slack.api_url, "socket_mode": slack.socket_mode})
    if slack.socket_mode:
        await channel.connect_socket_mode()


async def _start_teams(app: web.Application) -> None:
    teams = app[SERVICES].settings.teams
    if not teams.active:
        logger.info("Teams is off (set TANDEM_TEAMS__APP_ID, or TANDEM_TEAMS__ENABLED locally)")
        return
    from integrations.teams.channel import TeamsChannel

    channel = TeamsChannel(services=app[SERVICES])
    await channel.start()
    app[TEAMS] = channel
    if not teams.app_id:
        logger.warning("Teams is on WITHOUT authentication (no app id): local use and tests only")


def _start_proposals(app: web.Application) -> None:
    services = app[SERVICES]
    if not (services.settings.llm.enabled and services.settings.llm.propose_articles):
        return
    from integrations.llm.assist import AssistingDrafter

    drafter = services.engine.drafter
    if not isinstance(drafter, AssistingDrafter):
        return
    from integrations.llm.proposals import ArticleProposals

    proposals = ArticleProposals(store=services.store, bus=services.bus, drafter=drafter)
    proposals.start()
    app[PROPOSALS] = proposals


def channel_endpoint(key: web.AppKey[ChannelAdapter], name: str, code: str) -> Handler:
    """The endpoint of an agent channel; a 404 JSON error while the channel is off."""

    async def endpoint(request: web.Request) -> web.StreamResponse:
        if key not in request.app:
            return error(404, code, f"{name} is not configured on this server")
        return await request.app[key].handle(request)

    return endpoint


async def _recover(services: Services) -> None:
    handled = await services.engine.recover()
    if handled:
        logger.info("handled messages left over from the last run", extra={"count": handled})
