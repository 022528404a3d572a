"""The partial fixture submissions are patches of `complete`: each applies, exactly."""

from __future__ import annotations

import ast
import re

import pytest

from tests.submission_patches import SUBMISSIONS, PatchError, apply_patch, patched_submissions

COMPLETE = (SUBMISSIONS / "complete" / "chat_application.py").read_text(encoding="utf-8")


def test_every_partial_submission_patch_applies_to_complete():
    staged = patched_submissions()
    assert {"no_limit", "no_memory", "no_ttl"} <= staged.keys()
    for name, text in staged.items():
        tree = ast.parse(text, filename=f"{name}.patch")
        defined = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        assert {"ChatApplication", "LimitedRedisChatHistory"} <= defined, name
        assert text != COMPLETE and text.startswith('"""Partial: '), name


def _second_hunk(text: str) -> re.Match[str]:
    hunks = list(re.finditer(r"^@@ -(\d+),(\d+) \+(\d+),(\d+) @@\n(.*)\n", text, re.MULTILINE))
    assert len(hunks) >= 2 and hunks[1][5].startswith(" "), "hunk 2 starts with context"
    return hunks[1]


def _context_changed(text: str) -> str:
    hunk = _second_hunk(text)
    return text[: hunk.start(5)] + " # a line the base does not have" + text[hunk.end(5) :]


def _malformed(text: str) -> str:
    hunk = _second_hunk(text)
    return text[: hunk.start(5)] + "~oops\n" + text[hunk.start(5) :]


def _miscounted(text: str) -> str:
    hunk = _second_hunk(text)
    old, new = int(hunk[2]) + 2, int(hunk[4]) + 2
    header = f"@@ -{hunk[1]},{old} +{hunk[3]},{new} @@"
    return text[: hunk.start()] + header + text[hunk.start() + len(hunk[0].split("\n")[0]) :]


def _base_missing(text: str) -> str:
    return text.replace("--- tests/fixtures/", "--- tests/missing/", 1)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # The base changed under the patch: a context line no longer matches.
        (_context_changed, r"hunk 2 no longer applies: line \d+ is"),
        (_malformed, "hunk 2 has a malformed line"),
        (_miscounted, r"hunk 2 has \d+ old lines, says \d+"),
        (_base_missing, "does not exist"),
    ],
)
def test_a_patch_that_no_longer_applies_fails_loudly(tmp_path, edit, message):
    text = (SUBMISSIONS / "no_ttl.patch").read_text(encoding="utf-8")
    patch = tmp_path / "no_ttl.patch"
    patch.write_text(edit(text), encoding="utf-8")
    assert patch.read_text(encoding="utf-8") != text
    with pytest.raises(PatchError, match=message):
        apply_patch(patch)
