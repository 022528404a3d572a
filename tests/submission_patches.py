"""Partial submissions stored as patches of a complete one, applied when a test stages them.

`tests/fixtures/submissions/NAME.patch` is a unified diff whose `---` line names the file
it changes (relative to the repository: `complete/chat_application.py`, an independent
complete implementation) and whose hunks remove one feature; `NAME` is then graded
like any folder submission. Lines before the `---` line are a description. A hunk
applies only where its line numbers say and only if every context and removed line
matches exactly, so a patch whose base changed fails loudly instead of applying
somewhere else.

    python -m tests.submission_patches show NAME           # the patched file, on stdout
    python -m tests.submission_patches rewrite NAME EDITED  # NAME.patch from an edited copy

NAME may also be the path of a patch elsewhere (the lessons' wrong attempts live in
`tests/fixtures/lessons/lesson_NN/`, patches of `solutions/lesson_NN.py`):

    python -m tests.submission_patches new PATCH BASE EDITED "what is wrong"
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

__all__ = ["PatchError", "apply_patch", "make_patch", "patched_submissions"]

REPO = Path(__file__).resolve().parent.parent
SUBMISSIONS = REPO / "tests" / "fixtures" / "submissions"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class PatchError(ValueError):
    """A patch is malformed, or no longer applies to the file it names."""


def _base_of(patch: Path, lines: list[str]) -> tuple[Path, int]:
    for index, line in enumerate(lines):
        if line.startswith("--- "):
            name = line[4:].split("\t")[0].strip()
            return REPO / name, index
    raise PatchError(f"{patch.name}: no '--- path' line names the file it changes")


def apply_patch(patch: Path) -> str:
    """The text of the file `patch` names, with its hunks applied."""
    lines = patch.read_text(encoding="utf-8").splitlines()
    base_path, header = _base_of(patch, lines)
    if not base_path.is_file():
        raise PatchError(f"{patch.name}: {base_path.relative_to(REPO)} does not exist")
    base = base_path.read_text(encoding="utf-8").splitlines()
    where = f"{patch.name} on {base_path.relative_to(REPO)}"
    result: list[str] = []
    position = 0  # lines of `base` consumed so far
    index = header + 2  # after the --- and +++ lines
    hunks = 0
    while index < len(lines):
        match = _HUNK.match(lines[index])
        if not match:
            raise PatchError(f"{where}: line {index + 1} is not a hunk header: {lines[index]!r}")
        hunks += 1
        start = int(match[1]) - (0 if match[2] == "0" else 1)
        old_count = int(match[2] or 1)
        if start < position:
            raise PatchError(f"{where}: hunk {hunks} overlaps the one before it")
        result += base[position:start]
        position = start
        index += 1
        old_seen = 0
        while index < len(lines) and not lines[index].startswith("@@"):
            line = lines[index]
            index += 1
            if line.startswith("\\"):  # "\ No newline at end of file"
                continue
            kind, text = line[:1] or " ", line[1:]
            if kind == "+":
                result.append(text)
                continue
            if kind not in " -":
                raise PatchError(f"{where}: hunk {hunks} has a malformed line {line!r}")
            actual = base[position] if position < len(base) else "<end of file>"
            if actual != text:
                raise PatchError(
                    f"{where}: hunk {hunks} no longer applies: line {position + 1} is "
                    f"{actual!r}, the patch expects {text!r}. Rewrite the patch "
                    "(python -m tests.submission_patches rewrite ...)."
                )
            if kind == " ":
                result.append(text)
            position += 1
            old_seen += 1
        if old_seen != old_count:
            raise PatchError(f"{where}: hunk {hunks} has {old_seen} old lines, says {old_count}")
    if not hunks:
        raise PatchError(f"{where}: no hunks")
    result += base[position:]
    return "\n".join(result) + "\n"


def make_patch(base_path: Path, edited: str, description: str) -> str:
    """The patch text that turns `base_path` into `edited` (for `rewrite`)."""
    base = base_path.read_text(encoding="utf-8").splitlines(keepends=True)
    name = str(base_path.relative_to(REPO))
    diff = difflib.unified_diff(base, edited.splitlines(keepends=True), name, name)
    return description + "".join(diff)


def patched_submissions(folder: Path = SUBMISSIONS) -> dict[str, str]:
    """Every `NAME.patch` of `folder` (default tests/fixtures/submissions), applied:
    {NAME: file text}."""
    return {patch.stem: apply_patch(patch) for patch in sorted(folder.glob("*.patch"))}


def _patch_path(name: str) -> Path:
    if name.endswith(".patch") or "/" in name:
        return Path(name).resolve()
    return SUBMISSIONS / f"{name}.patch"


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "show":
        sys.stdout.write(apply_patch(_patch_path(argv[1])))
        return 0
    if len(argv) == 5 and argv[0] == "new":
        patch, base, edited, description = argv[1:]
        text = make_patch(Path(base).resolve(), Path(edited).read_text(encoding="utf-8"), "")
        patch_path = Path(patch).resolve()
        patch_path.parent.mkdir(parents=True, exist_ok=True)
        patch_path.write_text(description.rstrip("\n") + "\n" + text, encoding="utf-8")
        print(f"wrote {patch_path.relative_to(REPO)}")
        return 0
    if len(argv) == 3 and argv[0] == "rewrite":
        patch = _patch_path(argv[1])
        lines = patch.read_text(encoding="utf-8").splitlines(keepends=True)
        base_path, header = _base_of(patch, [line.rstrip("\n") for line in lines])
        edited = Path(argv[2]).read_text(encoding="utf-8")
        patch.write_text(make_patch(base_path, edited, "".join(lines[:header])), "utf-8")
        print(f"wrote {patch.relative_to(REPO)}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
