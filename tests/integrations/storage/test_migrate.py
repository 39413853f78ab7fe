"""Migrations: ``HEAD`` names the newest revision, a new database is migrated to it, and one
already there is opened without loading Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from integrations.storage.migrate import HEAD, MIGRATIONS, current_revision, migrate


def test_head_is_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_a_new_database_is_migrated_to_head(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    with engine.begin() as connection:
        assert current_revision(connection) is None
        migrate(connection)
        assert current_revision(connection) == HEAD


def test_a_database_at_head_opens_without_alembic(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'head.db'}")
    with engine.begin() as connection:
        migrate(connection)
    opened = (
        "import sys; from sqlalchemy import create_engine;"
        "from integrations.storage.migrate import migrate;"
        f"c = create_engine('sqlite:///{tmp_path / 'head.db'}').connect(); migrate(c);"
        "print('alembic' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", opened], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.strip() == "False"
