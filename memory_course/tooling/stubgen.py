"""Generate an exercise stub from its marked reference solution (a maintainers' tool).

The reference solution is the one place where the contract lives: public names,
signatures, constants and docstrings are copied from it as they are. Markers, each alone
on its line, say what the student does not get (in the spirit of nbgrader and Otter
Assign):

    # BEGIN SOLUTION            the lines up to `# END SOLUTION` become one
    ...                         `raise NotImplementedError`, at the marker's indentation
    # END SOLUTION              (a method body the student writes)

    # BEGIN SOLUTION NO PROMPT  the lines up to `# END SOLUTION` are left out: private
    ...                         helpers and classes, the reference's own module docstring
    # END SOLUTION

    # BEGIN PROMPT              comment lines that only the stub has, uncommented
    # Some text for the stub    (`# text` gives `text`, a bare `#` a blank line): the
    # END PROMPT                exercise's introduction, as the stub's docstring

Afterwards the imports that only the solution used are dropped, runs of blank lines are
cut to what `ruff format` writes, and the stub is checked to define every public name
of the reference with the same signature.

    python -m memory_course.tooling.stubgen           # rewrite every generated stub (`make stub`)
    python -m memory_course.tooling.stubgen --check   # exit 1 naming each stub that is out of date
    python -m memory_course.tooling.stubgen --assignment lesson_03   # that assignment's only

Which stub comes from which solution is declared by each assignment (`stub` and
`solutions` in `assignment.toml`): a stub is generated from the solution of the same file
name, when that solution has markers. Students never import this module.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GeneratedStub", "StubError", "generate", "generated_stubs", "has_markers", "main"]

BEGIN = "# BEGIN SOLUTION"
BEGIN_NO_PROMPT = "# BEGIN SOLUTION NO PROMPT"
END = "# END SOLUTION"
BEGIN_PROMPT = "# BEGIN PROMPT"
END_PROMPT = "# END PROMPT"
_MARKERS = {BEGIN, BEGIN_NO_PROMPT, END, BEGIN_PROMPT, END_PROMPT}
# Anything that looks like a marker but is not one exactly is a typo, not a comment.
_MARKER_LIKE = re.compile(r"^#+\s*(BEGIN|END)\s+(SOLUTION|PROMPT)")
_LINE_LENGTH = 100
REPO_DIR = Path(__file__).resolve().parents[2]


class StubError(ValueError):
    """The reference's markers are malformed, or the stub would lose a public name."""


@dataclass(frozen=True)
class GeneratedStub:
    """One stub an assignment declares, generated from its marked solution."""

    stub: Path
    solution: Path
    text: str

    def is_current(self) -> bool:
        return self.stub.is_file() and self.stub.read_text(encoding="utf-8") == self.text

    def diff(self, repo: Path, limit: int = 40) -> str:
        """The first `limit` lines of a unified diff from the file to the generated stub."""
        current = self.stub.read_text(encoding="utf-8") if self.stub.is_file() else ""
        name = str(self.stub.relative_to(repo))
        lines = difflib.unified_diff(
            current.splitlines(keepends=True),
            self.text.splitlines(keepends=True),
            f"{name} (as it is)",
            f"{name} (generated)",
        )
        return "".join(list(lines)[:limit])


def has_markers(source: str) -> bool:
    return any(line.strip() in (BEGIN, BEGIN_NO_PROMPT) for line in source.splitlines())


def generate(source: str, name: str = "<reference>") -> str:
    """The stub of the marked reference `source` (`name` appears in error messages)."""
    lines = _apply_markers(source.splitlines(), name)
    text = "\n".join(_normalise_blank_lines(lines)) + "\n"
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise StubError(f"{name}: the generated stub is not valid Python: {error}") from None
    text = _prune_imports(text, tree, name)
    _check_interface(ast.parse(source), ast.parse(text), name)
    return text


def _apply_markers(lines: list[str], name: str) -> list[str]:
    out: list[str] = []
    mode: str | None = None  # None, BEGIN, BEGIN_NO_PROMPT or BEGIN_PROMPT
    opened_at, indent = 0, ""
    for number, line in enumerate(lines, 1):
        text = line.strip()
        here = line[: len(line) - len(line.lstrip())]
        if text in _MARKERS:
            closing = {BEGIN: END, BEGIN_NO_PROMPT: END, BEGIN_PROMPT: END_PROMPT}
            if mode is None and text in closing:
                mode, opened_at, indent = text, number, here
                continue
            if mode is not None and text == closing[mode]:
                if here != indent:
                    raise StubError(
                        f"{name}:{number}: {text!r} is not indented like its "
                        f"{mode!r} on line {opened_at}"
                    )
                if mode == BEGIN:
                    out.append(f"{indent}raise NotImplementedError")
                mode = None
                continue
            where = f"inside the {mode!r} of line {opened_at}" if mode else "with nothing open"
            raise StubError(f"{name}:{number}: {text!r} {where}")
        if _MARKER_LIKE.match(text):
            raise StubError(f"{name}:{number}: {text!r} is not a marker (typo?)")
        if mode is None:
            out.append(line)
        elif mode == BEGIN_PROMPT:
            out.append(_uncomment(line, number, name))
    if mode is not None:
        raise StubError(f"{name}:{opened_at}: {mode!r} is never closed")
    return out


def _uncomment(line: str, number: int, name: str) -> str:
    body = line.lstrip()
    indentation = line[: len(line) - len(body)]
    if body == "#":
        return ""
    if not body.startswith("# "):
        raise StubError(f"{name}:{number}: a PROMPT line must be '# text' or a bare '#'")
    return indentation + body[2:]


