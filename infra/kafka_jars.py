"""The Apache Kafka jars `make kafka` copies from Maven: checked against a committed list of sha256.

`python -m infra.kafka_jars check` exits 1 naming every jar that is missing, extra or not the one
pinned in `infra/kafka/jars.sha256` (as requirements.lock does for the Python packages);
`python -m infra.kafka_jars lock` rewrites the list from what is in `infra/kafka/lib` (after a change
to `infra/kafka/pom.xml`).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

KAFKA_DIR = Path(__file__).resolve().parent / "kafka"
LIB_DIR = KAFKA_DIR / "lib"
LOCK_FILE = KAFKA_DIR / "jars.sha256"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pinned(lock_file: Path = LOCK_FILE) -> dict[str, str]:
    """jar name -> sha256, from `<sha256>  <name>` lines (sha256sum's format)."""
    result = {}
    for line in lock_file.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, _, name = line.partition("  ")
            result[name.strip()] = digest.strip()
    return result


def problems(lib_dir: Path = LIB_DIR, lock_file: Path = LOCK_FILE) -> list[str]:
    """What differs between the jars present and the pinned list; empty when they agree."""
    want = pinned(lock_file)
    have = {p.name: p for p in lib_dir.glob("*.jar")} if lib_dir.is_dir() else {}
    found = [f"missing: {name}" for name in sorted(set(want) - set(have))]
    found += [f"not pinned: {name}" for name in sorted(set(have) - set(want))]
    found += [
        f"sha256 mismatch: {name}"
        for name in sorted(set(want) & set(have))
        if sha256_of(have[name]) != want[name]
    ]
    return found


def lock(lib_dir: Path = LIB_DIR, lock_file: Path = LOCK_FILE) -> int:
    jars = sorted(lib_dir.glob("*.jar"))
    lines = ["# sha256 of every jar infra/kafka/pom.xml resolves; `make kafka-lock` rewrites it"]
    lines += [f"{sha256_of(p)}  {p.name}" for p in jars]
    lock_file.write_text("\n".join(lines) + "\n")
    return len(jars)


def main(argv: list[str]) -> int:
    if argv == ["lock"]:
        print(f"pinned {lock()} jars in {LOCK_FILE.name}")
        return 0
    if argv == ["check"]:
        found = problems()
        for problem in found:
            print(f"infra/kafka/lib: {problem}", file=sys.stderr)
        return 1 if found else 0
    print("usage: python -m infra.kafka_jars check|lock", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
