"""The Teams app package: manifest.json and the colour and outline icons, zipped for
sideloading. Icons are drawn here (plain PNG), so no image library is needed."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from config import Settings

MANIFEST_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.16/MicrosoftTeams.schema.json"
)
ACCENT = (0x1D, 0x35, 0x57)
KB_COMMANDS = [
    ("kb search", "What the bot would answer, with its confidence"),
    ("kb stats", "Knowledge base size and answer threshold"),
    ("kb gaps", "Recent questions the bot was unsure of"),
    ("kb suggestions", "Answers agents edited, waiting for review"),
    ("kb accept", "Accept a suggestion into the knowledge base"),
    ("kb remove", "Remove an article"),
    ("kb review", "Grade the bot's answers, drawn at random"),
]


class PackageError(ValueError):
    """The settings cannot make a valid package (the message says which)."""


def _png(size: int, pixel: Any) -> bytes:
    """An RGBA PNG of ``size``×``size``; ``pixel(x, y)`` gives each (r, g, b, a)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def color_icon() -> bytes:
    """192×192: the accent colour with a white "T"."""

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        bar = 48 <= y < 72 and 40 <= x < 152
        stem = 72 <= y < 152 and 84 <= x < 108
        return (255, 255, 255, 255) if bar or stem else (*ACCENT, 255)

    return _png(192, pixel)


def outline_icon() -> bytes:
    """32×32: a white "T" on transparency, as Teams asks of outline icons."""

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        on = (6 <= y < 10 and 6 <= x < 26) or (10 <= y < 27 and 14 <= x < 18)
        return (255, 255, 255, 255) if on else (0, 0, 0, 0)

    return _png(32, pixel)


def build_manifest(settings: Settings) -> dict[str, Any]:
    app_id = settings.teams.app_id
    if not app_id:
        raise PackageError("TANDEM_TEAMS__APP_ID is required (the Azure Bot's app id)")
    url = settings.server.public_url
    host = urlparse(url)
    if host.scheme != "https" or not host.hostname:
        raise PackageError(f"TANDEM_SERVER__PUBLIC_URL must be an https:// URL (got '{url}')")
    commands = [{"title": t, "description": d} for t, d in KB_COMMANDS]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": "1.16",
        "version": "1.0.0",
        "id": app_id,
        "developer": {
            "name": "Tandem",
            "websiteUrl": url,
            "privacyUrl": settings.teams.privacy_url or f"{url}/privacy",
            "termsOfUseUrl": settings.teams.terms_url or f"{url}/terms",
        },
        "name": {"short": "Tandem", "full": "Tandem customer-service hand-over"},
        "description": {
            "short": "Escalated customer conversations for your agents.",
            "full": "Tandem posts escalated customer conversations as cards with a summary and "
            "a draft reply. Approve or edit the draft, or take over the conversation.",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["team", "personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": ["team", "personal"], "commands": commands}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host.hostname],
        # Resource-specific consent: the bot receives every message in the agent team's
        # channels, so replies in a card's thread reach it without an @mention.
        "webApplicationInfo": {"id": app_id, "resource": f"api://{host.hostname}/{app_id}"},
        "authorization": {
            "permissions": {
                "resourceSpecific": [{"name": "ChannelMessage.Read.Group", "type": "Application"}]
            }
        },
    }


def write_package(settings: Settings, out: Path) -> Path:
    """Write the zip; raises ``PackageError`` on settings Teams would refuse."""
    manifest = build_manifest(settings)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return out
