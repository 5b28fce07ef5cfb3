"""``leadhub report`` as a person runs it: bad arguments are one line and a non-zero exit,
and a report of an archive (written here from a scenario run on the in-memory bus, no
broker) comes out as HTML with its charts, Markdown with PNGs beside it, or JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from hub.crypto.signing import PublicKeys, SigningKey
from hub.domain.agencies import AgencyRegistry
from hub.events.codec import Codec
from hub.log.archive import Archive, ArchivedRecord
from tests.support.commands import leadhub_here as leadhub
from tests.support.paths import SCHEMAS
from tests.support.reports import run_scenario


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["report", "--format", "xml"], "--format must be markdown, html or json"),
        (["report", "--source", "tape"], "--source must be archive or kafka"),
        (["report", "--from", "yesterday"], "--from 'yesterday' is not a date"),
        (["report", "--to", "2026-13-01"], "--to '2026-13-01' is not a date"),
        (["report", "--as-of", "soon"], "not an ISO 8601"),
        (["report", "--from", "2026-10-01", "--to", "2026-09-01"], "--from must not be after"),
        (["report", "--from", "2026-10-01", "--as-of", "2026-09-01"], "--as-of must not be"),
        (["report", "-c", "does-not-exist.yaml"], "file not found"),
        (["report", "--bogus"], "No such option"),
    ],
)
def test_bad_arguments_give_one_line(args: list[str], expected: str) -> None:
    result = leadhub(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leadhub: ") and expected in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def _config(tmp: Path) -> Path:
    config = tmp / "hub.yaml"
    config.write_text(f"data_dir: {tmp / 'data'}\nlog_level: warning\n", encoding="utf-8")
    return config


def test_no_archive_is_one_line(tmp_path: Path) -> None:
    result = leadhub("report", "-c", str(_config(tmp_path)))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("leadhub: no archive at")


@pytest.fixture(scope="module")
def archived(
    tmp_path_factory: pytest.TempPathFactory,
    codec: Codec,
    agencies: AgencyRegistry,
    agency_keys: dict[str, SigningKey],
    public_keys: PublicKeys,
) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    run = run_scenario(7, 60, codec, agencies, agency_keys, public_keys)
    streams: dict[tuple[str, int], list[ArchivedRecord]] = defaultdict(list)
    for r in run.bus.records():
        streams[(r.topic, r.partition)].append(r)
    archive = Archive(tmp / "data" / "archive", SCHEMAS)
    for records in streams.values():
        archive.append(sorted(records, key=lambda r: r.offset))
    return _config(tmp)


def test_html_report_with_embedded_charts(archived: Path) -> None:
    out = archived.parent / "out" / "report.html"
    result = leadhub("report", "-c", str(archived), "--format", "html", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {out}")
    page = out.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4 and "At a glance" in page


def test_markdown_report_writes_its_charts_beside_it(archived: Path) -> None:
    out = archived.parent / "md" / "month.md"
    result = leadhub(
        "report", "-c", str(archived), "--output", str(out), "--from", "2026-09-01",
        "--to", "2026-10-31",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    for chart in ("referrals", "holds", "intake", "housing"):
        png = out.with_name(f"month-{chart}.png")
        assert png.read_bytes().startswith(b"\x89PNG") and f"]({png.name})" in text
    assert text.startswith("# LEAD program report: 2026-09-01 to 2026-10-31")


def test_json_report_on_stdout(archived: Path) -> None:
    result = leadhub("report", "-c", str(archived), "-f", "json", "--as-of", "2026-10-15")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["period"]["period_end"] == "2026-10-15"
    assert {t["name"] for t in document["tables"]} >= {"referrals_by_door", "holds", "consent"}
