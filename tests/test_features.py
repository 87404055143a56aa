"""Every FEATURES.md row from A1 to J5 is cited by at least one test that runs against pyref.

The rows are parsed from ../shared/reference/FEATURES.md; the citations are
the ``features`` marks of the collected ``[pyref]`` test items (conftest.py).
When this run collected only part of tests/, a collect-only run of the
whole directory supplies the citations instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import support
from conftest import FEATURES_DUMP_ENV, cited_rows

TESTS = Path(__file__).resolve().parent
feature_rows = support.feature_rows
required_rows = support.required_rows


def collected_everything(config: pytest.Config, session: pytest.Session) -> bool:
    files = {Path(str(item.path)).name for item in session.items}
    return all(p.name in files for p in TESTS.glob("test_*.py"))


def citations_from_full_collection(tmp_path: Path) -> dict[str, list[str]]:
    dump = tmp_path / "cited.json"
    env = dict(os.environ, **{FEATURES_DUMP_ENV: str(dump)})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=support.REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return dict(json.loads(dump.read_text()))


def test_features_table_parses() -> None:
    rows = feature_rows()
    assert len(rows) == len(set(rows)), "row ids are unique"
    sections = {row[0] for row in rows}
    assert sections == set("ABCDEFGHIJK")
    # Spot-check the bounds the issue names.
    assert {"A1", "B17", "E9", "H10", "I14", "J5"} <= set(rows)


def test_every_row_a_to_j_is_cited_by_a_pyref_test(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    cited = cited_rows(request.config)
    if not collected_everything(request.config, request.session):
        cited = citations_from_full_collection(tmp_path)
    missing = [row for row in required_rows() if not cited.get(row)]
    assert not missing, f"FEATURES rows not cited by any pyref test: {missing}"


def test_no_citation_of_an_unknown_row(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    cited = cited_rows(request.config)
    if not collected_everything(request.config, request.session):
        cited = citations_from_full_collection(tmp_path)
    unknown = sorted(set(cited) - set(feature_rows()))
    assert not unknown, f"tests cite rows that FEATURES.md does not have: {unknown}"
