"""The browser tests' fixtures (defined with the first browser test) for every e2e module."""

from tests.e2e.test_browser import base_url, browser

__all__ = ["base_url", "browser"]
