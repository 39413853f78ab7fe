"""The core's public faces: ``bot`` re-exports its API, and the core and the knowledge package
import no platform SDK (``bot`` no vector store either)."""

from __future__ import annotations

import ast
from pathlib import Path

import bot

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = {
    "aiohttp",
    "botbuilder",
    "click",
    "httpx",
    "redis",
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy",
    "integrations",
}
VECTOR_STORES = {"chromadb", "langchain", "langchain_core", "knowledge"}
PUBLIC = {
    "ActionKind",
    "ActionResult",
    "AgentAction",
    "AgentEvent",
    "ConversationEngine",
    "ConversationStore",
    "CustomerEvent",
    "EngineConfig",
    "Escalation",
    "EventBus",
    "Metrics",
    "State",
    "customer_topic",
    "plan_action",
}


def imported_roots(package: str) -> dict[str, set[str]]:
    """For each module under ``package``, the top-level packages it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        roots: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                roots.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = roots
    return found


def test_bot_re_exports_its_public_api() -> None:
    assert set(bot.__all__) >= PUBLIC
    missing = [name for name in bot.__all__ if not hasattr(bot, name)]
    assert not missing, f"bot.__all__ names what bot does not define: {missing}"


def test_the_core_imports_no_platform_sdk_nor_vector_store() -> None:
    offending = {
        module: sorted(roots & (PLATFORMS | VECTOR_STORES))
        for module, roots in imported_roots("bot").items()
        if roots & (PLATFORMS | VECTOR_STORES)
    }
    assert not offending, f"bot/ must stay free of SDKs: {offending}"


def test_knowledge_imports_no_platform_sdk() -> None:
    offending = {
        module: sorted(roots & PLATFORMS)
        for module, roots in imported_roots("knowledge").items()
        if roots & PLATFORMS
    }
    assert not offending, f"knowledge/ must stay free of platform SDKs: {offending}"
