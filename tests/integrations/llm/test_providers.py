"""Providers by settings through ``init_chat_model``, the guard's pieces, and the key masked
by ``tandem config show``."""

from __future__ import annotations

import email.utils
import time
from types import SimpleNamespace

import pytest

from config import LLMSettings, Settings, SettingsError, load_settings, masked_settings
from integrations.llm.guard import CircuitBreaker, classify, retry_after
from integrations.llm.models import LLMConfigError, build_chat_model, model_kwargs


def test_no_provider_is_the_default() -> None:
    assert not LLMSettings().enabled
    with pytest.raises(LLMConfigError):
        model_kwargs(LLMSettings())


@pytest.mark.parametrize(
    ("values", "cls"),
    [
        ({"provider": "openai", "api_key": "k"}, "ChatOpenAI"),
        ({"provider": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}, "ChatOpenAI"),
        (
            {
                "provider": "azure_openai",
                "api_key": "k",
                "base_url": "https://x.openai.azure.com",
                "api_version": "2024-10-21",
                "model": "deployment",
            },
            "AzureChatOpenAI",
        ),
        ({"provider": "anthropic", "api_key": "k"}, "ChatAnthropic"),
        ({"provider": "ollama", "model": "llama3.1"}, "ChatOllama"),
    ],
)
def test_each_provider_builds_its_model(values: dict[str, str], cls: str) -> None:
    model = build_chat_model(LLMSettings(**values))  # type: ignore[arg-type]
    assert type(model).__name__ == cls


def test_sdk_retries_are_off_and_the_timeout_is_set() -> None:
    kwargs = model_kwargs(LLMSettings(provider="openai", timeout_s=7))
    assert kwargs["max_retries"] == 0 and kwargs["timeout"] == 7
    assert model_kwargs(LLMSettings(provider="ollama"))["client_kwargs"] == {"timeout": 20.0}


def test_azure_and_anthropic_need_their_settings() -> None:
    with pytest.raises(LLMConfigError, match="API_VERSION"):
        model_kwargs(LLMSettings(provider="azure_openai", base_url="https://x"))
    with pytest.raises(LLMConfigError, match="API_KEY"):
        model_kwargs(LLMSettings(provider="anthropic"))


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_LLM__PROVIDER", "anthropic")
    monkeypatch.setenv("TANDEM_LLM__API_KEY", "sk-ant-secret")
    monkeypatch.setenv("TANDEM_LLM__MASK_PATTERNS", '["\\\\bDE\\\\d{20}\\\\b"]')
    settings = load_settings(None)
    assert settings.llm.provider == "anthropic" and settings.llm.timeout_s == 20
    shown = masked_settings(settings)["llm"]
    assert shown["api_key"] == "**********" and "sk-ant-secret" not in repr(shown)
    monkeypatch.setenv("TANDEM_LLM__MASK_PATTERNS", '["("]')
    with pytest.raises(SettingsError, match="TANDEM_LLM__MASK_PATTERNS"):
        load_settings(None)


def test_example_env_documents_every_llm_setting() -> None:
    from pathlib import Path

    example = (Path(__file__).parents[3] / "config" / "example.env").read_text()
    for name in Settings.model_fields["llm"].annotation.model_fields:  # type: ignore[union-attr]
        assert f"TANDEM_LLM__{name.upper()}" in example


def test_retry_after_seconds_ms_and_dates() -> None:
    def error(headers: dict[str, str]) -> Exception:
        failure = Exception("429")
        failure.response = SimpleNamespace(status_code=429, headers=headers)  # type: ignore[attr-defined]
        return failure

    assert retry_after(error({"retry-after": "7"})) == 7
    assert retry_after(error({"retry-after-ms": "1500"})) == 1.5
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after(error({"retry-after": date})) or 0) <= 31
    assert retry_after(error({})) is None
    assert classify(error({})) == "rate_limited"
    assert classify(TimeoutError()) == "timeout"


def test_breaker_lets_a_trial_call_through_after_the_cooldown() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, cooldown_s=30, clock=lambda: now[0])
    breaker.failed()
    assert breaker.allow()
    breaker.failed()
    assert not breaker.allow()
    now[0] = 31
    assert breaker.allow()


async def test_the_composition_root_picks_the_drafter() -> None:
    from bot.extractive import ExtractiveDrafter
    from integrations.composition import build_drafter
    from integrations.llm.drafter import LLMDrafter

    assert isinstance(build_drafter(Settings()), ExtractiveDrafter)
    llm = build_drafter(Settings(llm=LLMSettings(provider="openai", api_key="k")))
    assert isinstance(llm, LLMDrafter)
    await llm.aclose()
    with pytest.raises(SettingsError, match="API_VERSION"):
        build_drafter(Settings(llm=LLMSettings(provider="azure_openai")))


def test_the_core_imports_no_llm_package() -> None:
    from pathlib import Path

    core = Path(__file__).parents[3] / "bot"
    for module in core.glob("*.py"):
        text = module.read_text()
        for package in ("langchain", "openai", "anthropic", "ollama"):
            assert f"import {package}" not in text and f"from {package}" not in text, module
