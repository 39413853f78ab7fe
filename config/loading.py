"""Build the settings once, and turn validation errors into one readable line."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from config.settings import Settings


class SettingsError(Exception):
    """An invalid or missing setting. ``str(error)`` names the setting and says why."""


def _env_name(location: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in location if not isinstance(part, int)]
    if not parts:
        return "TANDEM_*"
    name = "__".join(parts).upper()
    # An unknown entry of a dotenv file is reported under its own full name.
    return name if name.startswith("TANDEM_") else f"TANDEM_{name}"


def load_settings(env_file: Path | str | None = ".env", **overrides: Any) -> Settings:
    """Read settings from the environment and ``env_file``.

    Args:
        env_file: A dotenv file to read; missing files are ignored.
        **overrides: Values that win over the environment (used by tests and the CLI).

    Raises:
        SettingsError: with one line per invalid setting.
    """
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            name = _env_name(tuple(item.get("loc", ())))
            problems.append(f"{name}: {item.get('msg', 'invalid')} (got {item.get('input')!r})")
        raise SettingsError("invalid setting " + "; ".join(problems)) from None


# TANDEM_ variables that are read elsewhere, not settings.
OTHER_VARIABLES = frozenset({"TANDEM_AGENT_PASSWORD"})


def setting_names() -> list[str]:
    """Every setting's environment variable (``TANDEM_SECTION__FIELD``)."""
    names = []
    for section, field in Settings.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += [f"TANDEM_{section}__{name}".upper() for name in model.model_fields]
    return names


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A line for each ``TANDEM_`` variable in ``environ`` that is no setting, with the
    setting it most likely meant: a misspelt variable is otherwise silently ignored (an
    unknown entry of a dotenv file is an error)."""
    names = setting_names()
    sections = {name.split("__")[0] for name in names}
    lines = []
    for key in sorted(environ):
        upper = key.upper()
        if not upper.startswith("TANDEM_") or upper in OTHER_VARIABLES:
            continue
        parts = upper.split("__")
        if parts[0] in sections and (len(parts) == 1 or "__".join(parts[:2]) in names):
            continue  # a whole section as JSON, a setting, or an entry of a mapping setting
        tail = [n for n in names if n.endswith("__" + upper.removeprefix("TANDEM_"))]
        guess = tail or difflib.get_close_matches(upper, names, n=1, cutoff=0.8)
        hint = f" (did you mean {' or '.join(guess)}?)" if guess else ""
        lines.append(f"unknown setting {key} is ignored{hint}")
    return lines


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "**********" if value.get_secret_value() else ""
    if isinstance(value, Mapping):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def masked_settings(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, with every secret masked."""
    raw = {name: getattr(settings, name) for name in type(settings).model_fields}
    return {
        name: _mask(dict(section)) if isinstance(section, BaseModel) else _mask(section)
        for name, section in raw.items()
    }
