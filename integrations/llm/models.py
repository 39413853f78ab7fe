"""The chat model the settings name, built through langchain's ``init_chat_model``.

Retries are left to :mod:`integrations.llm.guard` (the SDKs' own retries are off), so that a
slow or rate-limited provider never holds a draft longer than ``timeout_s``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from config import LLMSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

DEFAULT_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
    "ollama": "llama3.1",
}


class LLMConfigError(ValueError):
    """The LLM settings cannot make a model (a missing model name, key or package)."""


def model_name(settings: LLMSettings) -> str:
    """The model (Azure: the deployment) the settings name, else the provider's default."""
    name = settings.model or DEFAULT_MODELS.get(settings.provider)
    if not name:
        raise LLMConfigError(f"TANDEM_LLM__MODEL is required for provider {settings.provider}")
    return name


def model_kwargs(settings: LLMSettings) -> dict[str, Any]:
    """The keyword arguments for ``init_chat_model``: the provider's names for the settings."""
    key = settings.api_key.get_secret_value() if settings.api_key else None
    common: dict[str, Any] = {"temperature": settings.temperature}
    match settings.provider:
        case "openai":
            return {
                **common,
                "http_async_client": _http_client(settings),
                "api_key": key or "unused",  # OpenAI-compatible servers often need none
                "base_url": settings.base_url,
                "timeout": settings.timeout_s,
                "max_retries": 0,
                "max_tokens": settings.max_tokens,
                "streaming": settings.streaming,
                "stream_usage": True,
            }
        case "azure_openai":
            if not settings.base_url or not settings.api_version:
                raise LLMConfigError(
                    "azure_openai needs TANDEM_LLM__BASE_URL (the endpoint) and "
                    "TANDEM_LLM__API_VERSION"
                )
            return {
                **common,
                "http_async_client": _http_client(settings),
                "api_key": key,
                "azure_endpoint": settings.base_url,
                "azure_deployment": model_name(settings),
                "api_version": settings.api_version,
                "timeout": settings.timeout_s,
                "max_retries": 0,
                "max_tokens": settings.max_tokens,
                "streaming": settings.streaming,
            }
        case "anthropic":
            if key is None:
                raise LLMConfigError("anthropic needs TANDEM_LLM__API_KEY")
            extra = {"base_url": settings.base_url} if settings.base_url else {}
            return {
                **common,
                **extra,
                "api_key": key,
                "timeout": settings.timeout_s,
                "max_retries": 0,
                "max_tokens": settings.max_tokens,
                "streaming": settings.streaming,
            }
        case "ollama":
            return {
                **common,
                "base_url": settings.base_url or "http://127.0.0.1:11434",
                "num_predict": settings.max_tokens,
                "client_kwargs": {"timeout": settings.timeout_s},
            }
    raise LLMConfigError(f"no LLM provider is set ({settings.provider})")


def _http_client(settings: LLMSettings) -> Any:
    """An HTTP client the model owns (``close_chat_model`` closes it), rather than the SDK's
    process-wide cached one."""
    import httpx

    return httpx.AsyncClient(timeout=settings.timeout_s)


async def close_chat_model(model: BaseChatModel) -> None:
    """Close the HTTP connections a model opened (OpenAI, Azure and Ollama models)."""
    owned = getattr(model, "http_async_client", None)
    if owned is not None:
        await owned.aclose()
    ollama = getattr(model, "_async_client", None) if type(model).__name__ == "ChatOllama" else None
    inner = getattr(ollama, "_client", None)
    if inner is not None:
        await inner.aclose()


def build_chat_model(settings: LLMSettings) -> BaseChatModel:
    """The provider's langchain chat model.

    Raises:
        LLMConfigError: For incomplete settings or a provider package that is not installed
            (``pip install 'tandem[llm]'``).
    """
    from langchain.chat_models import init_chat_model

    kwargs = model_kwargs(settings)
    try:
        model: BaseChatModel = init_chat_model(
            model_name(settings), model_provider=settings.provider, **kwargs
        )
    except ImportError as error:
        raise LLMConfigError(
            f"the {settings.provider} provider needs its langchain package: "
            f"pip install 'tandem[llm]' ({error})"
        ) from error
    return model
