"""DBoW2 vocabularies for ORB-SLAM3: the shipped file, and the checks before loading one (ROS-free).

Training a vocabulary is offline work: mmchat_tools.slam.vocabulary_training (`mmchat build-vocab`).
ORB-SLAM3 reads the text format DBoW2 writes:

    k L scoring weighting
    parent is_leaf d0 d1 ... d31 weight        (one line per node but the root, parents first)

and ends the process (exit(-1)) on a file it cannot read, so `check_text_file` looks at a file
before anything hands it to ORB-SLAM3. ORB-SLAM3 groups features by their word's ancestor 4 levels
above the leaves (TemplatedVocabulary::transform(..., levelsup=4)), so L=6 (ORBvoc.txt's depth)
gives it k^2 groups; L <= 4 puts every feature in one group (slower matching, still correct).
"""
from __future__ import annotations

from dataclasses import dataclass
import gzip
import hashlib
import os
from pathlib import Path
import shutil

#: DBoW2 enum values written in the header: L1-norm scoring, TF-IDF weighting (as ORBvoc.txt).
L1_NORM, TF_IDF = 0, 0
DESCRIPTOR_BYTES = 32
#: ORB-SLAM3's feature-vector level offset (Tracking/KeyFrame call transform(..., 4)).
ORB_SLAM3_LEVELS_UP = 4
#: The vocabulary shipped with the package (relative to the share directory); models/slam/README.md
#: says how it was built.
SHIPPED = 'models/slam/mmchat_sim_orb_k10_L6.txt.gz'


class VocabularyError(ValueError):
    """A vocabulary file that ORB-SLAM3 could not load, or training input that cannot make one."""


@dataclass(frozen=True)
class TextHeader:
    """The first line of a vocabulary text file."""

    k: int
    levels: int
    scoring: int
    weighting: int


def check_text_file(path: str | Path) -> TextHeader:
    """Check that a (plain text) vocabulary is one DBoW2 reads without crashing; its header.

    Reads the header, the first node line and the end of the file (DBoW2 parses an empty last line
    as a node whose descriptor is empty, which crashes ORB-SLAM3 when it matches against it).
    """
    path = Path(path)
    try:
        with open(path, 'rb') as f:
            header = f.readline().decode('ascii', 'replace').split()
            first = f.readline().decode('ascii', 'replace').split()
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 1))
            last_byte = f.read(1)
    except OSError as exc:
        raise VocabularyError(f'cannot read vocabulary {path}: {exc.strerror}') from exc
    try:
        k, levels, scoring, weighting = (int(v) for v in header[:4])
        if len(header) != 4:
            raise ValueError
    except ValueError:
        raise VocabularyError(f'{path} is not a DBoW2 text vocabulary (first line should be '
                              f"'k L scoring weighting', got {' '.join(header[:6])!r})") from None
    if not (0 < k <= 20 and 1 <= levels <= 10 and 0 <= scoring <= 5 and 0 <= weighting <= 3):
        raise VocabularyError(f'{path}: header k={k} L={levels} scoring={scoring} '
                              f'weighting={weighting} is outside what DBoW2 accepts')
    if len(first) != DESCRIPTOR_BYTES + 3 or first[0] != '0':
        raise VocabularyError(f'{path}: the first node line should hold parent 0, a leaf flag, '
                              f'{DESCRIPTOR_BYTES} descriptor bytes and a weight; '
                              f'it has {len(first)} fields')
    if last_byte in (b'\n', b'\r', b' '):
        raise VocabularyError(f'{path} ends with a blank line, which DBoW2 reads as an empty node '
                              '(use prepare() to get a cleaned copy)')
    return TextHeader(k, levels, scoring, weighting)


def cache_dir() -> Path:
    """Where decompressed or cleaned vocabularies go ($XDG_CACHE_HOME/mmchat_ros/vocabulary)."""
    base = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(base) / 'mmchat_ros' / 'vocabulary'


def prepare(path: str | Path, cache: Path | None = None) -> Path:
    """A plain-text vocabulary ORB-SLAM3 can load, from `path` (.txt, or .txt.gz decompressed once).

    A text file ending in blank lines (ORBvoc.txt as some mirrors ship it) gets a cleaned copy in
    the cache. Raises VocabularyError when the file is missing or not a vocabulary.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise VocabularyError(f'vocabulary file {path} does not exist')
    if path.suffix != '.gz':
        try:
            check_text_file(path)
            return path
        except VocabularyError as exc:
            if 'blank line' not in str(exc):
                raise
    digest = _file_digest(path)
    stem = path.name.removesuffix('.gz').removesuffix('.txt')
    target = (cache or cache_dir()) / f'{stem}-{digest}.txt'
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f'{target.name}.{os.getpid()}.part')
        try:
            opener = gzip.open if path.suffix == '.gz' else open
            with opener(path, 'rb') as src, open(tmp, 'wb') as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            _strip_trailing_blank(tmp)
            tmp.replace(target)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            tmp.unlink(missing_ok=True)
            raise VocabularyError(f'cannot decompress vocabulary {path}: {exc}') from exc
    check_text_file(target)
    return target


def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            sha.update(block)
    return sha.hexdigest()[:16]


def _strip_trailing_blank(path: Path) -> None:
    with open(path, 'rb+') as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        while end > 0:
            f.seek(end - 1)
            if f.read(1) not in (b'\n', b'\r', b' '):
                break
            end -= 1
        f.truncate(end)
