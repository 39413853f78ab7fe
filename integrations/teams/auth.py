"""Bot Framework request authentication that never blocks and never fails open.

botbuilder's token checker fetches the OpenID signing keys with a blocking ``requests.get``
without a timeout, and lets decoding errors escape as 500s. Here the keys are fetched with
aiohttp, bounded by a timeout, cached and refreshed by one caller at a time; and
:func:`authenticate` turns every failure into ``PermissionError``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from botbuilder.schema import Activity
from botframework.connector.auth import BotFrameworkAuthentication
from botframework.connector.auth import jwt_token_extractor as extractor

logger = logging.getLogger(__name__)
FETCH_TIMEOUT = 5.0
RETRY_AFTER = timedelta(seconds=30)


class AsyncOpenIdMetadata(extractor._OpenIdMetadata):  # type: ignore[misc]
    """Signing keys fetched asynchronously, bounded by a timeout, one refresh at a time."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._lock = asyncio.Lock()
        self._retry_after = datetime.min

    async def get(self, key_id: str) -> Any:
        async with self._lock:
            if datetime.now() < self._retry_after:
                raise PermissionError("Bot Framework signing keys unavailable")
            return await super().get(key_id)

    async def _refresh(self) -> None:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(self.url) as response:
                    response.raise_for_status()
                    keys_url = (await response.json(content_type=None))["jwks_uri"]
                async with session.get(keys_url) as response:
                    response.raise_for_status()
                    keys = (await response.json(content_type=None))["keys"]
        except (aiohttp.ClientError, TimeoutError, KeyError, TypeError, ValueError) as error:
            # Do not hammer the endpoint (or stall every request) while it is down.
            self._retry_after = datetime.now() + RETRY_AFTER
            raise PermissionError("Bot Framework signing keys unavailable") from error
        self.keys = keys
        self.last_updated = datetime.now()

    def _find(self, key_id: str) -> Any:
        if not any(isinstance(k, dict) and k.get("kid") == key_id for k in self.keys):
            return None
        return super()._find(key_id)


def _metadata(url: str) -> AsyncOpenIdMetadata:
    cache = extractor.JwtTokenExtractor.metadataCache
    metadata = cache.get(url)
    if not isinstance(metadata, AsyncOpenIdMetadata):
        metadata = cache[url] = AsyncOpenIdMetadata(url)
    return metadata


def install() -> None:
    """Make botbuilder's token checker use :class:`AsyncOpenIdMetadata`."""
    extractor.JwtTokenExtractor.get_open_id_metadata = staticmethod(lambda url: _metadata(url))


async def authenticate(
    authentication: BotFrameworkAuthentication, body: Any, auth_header: str
) -> None:
    """Check a request's token before anything is processed.

    Raises:
        PermissionError: For any malformed, forged or unverifiable token or activity.
    """
    try:
        activity = Activity().deserialize(body)
        await authentication.authenticate_request(activity, auth_header)
    except PermissionError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure here is a refusal
        logger.info("Bot Framework token refused: %s", type(error).__name__)
        raise PermissionError("invalid token") from error
