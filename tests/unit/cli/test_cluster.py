"""`leadhub plan`, `apply` and `audit exposure`: mistakes are one line, never a traceback;
and key ids, whose order decides which key is in use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.crypto.signing import KEY_ID, new_key_id
from tests.support.commands import leadhub_here as leadhub


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["apply", "--timeout", "0"], "--timeout"),
        (["apply", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "1"], "cannot reach Kafka"),
        (["plan", "-c", "does-not-exist.yaml"], "file not found"),
        (["audit", "exposure", "--recipient", "sao", "--since", "yesterday"], "not an ISO 8601"),
        (["audit", "exposure", "--since", "2026-01-01"], "--recipient"),
    ],
)
def test_bad_arguments_give_one_line(args: list[str], expected: str) -> None:
    result = leadhub(*args)
    assert result.returncode in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leadhub: ") and expected in lines[0]


def test_apply_without_a_broker_says_how_to_get_one(tmp_path: Path) -> None:
    result = leadhub("apply", env={"LEADHUB_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert result.stderr.startswith("leadhub: no broker: start `leadhub up`")


def test_plan_names_a_bad_principals_file(tmp_path: Path) -> None:
    bad = tmp_path / "acls.yaml"
    bad.write_text("version: 1\nhub: {principal: 'User:*', group: leadhub}\n")
    result = leadhub("plan", env={"LEADHUB_ACLS_FILE": str(bad)})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "acls.yaml: hub.principal" in result.stderr


def test_plan_prints_topics_then_acls() -> None:
    result = leadhub("plan")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "topics:" and any(line.startswith("acls (") for line in lines)
    assert "User:sao               WRITE    topic lead.ingest.sao" in result.stdout


def test_key_ids_sort_in_the_order_they_were_made() -> None:
    start = datetime(2026, 12, 1, 0, 0, 0, tzinfo=UTC)
    moments = [start + timedelta(seconds=s) for s in (0, 1, 59, 3600, 86399, 86400, 90000)]
    for demo in (False, True):
        ids = [new_key_id(demo=demo, now=m) for m in moments]
        assert ids == sorted(ids)
        assert all(KEY_ID.match(i) for i in ids)
        assert all(len(i.rsplit("-", 1)[1]) == 8 for i in ids)  # docs/protocol.md, section 7
