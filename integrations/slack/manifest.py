"""The Slack app manifest. ``manifest.json`` at the repository root is this with the
placeholder host; ``tandem slack manifest --url https://host`` prints it for a real host."""

from __future__ import annotations

from typing import Any

PLACEHOLDER = "https://tandem.example.com"
BOT_SCOPES = [
    "chat:write",  # post and update cards, thread relays
    "commands",  # /kb
    "channels:history",  # thread replies in public agent channels
    "groups:history",  # … and in private ones
    "users:read",  # agents' display names, shown to customers
    "usergroups:read",  # the admin group for /kb
]


def build_manifest(url: str = PLACEHOLDER) -> dict[str, Any]:
    endpoint = url.rstrip("/") + "/slack/events"
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Tandem",
            "description": "Escalated customer conversations: approve, edit or take over the "
            "bot's draft.",
            "background_color": "#1d3557",
        },
        "features": {
            "bot_user": {"display_name": "Tandem", "always_online": True},
            "slash_commands": [
                {
                    "command": "/kb",
                    "url": endpoint,
                    "description": "Manage Tandem's knowledge base",
                    "usage_hint": "help | search QUESTION | add | show ID | remove ID | list | "
                    "stats | suggestions | accept ID | gaps | review",
                    "should_escape": False,
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": {
                "request_url": endpoint,
                "bot_events": ["message.channels", "message.groups"],
            },
            "interactivity": {"is_enabled": True, "request_url": endpoint},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }
