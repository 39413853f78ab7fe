"""The ``tandem`` console script, run as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_KB
from tests.e2e.processes import TANDEM


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TANDEM_")}
    clean.update(env or {})
    return subprocess.run(
        [*(prefix or []), TANDEM, *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli")
    result = run(["kb", "ingest", str(SAMPLE_KB)], path)
    assert result.returncode == 0, result.stderr
    assert "added 25, updated 0, unchanged 0, failed 0" in result.stdout
    return path


@pytest.mark.parametrize(
    ("question", "article"),
    [
        ("Can I send back a sofa?", "returns-furniture"),
        ("My card keeps getting declined", "payment-declined"),
        ("When are you open on Saturday?", "opening-hours"),
    ],
)
def test_search_answers_with_the_right_article(workdir: Path, question: str, article: str) -> None:
    result = run(["kb", "search", question, "--json"], workdir)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["decision"] == "answer"
    assert found["articles"][0]["id"] == article


def test_search_says_how_much_of_the_question_the_article_covers(tmp_path: Path) -> None:
    """With few question variants the coverage check is on: search shows what it read."""
    faq = tmp_path / "faq.csv"
    faq.write_text(
        "id,question,answer\n"
        "refunds,How long do refunds take?,We refund within 3 working days of receiving it.\n"
        "hours,When are you open?,Monday to Saturday 9 to 6.\n"
        "delivery,How much is delivery?,Delivery is free over 50 pounds.\n"
        "returns,How do I return an item?,Use the returns page within 30 days.\n"
    )
    assert run(["kb", "ingest", str(faq)], tmp_path).returncode == 0
    found = json.loads(run(["kb", "search", "how long do refunds take", "--json"], tmp_path).stdout)
    assert 0 <= found["uncovered"] <= 1
    shown = run(["kb", "search", "how long do refunds take"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "the best article's words cover" in shown.stdout


def test_search_on_an_empty_knowledge_base_says_so(tmp_path: Path) -> None:
    empty = run(["kb", "search", "how long do refunds take?"], tmp_path)
    assert empty.returncode == 0, empty.stderr
    assert "the knowledge base is empty: add articles with `tandem kb ingest FILE`" in empty.stdout


def test_reingest_is_unchanged_and_bad_files_are_reported(workdir: Path) -> None:
    bad = workdir / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    result = run(["kb", "ingest", str(SAMPLE_KB), str(bad)], workdir)
    assert result.returncode == 1
    assert "added 0, updated 0, unchanged 25, failed 1" in result.stdout
    assert f"failed: {bad}: missing column(s) id, question, answer" in result.stderr


def test_list_stats_remove(workdir: Path) -> None:
    listing = run(["kb", "list"], workdir)
    assert "gift-cards" in listing.stdout
    stats = json.loads(run(["kb", "stats", "--json"], workdir).stdout)
    assert stats["articles"] == 30 and stats["calibrated"] is True
    assert (stats["live_answers"], stats["live_answer_rejection_rate"]) == (0, None)
    assert (stats["live_reviewed_answers"], stats["live_reviewed_precision"]) == (0, None)
    assert run(["kb", "remove", "gift-cards"], workdir).returncode == 0
    missing = run(["kb", "remove", "gift-cards"], workdir)
    assert missing.returncode == 1 and "no article 'gift-cards'" in missing.stderr
    assert json.loads(run(["kb", "stats", "--json"], workdir).stdout)["articles"] == 29


def test_calibrate_prints_expected_figures(workdir: Path) -> None:
    result = run(["kb", "calibrate", "--target-precision", "0.85"], workdir)
    assert result.returncode == 0, result.stderr
    assert "expected precision" in result.stdout and "expected deflection" in result.stdout
    assert "caution" not in result.stderr, "the sample has a dozen question variants an article"
    assert json.loads(run(["kb", "stats", "--json"], workdir).stdout)["target_precision"] == 0.85


@pytest.mark.parametrize("learned", ["few_variants", "off"])
def test_a_knowledge_base_with_few_question_variants_is_cautioned(
    tmp_path: Path, learned: str
) -> None:
    """Three variants an article: calibration would promise more than it keeps where
    out-of-scope questions sound like the knowledge base, and the admin is told so, or that
    the confidence learned across deployments decides instead."""
    env = {"TANDEM_KNOWLEDGE__LEARNED_CONFIDENCE": learned}
    topics = ("delivery times", "opening hours", "gift wrapping", "store locations")
    rows = [
        {"id": topic, "question": f"{ask} {topic}", "answer": f"All about {topic}."}
        for topic in topics
        for ask in ("tell me about", "what are your", "question on")
    ]
    faq = tmp_path / "faq.jsonl"
    faq.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert run(["kb", "ingest", str(faq)], tmp_path, env).returncode == 0
    calibrated = run(["kb", "calibrate"], tmp_path, env)
    assert calibrated.returncode == 0, calibrated.stderr
    told = (
        "note: with a median of 3 question variant(s) an article, the bot answers on the "
        "confidence learned"
        if learned == "few_variants"
        else "caution: articles have a median of 3 question variant(s)"
    )
    assert told in calibrated.stderr
    figures = json.loads(run(["kb", "stats", "--json"], tmp_path, env).stdout)
    assert figures["median_question_variants"] == 3
    assert figures["learned_confidence"] is (learned == "few_variants")
    assert told in run(["kb", "stats"], tmp_path, env).stderr


def test_calibration_says_when_the_bot_will_answer_little(tmp_path: Path) -> None:
    """A small knowledge base whose held-out articles are answered by their siblings: the
    threshold keeps only the top of the confidences, and the admin is told what that means."""
    faq = Path(__file__).resolve().parents[2] / "bench" / "live_traffic_2" / "car_rental.faq.jsonl"
    env = {"TANDEM_KNOWLEDGE__LEARNED_CONFIDENCE": "off"}  # what calibration alone would do
    assert run(["kb", "ingest", str(faq)], tmp_path, env).returncode == 0
    calibrated = run(["kb", "calibrate"], tmp_path, env)
    assert calibrated.returncode == 0, calibrated.stderr
    assert re.search(
        r"note: at this threshold the bot is expected to answer \d+% of the questions it could "
        r"answer itself; agents get the rest",
        calibrated.stderr,
    )
    assert "caution: articles have a median of 5 question variant(s)" in calibrated.stderr


def test_a_shared_article_id_is_warned_and_a_removed_article_comes_back(tmp_path: Path) -> None:
    faq = tmp_path / "faq.jsonl"
    faq.write_text(
        "".join(
            json.dumps({"id": topic, "question": f"what about {topic}", "answer": topic}) + "\n"
            for topic in ("delivery", "returns", "gift-wrapping")
        )
    )
    other = tmp_path / "more.jsonl"
    other.write_text(json.dumps({"id": "returns", "question": "refunds?", "answer": "Yes."}))
    result = run(["kb", "ingest", str(faq), str(other)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"warning: article 'returns' in {other} is also in {faq}" in result.stderr
    assert run(["kb", "remove", "gift-wrapping"], tmp_path).returncode == 0
    again = run(["kb", "ingest", str(faq)], tmp_path)
    assert "added 0, updated 1, unchanged 0, failed 0" in again.stdout, again.stdout
    assert "gift-wrapping" in run(["kb", "list"], tmp_path).stdout
    assert run(["kb", "remove", "gift-wrapping"], tmp_path).returncode == 0
    assert run(["kb", "remove", "delivery"], tmp_path).returncode == 0
    two = run(["kb", "calibrate"], tmp_path)
    assert two.returncode == 0, two.stderr
    assert two.stdout.startswith("not calibrated: calibration needs at least 3 articles")
    assert "default threshold 0.500" in two.stdout and "escalate everything" not in two.stdout


def test_every_command_has_help(tmp_path: Path) -> None:
    for command in (
        ["--help"],
        ["kb", "--help"],
        ["kb", "ingest", "--help"],
        ["kb", "search", "--help"],
        ["kb", "calibrate", "--help"],
        ["eval", "--help"],
        ["config", "show", "--help"],
        ["serve", "--help"],
        ["agents", "add", "--help"],
        ["kb", "suggestions", "--help"],
        ["kb", "accept", "--help"],
        ["slack", "manifest", "--help"],
        ["teams", "package", "--help"],
    ):
        result = run(command, tmp_path)
        assert result.returncode == 0 and "Usage:" in result.stdout, command


def test_invalid_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run(["config", "show"], tmp_path, env={"TANDEM_SERVER__PORT": "99999"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "TANDEM_SERVER__PORT" in result.stderr and "Traceback" not in result.stderr


def test_serve_where_it_cannot_listen_exits_with_one_line_before_starting(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["serve", "--host", "127.0.0.1", "--port", str(port)], tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"tandem: cannot serve on 127.0.0.1:{port}: Address already in use\n"
    assert not (tmp_path / "data").exists(), "nothing opened before the check"
    out_of_range = run(["serve", "--port", "70000"], tmp_path)
    assert out_of_range.returncode == 2 and "70000 is not in the range" in out_of_range.stderr


def test_a_data_directory_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    env = {"TANDEM_KNOWLEDGE__DATA_DIR": str(tmp_path / "afile" / "data")}
    result = run(["kb", "stats"], tmp_path, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("tandem: [Errno 20] Not a directory")


def test_bad_options_and_env_files_are_named(tmp_path: Path) -> None:
    missing = run(["--env-file", "nope.env", "config", "show"], tmp_path)
    assert missing.returncode == 2 and "no such file: nope.env" in missing.stderr
    (tmp_path / "typo.env").write_text("TANDEM_BOGUS=1\n")
    typo = run(["--env-file", "typo.env", "config", "show"], tmp_path)
    assert typo.returncode == 2 and "invalid setting TANDEM_BOGUS:" in typo.stderr
    limit = run(["kb", "search", "hello", "--limit", "-1"], tmp_path)
    assert limit.returncode == 2 and "-1 is not in the range 1<=x<=20" in limit.stderr


def test_a_misnamed_setting_in_the_environment_is_named_with_its_likely_name(
    tmp_path: Path,
) -> None:
    env = {
        "TANDEM_DATA_DIR": str(tmp_path / "elsewhere"),
        "TANDEM_API_KEY": "sk-1",
        "tandem_knowledge__follow_traffic_share": "false",  # names are not case-sensitive
        "TANDEM_ESCALATION__TOPIC_PATTERNS__REFUNDS": "refund",  # an entry of a mapping
        "TANDEM_AGENT_PASSWORD": "read by agents add",
    }
    result = run(["config", "show"], tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "tandem: warning: unknown setting TANDEM_API_KEY is ignored "
        "(did you mean TANDEM_EMBEDDINGS__API_KEY or TANDEM_LLM__API_KEY?)",
        "tandem: warning: unknown setting TANDEM_DATA_DIR is ignored "
        "(did you mean TANDEM_KNOWLEDGE__DATA_DIR?)",
    ]
    assert json.loads(result.stdout)["knowledge"]["follow_traffic_share"] is False


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    result = run(["config", "show"], tmp_path, env={"TANDEM_SLACK__BOT_TOKEN": "xoxb-123"})
    shown = json.loads(result.stdout)
    assert shown["slack"]["bot_token"] == "**********"
    assert "xoxb-123" not in result.stdout


def test_ingest_and_search_work_without_network(tmp_path: Path) -> None:
    """Under a network namespace with no interfaces, nothing can be downloaded."""
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"unshare -n is unavailable in CI: {probe.stderr!r}")
        pytest.skip("unshare -n is unavailable here")
    offline = ["unshare", "-n"]
    assert run(["kb", "ingest", str(SAMPLE_KB)], tmp_path, prefix=offline).returncode == 0
    result = run(["kb", "search", "how do I reset my password", "--json"], tmp_path, prefix=offline)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["articles"][0]["id"] == "account-password"


def test_agents_suggestions_accept_and_manifest(tmp_path: Path) -> None:
    faq = tmp_path / "faq.csv"
    faq.write_text(
        "id,question,answer\n"
        "returns,How do I return an item?,Use the returns page within 30 days.\n"
        "returns,Can I send something back?,\n"
        "hours,When are you open?,Monday to Saturday 9 to 6.\n"
        "hours,What are your opening hours?,\n"
    )
    assert run(["kb", "ingest", str(faq)], tmp_path).returncode == 0
    added = run(
        ["agents", "add", "alice", "--name", "Alice"],
        tmp_path,
        env={"TANDEM_AGENT_PASSWORD": "long-enough-password"},
    )
    assert added.returncode == 0 and "agent 'alice' saved" in added.stdout
    short = run(["agents", "add", "bob"], tmp_path, env={"TANDEM_AGENT_PASSWORD": "short"})
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    for username in ("", "bad name!", "x" * 65):
        refused = run(["agents", "add", username], tmp_path, env={"TANDEM_AGENT_PASSWORD": "p" * 9})
        assert refused.returncode == 2 and "use 1 to 64 letters" in refused.stderr, username

    asyncio.run(_learned_suggestion(tmp_path / "data" / "tandem.db"))
    listed = run(["kb", "suggestions"], tmp_path)
    assert "Do you gift wrap?" in listed.stdout and "Alice" in listed.stdout
    assert "answer" in listed.stdout.split("\n")[3], "the kind: what accepting it does"
    missing = run(["kb", "accept", "99"], tmp_path)
    assert missing.returncode == 1 and "no pending suggestion #99" in missing.stderr
    accepted = run(["kb", "accept", "1"], tmp_path)
    assert accepted.returncode == 0, accepted.stderr
    twice = run(["kb", "accept", "1", "--reject"], tmp_path)
    assert twice.returncode == 1 and "suggestion #1 was already accepted" in twice.stderr
    found = json.loads(run(["kb", "search", "Do you gift wrap?", "--json"], tmp_path).stdout)
    assert found["articles"][0]["id"] == "learned-1"
    assert "no pending suggestions" in run(["kb", "suggestions"], tmp_path).stdout

    manifest = run(["slack", "manifest", "--url", "https://help.example.org"], tmp_path)
    body = json.loads(manifest.stdout)
    assert body["settings"]["interactivity"]["request_url"] == (
        "https://help.example.org/slack/events"
    )
    assert run(["slack", "manifest", "--url", "http://x"], tmp_path).returncode == 2


async def _learned_suggestion(database: Path) -> None:
    from dataclasses import replace

    from bot.ports import Change
    from integrations.storage import open_store

    store = await open_store(f"sqlite:///{database}")
    conversation = await store.create_conversation("c1", "web", "hash", None)
    await store.apply(
        Change(
            replace(conversation),
            suggestion=(
                "Do you gift wrap?",
                "Yes, add gift wrap at checkout for 3 pounds.",
                "Alice",
            ),
        )
    )
    await store.close()


def test_teams_package(tmp_path: Path) -> None:
    import struct
    import zipfile

    env = {
        "TANDEM_TEAMS__APP_ID": "11111111-2222-3333-4444-555555555555",
        "TANDEM_SERVER__PUBLIC_URL": "https://help.example.org",
    }
    built = run(["teams", "package", "--out", "app.zip"], tmp_path, env=env)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        sizes = {
            name: struct.unpack(">II", archive.read(name)[16:24])
            for name in ("color.png", "outline.png")
        }
    assert manifest["bots"][0]["botId"] == env["TANDEM_TEAMS__APP_ID"] == manifest["id"]
    assert manifest["validDomains"] == ["help.example.org"]
    rsc = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in rsc
    assert manifest["webApplicationInfo"]["id"] == env["TANDEM_TEAMS__APP_ID"]
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}
    assert "TANDEM_TEAMS__PRIVACY_URL" in built.stderr, "no page is served at /privacy"
    pages = {
        "TANDEM_TEAMS__PRIVACY_URL": "https://example.org/privacy-statement",
        "TANDEM_TEAMS__TERMS_URL": "https://example.org/terms-of-use",
    }
    owned = run(["teams", "package", "--out", "owned.zip"], tmp_path, env={**env, **pages})
    assert owned.returncode == 0 and "warning" not in owned.stderr
    with zipfile.ZipFile(tmp_path / "owned.zip") as archive:
        developer = json.loads(archive.read("manifest.json"))["developer"]
    assert developer["privacyUrl"] == pages["TANDEM_TEAMS__PRIVACY_URL"]
    assert developer["termsOfUseUrl"] == pages["TANDEM_TEAMS__TERMS_URL"]
    missing = run(["teams", "package"], tmp_path)
    assert missing.returncode == 2 and "TANDEM_TEAMS__APP_ID is required" in missing.stderr
    insecure = run(
        ["teams", "package"],
        tmp_path,
        env={**env, "TANDEM_SERVER__PUBLIC_URL": "http://help.example.org"},
    )
    assert insecure.returncode == 2 and "https://" in insecure.stderr