def _normalise_blank_lines(lines: list[str]) -> list[str]:
    """At most two blank lines before top-level code, one inside a block; none at the ends."""
    out: list[str] = []
    pending = 0
    for line in lines:
        if not line.strip():
            pending += 1
            continue
        if out:
            out += [""] * min(pending, 1 if line[:1].isspace() else 2)
        out.append(line.rstrip())
        pending = 0
    return out


def _used_names(tree: ast.Module) -> set[str]:
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            # A name re-exported through __all__ counts as used.
            used |= {
                e.value
                for e in ast.walk(node.value)
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            }
    return used


def _import_text(node: ast.Import | ast.ImportFrom, aliases: list[ast.alias]) -> list[str]:
    names = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in aliases]
    if isinstance(node, ast.Import):
        return [f"import {n}" for n in names]
    head = f"from {'.' * node.level}{node.module or ''} import "
    if len(head) + len(", ".join(names)) <= _LINE_LENGTH:
        return [head + ", ".join(names)]
    return [head + "(", *(f"    {n}," for n in names), ")"]


def _prune_imports(text: str, tree: ast.Module, name: str) -> str:
    """Drop the leading import block's names the stub does not use; empty groups go too."""
    body = list(tree.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    block: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if not isinstance(node, ast.Import | ast.ImportFrom):
            break
        block.append(node)
    if not block:
        return text
    lines = text.splitlines()
    used = _used_names(ast.Module(body=[n for n in tree.body if n not in block], type_ignores=[]))
    groups: list[list[str]] = [[]]
    previous_end = block[0].lineno - 1
    for node in block:
        between = lines[previous_end : node.lineno - 1]
        if any(line.strip() for line in between):
            raise StubError(
                f"{name}:{previous_end + 1}: only imports may stand in the import block"
            )
        if between and groups[-1]:
            groups.append([])
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            kept = node.names
        else:
            kept = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
        if len(kept) == len(node.names):
            groups[-1] += lines[node.lineno - 1 : node.end_lineno]
        elif kept:
            groups[-1] += _import_text(node, kept)
        previous_end = node.end_lineno or node.lineno
    rebuilt = "\n\n".join("\n".join(group) for group in groups if group)
    before = lines[: block[0].lineno - 1]
    after = lines[previous_end:]
    return "\n".join([*before, *rebuilt.splitlines(), *after]) + "\n"


def _public_interface(tree: ast.Module) -> dict[str, str]:
    """Every public module-level name and class member, with what a caller relies on."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            bases = ", ".join(ast.unparse(b) for b in node.bases)
            decorators = [ast.unparse(d) for d in node.decorator_list]
            found[node.name] = f"class({bases}) {decorators}"
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    found[f"{node.name}.{item.target.id}"] = ast.unparse(item.annotation)
                elif isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    not item.name.startswith("_")
                    or (item.name.startswith("__") and item.name.endswith("__"))
                ):
                    found[f"{node.name}.{item.name}"] = _signature(item)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if not node.name.startswith("_"):
                found[node.name] = _signature(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and not target.id.startswith("_"):
                    found[target.id] = ast.unparse(node.value) if node.value else ""
    return found


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    decorators = [ast.unparse(d) for d in node.decorator_list]
    return f"{decorators} ({ast.unparse(node.args)}){returns}"


def _check_interface(reference: ast.Module, stub: ast.Module, name: str) -> None:
    theirs, mine = _public_interface(reference), _public_interface(stub)
    lost = sorted(key for key in theirs if key not in mine)
    changed = sorted(key for key in theirs if key in mine and mine[key] != theirs[key])
    if lost or changed:
        raise StubError(
            f"{name}: the stub would not have the reference's interface: "
            f"missing {lost}, changed {changed} (is a public name inside a SOLUTION region?)"
        )


def generated_stubs(repo: Path = REPO_DIR, only: str | None = None) -> list[GeneratedStub]:
    """The stubs the assignments of `repo` (or the one named `only`) declare that come
    from a marked solution."""
    from grading.assignment import DECLARATION, Assignment

    repo = Path(repo).resolve()
    found = []
    for declaration in sorted((repo / "grading" / "assignments").glob(f"*/{DECLARATION}")):
        if only is not None and declaration.parent.name != only:
            continue
        assignment = Assignment.from_folder(declaration.parent)
        if not assignment.stub or (only is not None and assignment.name != only):
            continue
        stub = repo / assignment.stub
        for solution in (repo / path for path in assignment.solutions):
            if solution.name != stub.name or not solution.is_file():
                continue
            source = solution.read_text(encoding="utf-8")
            if has_markers(source):
                text = generate(source, str(solution.relative_to(repo)))
                found.append(GeneratedStub(stub, solution, text))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m memory_course.tooling.stubgen", description=__doc__
    )
    parser.add_argument("--check", action="store_true", help="only report stale stubs")
    parser.add_argument("--assignment", default=None, help="only this assignment's stubs")
    parser.add_argument("--repo", type=Path, default=REPO_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    stale = 0
    for generated in generated_stubs(repo, args.assignment):
        name = generated.stub.relative_to(repo)
        source = generated.solution.relative_to(repo)
        if generated.is_current():
            print(f"{name}: up to date with {source}")
        elif args.check:
            stale += 1
            print(f"{name}: differs from the stub generated from {source}", file=sys.stderr)
            print(generated.diff(repo), file=sys.stderr)
        else:
            generated.stub.write_text(generated.text, encoding="utf-8")
            print(f"{name}: generated from {source}")
    if stale:
        print("Run `make stub` to regenerate.", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
