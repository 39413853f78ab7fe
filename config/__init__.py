"""Tandem's settings: one pydantic-settings ``Settings`` built once at start and passed down."""

from __future__ import annotations

from config.loading import SettingsError, load_settings, masked_settings
from config.settings import (
    EmbeddingsSettings,
    EscalationSettings,
    KnowledgeSettings,
    LearningSettings,
    LLMSettings,
    ServerSettings,
    Settings,
    SlackSettings,
    StorageSettings,
    TeamsSettings,
)

__all__ = [
    "EmbeddingsSettings",
    "EscalationSettings",
    "KnowledgeSettings",
    "LearningSettings",
    "LLMSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "SlackSettings",
    "StorageSettings",
    "TeamsSettings",
    "load_settings",
    "masked_settings",
]
