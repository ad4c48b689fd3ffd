"""docs/troubleshooting.md quotes the messages users see; keep it from drifting away from the source.

Each table row's first cell quotes a message in backticks, with ``<...>`` for the parts that vary.
The literal text between those placeholders must still appear in the source that produces the
messages (the modules, module_utils and filters in plugins/, and the roles' tasks and templates,
whitespace folded as YAML folds ``>-`` scalars). Short pieces (under three letters) and the
punctuation at a piece's ends are not checked: they are the glue between ``%s`` in the source.
"""

import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "troubleshooting.md"
SOURCES = ("plugins/**/*.py", "roles/*/tasks/*.yml", "roles/*/templates/*.j2")
PLACEHOLDER = re.compile(r"<[^<>]+>")
CODE = re.compile(r"`([^`]+)`")
EDGE = " \t:;,.()[]'\"="


def source_text():
    text = " ".join(path.read_text(encoding="utf-8") for pattern in SOURCES for path in sorted(REPO.glob(pattern)))
    return " ".join(text.split())


def quoted_messages(markdown):
    """(line number, message) of every backticked span in the first cell of a table row."""
    out = []
    for number, line in enumerate(markdown.splitlines(), 1):
        if not line.startswith("|") or re.match(r"^\|[-| ]+\|$", line):
            continue
        first = line.split("|")[1]
        out.extend((number, message) for message in CODE.findall(first))
    return out


def pieces(message):
    """The literal pieces of a quoted message that the source must contain."""
    out = []
    for piece in PLACEHOLDER.split(message):
        piece = " ".join(piece.split()).strip(EDGE)
        if len(re.findall(r"[A-Za-z]", piece)) >= 3:
            out.append(piece)
    return out


def missing_pieces(message, source):
    return [piece for piece in pieces(message) if piece not in source]


def test_every_quoted_message_is_still_in_the_source():
    source = source_text()
    messages = quoted_messages(PAGE.read_text(encoding="utf-8"))
    # the page has its tables: an empty parse must not pass
    assert len(messages) >= 60, messages
    stale = ["line %d: `%s` lacks %s" % (number, message, missing) for number, message in messages
             for missing in [missing_pieces(message, source)] if missing]
    assert not stale, "docs/troubleshooting.md quotes messages the source no longer has:\n" + "\n".join(stale)


@pytest.mark.parametrize("message, expected", [
    ("<what> is not ready after <N>s: <reasons>", ["is not ready after"]),
    ("pod <pod>: <N> under-replicated partition(s)", ["pod", "under-replicated partition(s"]),
    ("namespace '<ns>' does not exist and streams_create_namespace is false",
     ["namespace", "does not exist and streams_create_namespace is false"]),
])
def test_pieces_are_the_literal_text_between_placeholders(message, expected):
    assert pieces(message) == expected


def test_a_message_the_source_does_not_have_is_reported():
    source = source_text()
    assert missing_pieces("pod <pod>: <N> under-replicated partition(s)", source) == []
    assert missing_pieces("pod <pod>: <N> partitions are sad today", source) == ["partitions are sad today"]
    assert missing_pieces("<what> is not ready before <N>s", source) == ["is not ready before"]


def test_the_page_is_linked_from_the_readme_and_the_architecture():
    for doc in ("README.md", "docs/architecture.md"):
        assert "troubleshooting.md" in (REPO / doc).read_text(encoding="utf-8"), doc
