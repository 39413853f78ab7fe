from __future__ import annotations

import re
from pathlib import Path

import pytest

from config import SettingsError, load_settings, masked_settings


def test_nested_environment_variables(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_KNOWLEDGE__TOP_K", "7")
    monkeypatch.setenv("TANDEM_SLACK__BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("TANDEM_SLACK__SIGNING_SECRET", "shh")
    settings = load_settings(None)
    assert settings.knowledge.top_k == 7
    assert settings.slack.enabled
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-secret"


def test_dotenv_file_is_read(clean_env: Path) -> None:
    (clean_env / "custom.env").write_text("TANDEM_SERVER__PORT=9123\n")
    assert load_settings(clean_env / "custom.env").server.port == 9123


def test_secrets_are_masked(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_SLACK__BOT_TOKEN", "xoxb-secret")
    shown = masked_settings(load_settings(None))
    assert shown["slack"]["bot_token"] == "**********"
    assert "xoxb-secret" not in repr(shown)


def test_invalid_setting_names_the_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANDEM_KNOWLEDGE__TOP_K", "lots")
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    message = str(caught.value)
    assert "TANDEM_KNOWLEDGE__TOP_K" in message
    assert "\n" not in message


def test_example_env_is_valid(clean_env: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "example.env"
    settings = load_settings(example)
    assert settings.embeddings.provider == "minilm-onnx"


def test_example_env_shows_the_real_default_of_every_number_and_switch(clean_env: Path) -> None:
    """A commented-out line shows the default an operator gets by leaving it out (a documented
    30 conversations a minute that was really 10 sent a tester into 429s)."""
    settings = load_settings(None)
    example = Path(__file__).resolve().parents[2] / "config" / "example.env"
    wrong = []
    for line in example.read_text().splitlines():
        found = re.match(r"#\s*TANDEM_([A-Z]+)__([A-Z_]+)=(\S+)", line)
        if not found:
            continue
        section, key, shown = found.group(1).lower(), found.group(2).lower(), found.group(3)
        default = getattr(getattr(settings, section), key)
        if isinstance(default, bool):
            same = shown.lower() == str(default).lower()
        elif isinstance(default, int | float):
            same = float(shown) == float(default)
        else:
            continue
        if not same:
            wrong.append(f"{found.group(0)} (default {default})")
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TANDEM_ESCALATION__TOPIC_EXAMPLES", '{"gratitude": ["thanks a lot"]}'),
        ("TANDEM_ESCALATION__TOPIC_PATTERNS", '{"frustration": "annoyed"}'),
    ],
)
def test_a_topic_may_not_take_a_signals_name(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A topic named after a signal would be read into that signal's level."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    assert variable in str(caught.value) and "not a topic" in str(caught.value)
