from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.errors import SourceError
from knowledge.loaders import load

LIMITS = {"max_bytes": 100_000, "chunk_size": 400, "chunk_overlap": 50}


def test_csv_rows_sharing_an_id_are_question_variants(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "id,question,answer,title,url,tags\n"
        "ret,How do I return?,Use the returns page.,Returns,"
        'https://x.example/r,"returns, policy"\n'
        "ret,Can I send it back?,,,,\n"
        "pay,How can I pay?,By card.,,,\n"
    )
    document = load(path, **LIMITS)
    articles = {a.id: a for a in document.articles}
    assert articles["ret"].questions == ("How do I return?", "Can I send it back?")
    assert articles["ret"].passages == ("Use the returns page.",)
    assert articles["ret"].url == "https://x.example/r"
    assert articles["ret"].tags == ("returns", "policy")
    assert articles["pay"].title == "How can I pay?"


def test_jsonl_faq(tmp_path: Path) -> None:
    path = tmp_path / "faq.jsonl"
    rows = [{"id": "a", "question": "q1", "answer": "A."}, {"id": "a", "question": "q2"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    (article,) = load(path, **LIMITS).articles
    assert article.questions == ("q1", "q2")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("wrong.csv", "q,a\nx,y\n", "missing column(s) id, question, answer"),
        ("empty.md", "   \n", "file is empty"),
        ("binary.txt", b"\x00\x01\x02abc", "binary content"),
        ("latin.txt", "caf\xe9".encode("latin-1"), "not UTF-8"),
        (
            "bad.jsonl",
            '{"id": "a", "question": "q", "answer": "a"}\n{oops\n',
            "line 2: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        ),
        ("noanswer.jsonl", '{"id": "a", "question": "q", "answer": ""}\n', "has no answer"),
        ("slides.pdf", "x", "unsupported file type .pdf"),
    ],
)
def test_bad_files_get_a_clear_reason(
    tmp_path: Path, name: str, content: str | bytes, reason: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(SourceError) as caught:
        load(path, **LIMITS)
    assert reason in caught.value.reason
    assert str(path) in str(caught.value)


def test_huge_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("word " * 30_000)
    with pytest.raises(SourceError, match="the limit is 0.1 MB"):
        load(path, **LIMITS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read"):
        load(tmp_path / "nope.md", **LIMITS)


def test_markdown_front_matter_and_sections(tmp_path: Path) -> None:
    path = tmp_path / "returns.md"
    path.write_text(
        "---\nid: returns\nurl: https://x.example/returns\n"
        "questions:\n  - Can I send it back?\n---\n"
        "# Returns\n\nIntro text.\n\n## Furniture\n\n" + "Collect from home. " * 60
    )
    (article,) = load(path, **LIMITS).articles
    assert article.id == "returns"
    assert article.title == "Returns"
    assert article.questions == ("Returns", "Can I send it back?")
    assert article.passages[0].startswith("Returns\nIntro text.")
    furniture = [p for p in article.passages if p.startswith("Returns › Furniture")]
    assert len(furniture) >= 2, "a long section is split into several chunks"
    assert all(len(p) <= 400 + len("Returns › Furniture\n") for p in furniture)


def test_html_keeps_headings_and_drops_scripts(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Delivery</title><script>alert(1)</script></head><body>"
        "<nav>menu</nav><h1>Delivery</h1><p>Three days.</p><h2>Abroad</h2><p>Eight days.</p>"
        "</body></html>"
    )
    (article,) = load(path, **LIMITS).articles
    assert article.title == "Delivery"
    assert any("Delivery › Abroad\nEight days." == p for p in article.passages)
    assert not any("alert" in p or "menu" in p for p in article.passages)


def test_a_text_said_twice_in_an_article_is_one_chunk(tmp_path: Path) -> None:
    """The same text pasted many times (a degenerate export) is one chunk, so it cannot
    outweigh the other articles in calibration."""
    from knowledge.documents import chunks_of

    path = tmp_path / "hours.md"
    path.write_text("# Opening hours\n\n" + "open nine to five " * 2000)
    document = load(path, **LIMITS)
    passages = [c for c in chunks_of(document) if c.kind == "passage"]
    assert len(document.articles[0].passages) > 50, "the splitter repeats itself"
    assert len(passages) == len({c.text for c in passages}) <= 5
