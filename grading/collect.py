"""Finding submissions and unpacking them into a folder the grader controls.

A submission is a folder or a zip holding the student's entry file (the
assignment's `entry_file`, `chat_application.py` for the capstone), possibly inside
one sub-folder, as zips often are. `prepare` copies or extracts it into a fresh
folder: regular files only (no symlinks, no absolute or `..` paths), bounded in size
and count, readable by the submission's dedicated uid. A submission that cannot be
prepared still gets a folder, without its entry file, so the grading run reports it
like any other import failure.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["PreparedSubmission", "Submission", "find_submissions", "prepare"]

MAX_FILES = 200
MAX_TOTAL_BYTES = 20 * 1024 * 1024
_SKIP_PARTS = {"__pycache__", "__MACOSX", ".git", ".venv", "node_modules"}


@dataclass(frozen=True)
class Submission:
    """One student's submission: a display name and where it is."""

    name: str
    source: Path


@dataclass(frozen=True)
class PreparedSubmission:
    """The folder holding the copied entry file, and any problem found."""

    folder: Path
    problem: str | None = None


def _student_name(path: Path) -> str:
    stem = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", stem).strip("._") or "submission"


def find_submissions(root: Path) -> list[Submission]:
    """Each sub-folder or zip of `root` is one submission, sorted by name."""
    found: list[Submission] = []
    names: set[str] = set()
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.is_symlink():
            continue
        if not (path.is_dir() or path.suffix.lower() == ".zip"):
            continue
        name = _student_name(path)
        while name in names:
            name += "_"
        names.add(name)
        found.append(Submission(name, path))
    return found


def _allowed(parts: tuple[str, ...]) -> bool:
    return bool(parts) and not any(p in _SKIP_PARTS or p.startswith("..") for p in parts)


def _copy_folder(source: Path, dest: Path) -> str | None:
    count = total = 0
    for root, dirs, files in os.walk(source, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_PARTS)
        for name in sorted(files):
            path = Path(root, name)
            relative = path.relative_to(source)
            if path.is_symlink() or not path.is_file() or not _allowed(relative.parts):
                continue
            count += 1
            total += path.stat().st_size
            if count > MAX_FILES or total > MAX_TOTAL_BYTES:
                return "the submission is too large (files or bytes)"
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return None


def _extract_zip(source: Path, dest: Path) -> str | None:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        return f"the zip could not be opened: {exc}"
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_FILES or sum(m.file_size for m in members) > MAX_TOTAL_BYTES:
            return "the submission is too large (files or bytes)"
        try:
            return _extract_members(archive, members, dest)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            return f"the zip is damaged and could not be unpacked ({_damage(exc)}): upload it again"


def _damage(exc: BaseException) -> str:
    text = str(exc)
    match = re.search(r"for file '([^']+)'", text)
    if match:
        return f"{match.group(1)} fails its integrity check"
    return type(exc).__name__


def _extract_members(
    archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], dest: Path
) -> str | None:
    """Extract regular members inside `dest` (a bad CRC raises while reading)."""
    for member in members:
        path = PurePosixPath(member.filename.replace("\\", "/"))
        is_link = stat.S_ISLNK(member.external_attr >> 16)
        if path.is_absolute() or not _allowed(path.parts) or is_link:
            continue
        target = dest.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as reader, open(target, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 16)
    return None


def _entry_folder(dest: Path, entry_file: str) -> Path | None:
    """The shallowest folder holding the entry file (ties: alphabetical)."""
    candidates = sorted(dest.rglob(entry_file), key=lambda p: (len(p.parts), str(p)))
    return candidates[0].parent if candidates else None


def _make_readable(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)


def prepare(source: Path, dest: Path, entry_file: str) -> PreparedSubmission:
    """Copy or extract `source` into the new folder `dest`; see the module docstring."""
    dest.mkdir(parents=True)
    if source.is_dir():
        problem = _copy_folder(source, dest)
    elif source.is_file() and source.suffix.lower() == ".zip":
        problem = _extract_zip(source, dest)
    elif source.is_file() and source.name == entry_file:
        shutil.copyfile(source, dest / entry_file)
        problem = None
    else:
        problem = f"{source} is neither a folder nor a zip"
    _make_readable(dest)
    folder = None if problem else _entry_folder(dest, entry_file)
    if folder is None:
        problem = problem or f"no {entry_file} found in the submission"
        return PreparedSubmission(dest, problem)
    return PreparedSubmission(folder, None)
