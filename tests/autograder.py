"""The Gradescope autograder zip, tried here the way Gradescope runs it.

`AUTOGRADER_ROOT` points the zip's scripts at a folder of the test's own in place of
/autograder: the zip unpacked in `source/`, the submission in `submission/`, the
results written to `results/results.json`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def unpacked_autograder(archive: Path, submission: Path) -> Iterator[Path]:
    """A root with `archive` unpacked in source/ and the file `submission` in
    submission/; removed on leaving."""
    root = Path(tempfile.mkdtemp(prefix="autograder-"))
    root.chmod(0o755)  # readable by the submission's own uid, like /autograder
    try:
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(root / "source")
        (root / "submission").mkdir()
        shutil.copyfile(submission, root / "submission" / submission.name)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_autograder_script(
    root: Path, script: str, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess:
    """Run the zip's `script` (setup.sh, run_autograder) with bash on `root`; it must succeed."""
    done = subprocess.run(
        ["bash", str(root / "source" / script)],
        env={**env, "AUTOGRADER_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def autograder_results(root: Path) -> dict:
    """The results.json that run_autograder wrote."""
    return json.loads((root / "results" / "results.json").read_text())
