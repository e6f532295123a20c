"""What an archive remembers about the broker it was recorded from, to notice a log that was reset.

A broker that loses its log (the embedded one forgets everything when it restarts; a real cluster
whose storage was formatted again) comes back with no committed offsets, so a recorder would
quietly start again from the new log's beginning and the archive would have a hole nobody
reports. The broker's cluster id changes with its log, so the archive keeps the id it was recorded
from, with the newest receive time archived per topic (where the hole starts), in a small JSON
file beside the topic folders.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

STATE_FILE = ".recorder-state.json"


@dataclass
class ArchiveState:
    cluster_id: str | None = None
    newest: dict[str, datetime] = field(default_factory=dict)  # per topic: the newest recv_ts archived


def load_state(archive_dir: Path) -> ArchiveState:
    try:
        raw = json.loads((archive_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return ArchiveState()
    newest = {str(t): datetime.fromisoformat(ts) for t, ts in dict(raw.get("newest", {})).items()}
    cluster = raw.get("cluster_id")
    return ArchiveState(str(cluster) if cluster is not None else None, newest)


def save_state(archive_dir: Path, state: ArchiveState) -> None:
    """Atomically (temp file, rename): a crash leaves the old state or the new one."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    body = {"cluster_id": state.cluster_id, "newest": {t: ts.isoformat() for t, ts in state.newest.items()}}
    temp = archive_dir / f"{STATE_FILE}.{os.getpid()}.tmp"
    temp.write_text(json.dumps(body, sort_keys=True))
    os.replace(temp, archive_dir / STATE_FILE)
