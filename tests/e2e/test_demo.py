"""`make demo` as a user runs it (smaller): its own embedded broker and worker, the story,
the summary, and its checks against the scenario's ground truth."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from uuid import UUID

import pytest

from hub.audit import merkle
from hub.audit.checkpoints import log_keys
from hub.cli import main
from hub.config import load_settings
from hub.context import HubContext
from hub.crypto import note
from hub.crypto.signing import PublicKeys
from hub.domain.notices import notice_id
from producers.demo import run_demo
from tests.support.paths import ROOT
from tests.support.tamper import Rows, in_a_run, rewrite_segment

pytestmark = pytest.mark.integration


def leadhub(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    return int(exit_.value.code or 0), capsys.readouterr().out


def test_the_demo_runs_and_its_checks_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(
        ROOT / "deploy" / "demo.yaml", data_dir=tmp_path, keys_dir=tmp_path / "keys"
    )
    lines: list[str] = []
    problems = run_demo(HubContext(settings), participants=25, seed=11, out=lines.append)
    text = "\n".join(lines)
    assert problems == 0, text
    assert "all checks passed" in lines[-1]
    for heading in (
        "events in the canonical log",
        "notices by agency",
        "denials by reason",
        "rejections by reason",
        "holds:",
        "linkage:",
        "one participant's story",
    ):
        assert heading in text
    # the re-referrals the scenario planned were found, and no one was linked wrongly
    linkage = next(line for line in lines if line.startswith("linkage:"))
    found = re.search(r"referred again under a new id, .*linked (\d+) \((\d+) rightly\)", linkage)
    assert found is not None and int(found[1]) == int(found[2]) > 0, linkage
    assert re.search(r"cost: \d+\.\d\d ms per referral", text), text
    assert all(p.name.startswith("demo-") for p in (tmp_path / "keys").glob("*/*.key"))

    # then the auditor's commands, as the demo prints them, on the archive it left
    monkeypatch.setenv("LEADHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADHUB_KEYS_DIR", str(tmp_path / "keys"))
    commands = [line.strip().split()[1:] for line in lines if "leadhub audit" in line]
    assert [c[:2] for c in commands] == [
        ["audit", "verify"],
        ["audit", "replay"],
        ["audit", "disclosures"],
        ["audit", "timeline"],
        ["audit", "timeline"],  # a person referred twice, as cm sees them
    ]
    outputs = {}
    for command in commands[:4]:
        code, outputs[command[1]] = leadhub(capsys, *command)
        assert code == 0, (command, outputs[command[1]])
    code, joined = leadhub(capsys, *commands[4], "-f", "json")
    assert code == 0 and len({row["participant_id"] for row in json.loads(joined)}) == 2, joined
    assert "FAIL" not in outputs["verify"] and "cosigned" in outputs["verify"]
    assert outputs["replay"].rstrip().endswith("MATCH")
    assert "recipient" in outputs["disclosures"] and "sao" in outputs["timeline"]
    code, as_json = leadhub(capsys, "audit", "disclosures", "-p", commands[2][-1], "-f", "json")
    assert code == 0 and all(row["rule"] for row in json.loads(as_json))
    code, csv_text = leadhub(
        capsys, "audit", "timeline", "-p", commands[2][-1], "--as-of", "2030-01-01", "-f", "csv"
    )
    assert code == 0 and csv_text.startswith("recorded_at,occurred_at,source,event_type")

    # a proof served for one disclosure checks out on its own, against the signed note
    first = json.loads(as_json)[0]
    decision = str(notice_id(UUID(first["event_id"]), first["recipient"]))
    code, served = leadhub(capsys, "audit", "prove", "--decision", decision)
    proof = json.loads(served)
    keys = PublicKeys.load(tmp_path / "keys")
    body, _ = note.open_note(proof["checkpoint"], log_keys(proof["origin"], keys))
    checkpoint = note.Checkpoint.parse(body)
    merkle.verify_inclusion(
        proof["leaf_index"],
        checkpoint.size,
        base64.b64decode(proof["leaf_hash"]),
        [base64.b64decode(h) for h in proof["inclusion_proof"]],
        checkpoint.root,
    )

    # one edited decision record in the archive: verify fails and names the place
    segment = sorted((tmp_path / "archive" / "segments" / "lead.audit" / "0").glob("*.avro"))[0]

    edited_at: list[int] = []

    def edit(rows: Rows) -> Rows:
        i = in_a_run(rows, 2)
        edited = bytearray(rows[i]["value"])
        edited[-1] ^= 1  # the low bit of decided_at: still a well-formed record
        rows[i]["value"] = bytes(edited)
        edited_at.append(rows[i]["offset"])
        return rows

    rewrite_segment(segment, edit)
    code, tampered = leadhub(capsys, "audit", "verify", "--format", "json")
    assert code == 1
    rows = json.loads(tampered)
    findings = [r["detail"] for r in rows if r["check"] == "finding"]
    assert len(findings) == 1, findings  # one fault, one line, on its record
    assert findings[0].startswith(f"lead.audit/0 offset {edited_at[0]} (event ")
    for evidence in (
        f"does not match its chain value (edited, or inserted) (archive lead.audit/0 segment "
        f"{segment.name})",
        "replay derives this record differently (edited)",
        "the first checkpoint that no longer matches is ",
    ):
        assert evidence in findings[0]
    statuses = {r["check"]: r["status"] for r in rows if r["check"] != "finding"}
    assert statuses["inclusion"] == statuses["consistency"] == "NOT CHECKED"
    assert statuses["result"] == "FAIL" and "ok" not in (statuses["tree"], statuses["archive"])
