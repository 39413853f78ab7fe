"""The models fitted for one version of the store, saved and loaded as a set.

A refit writes a new classifier and confidence file under a new name, then the state file that
names them (and the store version they were fitted for), replaced in one step. A process that
reads the state, another replica on a shared data directory included, loads one set, never one
file of each. The previous set is kept for a reader that read the state just before; other sets
are deleted once they are ten minutes old (another replica on the same directory may have just
written its own).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from knowledge.atomic import write_atomically
from knowledge.calibration import ConfidenceModel
from knowledge.classifier import ArticleClassifier

LEGACY_NAMES = ("classifier.npz", "confidence.json")
SET_KEPT_SECONDS = 600.0


class ModelFiles:
    """The model files of one collection, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state_file = folder / "state.json"

    def state(self) -> dict[str, Any]:
        """The saved state: ``fingerprint`` (the store version), ``embedding_model`` and
        ``files``. Raises FileNotFoundError if none was saved, ValueError if it is spoilt."""
        saved = json.loads(self.state_file.read_text())
        if not isinstance(saved, dict):
            raise ValueError(f"{self.state_file} holds no model state")
        return saved

    def load(self, state: dict[str, Any]) -> tuple[ArticleClassifier, ConfidenceModel]:
        """The set a state names (OSError or ValueError if a file is missing or spoilt)."""
        classifier_file, confidence_file = self._files(state)
        return ArticleClassifier.load(classifier_file), ConfidenceModel.load(confidence_file)

    def save(
        self, classifier: ArticleClassifier, confidence: ConfidenceModel, **state: object
    ) -> None:
        """Save a set, then the state naming it (with ``state``'s entries)."""
        try:
            previous = self.state()
            kept = {path.name for path in self._files(previous)} if "files" in previous else set()
        except (OSError, ValueError):
            kept = set()
        name = uuid.uuid4().hex[:12]
        files = {"classifier": f"classifier-{name}.npz", "confidence": f"confidence-{name}.json"}
        classifier.save(self.folder / files["classifier"])
        confidence.save(self.folder / files["confidence"])
        text = json.dumps({**state, "files": files}).encode()
        write_atomically(self.state_file, lambda handle: handle.write(text))
        self._delete_old(kept | set(files.values()))

    def update_state(self, **entries: object) -> None:
        """Rewrite the state with ``entries`` changed, naming the same files."""
        text = json.dumps({**self.state(), **entries}).encode()
        write_atomically(self.state_file, lambda handle: handle.write(text))

    def _delete_old(self, kept: set[str]) -> None:
        """Delete the sets no state names any more. An earlier release's fixed names go at once
        (rolled back to, it would load them as the current models; without them it refits).
        Another set goes once it is older than ``SET_KEPT_SECONDS``: a replica saving beside
        this one (a shared data directory) has just written its own."""
        stale = time.time() - SET_KEPT_SECONDS
        for path in [*self.folder.glob("classifier*.npz"), *self.folder.glob("confidence*.json")]:
            try:
                if path.name in kept:
                    continue
                if path.name in LEGACY_NAMES or path.stat().st_mtime < stale:
                    path.unlink()
            except FileNotFoundError:
                pass  # another replica deleted it first

    def _files(self, state: dict[str, Any]) -> tuple[Path, Path]:
        # An earlier release's state names no files: its files had fixed names.
        files = state.get("files") or {}
        return (
            self.folder / str(files.get("classifier", "classifier.npz")),
            self.folder / str(files.get("confidence", "confidence.json")),
        )
