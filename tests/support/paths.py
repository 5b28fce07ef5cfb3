"""Where the repository's contract files are, for tests that read them as the hub does."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
DEPLOY = ROOT / "deploy"
