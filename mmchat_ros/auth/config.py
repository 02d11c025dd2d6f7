"""The shipped authentication parameters (config/robot/auth.yaml) for tools without the node."""
from __future__ import annotations

from pathlib import Path
from typing import Any

SHIPPED = 'config/robot/auth.yaml'


def load_parameters(path: str | Path | None = None) -> dict[str, Any]:
    """The auth node's ros__parameters of `path` (default: the shipped file)."""
    import yaml

    from mmchat_ros import graph

    document = yaml.safe_load(Path(path or graph.share_dir() / SHIPPED).read_text())
    return document['auth']['ros__parameters']
