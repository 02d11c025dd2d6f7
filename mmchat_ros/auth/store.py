"""Enrolment store: the operators' face and voice embeddings in one SQLite file.

WAL journal with synchronous=FULL, one transaction per enrolment (all of its embeddings or none),
file mode 0600 (SQLite gives the -wal/-shm files the database file's mode). Only embeddings and the
name of the file each came from are kept, never images or audio. A process killed at any point
leaves every committed enrolment readable and the file intact.
"""
from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import sqlite3
import time
from typing import Any, Iterable

import numpy as np

KINDS = ('face', 'voice')
FILE_MODE = 0o600
STORE_ENV = 'MMCHAT_OPERATOR_STORE'


def default_store_path() -> Path:
    """$MMCHAT_OPERATOR_STORE, else $XDG_DATA_HOME/mmchat/operators.db (~/.local/share/...)."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV])
    data_home = os.environ.get('XDG_DATA_HOME') or Path.home() / '.local' / 'share'
    return Path(data_home) / 'mmchat' / 'operators.db'
_SCHEMA = """
CREATE TABLE IF NOT EXISTS operators (
    name TEXT PRIMARY KEY,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (
    id INTEGER PRIMARY KEY,
    operator TEXT NOT NULL REFERENCES operators(name) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('face', 'voice')),
    vector BLOB NOT NULL,
    source TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS embeddings_by_kind ON embeddings (kind, operator);
"""


class StoreError(RuntimeError):
    """The store cannot be opened or an enrolment is invalid."""


@dataclass(frozen=True)
class OperatorInfo:
    """One enrolled operator and how many embeddings of each kind the store holds."""

    name: str
    created: float
    faces: int
    voices: int


class EnrolmentStore:
    """Operators and their embeddings; use as a context manager or call close()."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE))
            os.chmod(self.path, FILE_MODE)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            mode = self._db.execute('PRAGMA journal_mode=WAL').fetchone()[0]
            if mode.lower() != 'wal':
                raise StoreError(f'{self.path}: SQLite refused WAL mode ({mode})')
            self._db.execute('PRAGMA synchronous=FULL')
            self._db.execute('PRAGMA foreign_keys=ON')
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise StoreError(f'cannot open enrolment store {self.path}: {exc}') from exc

    def __enter__(self) -> EnrolmentStore:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (committed data is already on disk)."""
        self._db.close()

    def enrol(self, name: str, kind: str, vectors: Iterable[tuple[np.ndarray, str]]) -> int:
        """Add (embedding, source file name) pairs of one operator in one transaction.

        Returns how many were added. Creates the operator if new. Nothing is stored if any step
        fails.
        """
        name = name.strip()
        if not name:
            raise StoreError('operator name is empty')
        if kind not in KINDS:
            raise StoreError(f"unknown embedding kind '{kind}' (one of {', '.join(KINDS)})")
        now = time.time()
        count = 0
        self._db.execute('BEGIN IMMEDIATE')
        try:
            self._db.execute('INSERT OR IGNORE INTO operators (name, created) VALUES (?, ?)',
                             (name, now))
            for vector, source in vectors:
                array = np.asarray(vector, dtype=np.float32).ravel()
                if not array.size or not np.all(np.isfinite(array)):
                    raise StoreError(f'{source}: embedding is empty or not finite')
                self._db.execute('INSERT INTO embeddings (operator, kind, vector, source, created) '
                                 'VALUES (?, ?, ?, ?, ?)',
                                 (name, kind, array.tobytes(), Path(source).name, now))
                count += 1
            if not count:
                raise StoreError(f'no {kind} embedding to enrol for {name}')
            self._db.execute('COMMIT')
        except BaseException:
            self._db.execute('ROLLBACK')
            raise
        return count

    def operators(self) -> list[OperatorInfo]:
        """Every operator, by name."""
        rows = self._db.execute(
            "SELECT o.name, o.created, SUM(e.kind = 'face'), SUM(e.kind = 'voice') "
            'FROM operators o '
            'LEFT JOIN embeddings e ON e.operator = o.name GROUP BY o.name ORDER BY o.name')
        return [OperatorInfo(n, c, int(f or 0), int(v or 0)) for n, c, f, v in rows]

    def embeddings(self, kind: str) -> dict[str, np.ndarray]:
        """{operator: (n, d) float32 array} of one kind."""
        grouped: dict[str, list[np.ndarray]] = {}
        for name, blob in self._db.execute(
                'SELECT operator, vector FROM embeddings WHERE kind = ? ORDER BY id', (kind,)):
            grouped.setdefault(name, []).append(np.frombuffer(blob, dtype=np.float32))
        return {name: np.stack(vectors) for name, vectors in grouped.items()}

    def delete(self, name: str) -> bool:
        """Remove an operator and all of its embeddings; False if there was none."""
        cursor = self._db.execute('DELETE FROM operators WHERE name = ?', (name,))  # cascades
        return cursor.rowcount > 0

    def export(self) -> dict[str, Any]:
        """Everything in the store as plain data (embeddings as lists of floats)."""
        operators = {info.name: {'created': info.created, 'face': [], 'voice': []}
                     for info in self.operators()}
        for name, kind, blob, source in self._db.execute(
                'SELECT operator, kind, vector, source FROM embeddings ORDER BY id'):
            vector = np.frombuffer(blob, dtype=np.float32)
            operators[name][kind].append({'source': source,
                                          'vector': [round(float(x), 6) for x in vector]})
        return {'store': str(self.path), 'operators': operators}

    def integrity(self) -> str:
        """SQLite's integrity check: 'ok' when the file is sound."""
        return str(self._db.execute('PRAGMA integrity_check').fetchone()[0])
