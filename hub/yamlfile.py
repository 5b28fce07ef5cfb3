"""Reading deploy/ YAML into typed models with one-line errors that name file and field."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hub.errors import DeploymentError

M = TypeVar("M", bound=BaseModel)


def load_yaml_model(path: Path, model: type[M]) -> M:
    """Parse ``path`` as ``model``; any problem becomes a DeploymentError naming the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeploymentError(f"{path}: file not found") from None
    except yaml.YAMLError:
        raise DeploymentError(f"{path}: not valid YAML") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise DeploymentError(f"{path}: {where}: {first['msg']}") from None
