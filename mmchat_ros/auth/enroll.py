"""Enrol an operator's face or voice into the enrolment store.

    mmchat enroll --name alice --images photos/alice/
    mmchat enroll --name alice --voice recordings/alice/

Every image must show exactly one face and every recording must be usable speech (8-48 kHz);
the others are listed with the reason and skipped. At least --min-samples usable ones are needed.
Only embeddings are stored (no images, no audio). A face that already matches another operator
is refused: two operators who cannot be told apart would let one end the other's session.
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sys

import numpy as np

from mmchat_ros.auth.store import STORE_ENV, EnrolmentStore, StoreError, default_store_path

HELP = "enrol an operator's face (--images DIR) or voice (--voice DIR) into the enrolment store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `mmchat enroll`."""
    parser.add_argument('--name', required=True, help='operator name')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--images', type=Path, metavar='DIR', help='folder of face photos')
    source.add_argument('--voice', type=Path, metavar='DIR', help='folder of wav/flac utterances')
    source.add_argument('--camera', action='store_true', help='enrol from the camera (needs the '
                        'auth node, not available yet)')
    source.add_argument('--microphone', action='store_true', help='enrol from the microphone '
                        '(needs the auth node, not available yet)')
    parser.add_argument('--store', type=Path, default=None,
                        help=f'enrolment store (default: ${STORE_ENV} or {default_store_path()})')
    parser.add_argument('--min-samples', type=int, default=3,
                        help='usable images or utterances needed (default 3)')


def run(args: argparse.Namespace) -> int:
    """Enrol; 0 on success, 2 on bad input."""
    if args.camera or args.microphone:
        print('mmchat enroll: --camera/--microphone enrolment runs in the auth node (not yet '
              'available); record photos or utterances and use --images/--voice', file=sys.stderr)
        return 2
    folder = args.images or args.voice
    if not folder.is_dir():
        print(f'mmchat enroll: {folder} is not a folder', file=sys.stderr)
        return 2
    embed = _face_embeddings if args.images else _voice_embeddings
    kind = 'face' if args.images else 'voice'
    try:
        with EnrolmentStore(args.store or default_store_path()) as store:
            embeddings, problems = embed(folder)
            for problem in problems:
                print(f'  skipped {problem}')
            if len(embeddings) < args.min_samples:
                print(f'mmchat enroll: {len(embeddings)} usable {kind} samples in {folder}, '
                      f'need {args.min_samples}', file=sys.stderr)
                return 2
            if kind == 'face' and (clash := _clashing_operator(store, args.name, embeddings)):
                print(f'mmchat enroll: these faces match operator {clash}; refusing to enrol '
                      f'them as {args.name}', file=sys.stderr)
                return 2
            count = store.enrol(args.name, kind, embeddings)
            print(f'enrolled {count} {kind} embeddings for {args.name} in {store.path}')
    except StoreError as exc:
        print(f'mmchat enroll: {exc}', file=sys.stderr)
        return 2
    return 0


def _face_embeddings(folder: Path) -> tuple[list[tuple[np.ndarray, str]], list[str]]:
    from mmchat_ros.auth.faces import FaceAnalyzer, image_files, load_image

    analyzer, embeddings, problems = FaceAnalyzer(), [], []
    for path in image_files(folder):
        try:
            faces = analyzer.analyse(load_image(path))
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if len(faces) != 1:
            problems.append(f'{path.name}: {len(faces) or "no"} faces found (need exactly one)')
            continue
        embeddings.append((faces[0].embedding, path.name))
    return embeddings, problems


def _voice_embeddings(folder: Path) -> tuple[list[tuple[np.ndarray, str]], list[str]]:
    from mmchat_ros.auth.voiceprint import AudioError, VoiceprintModel, audio_files

    model, embeddings, problems = VoiceprintModel(), [], []
    for path in audio_files(folder):
        try:
            embeddings.append((model.embed_file(path), path.name))
        except AudioError as exc:
            problems.append(str(exc))
    return embeddings, problems


def _clashing_operator(store: EnrolmentStore, name: str,
                       embeddings: list[tuple[np.ndarray, str]]) -> str | None:
    from mmchat_ros.auth.matching import FaceGallery
    from mmchat_ros.auth.config import load_parameters

    others = {n: e for n, e in store.embeddings('face').items() if n != name}
    gallery = FaceGallery(others, float(load_parameters()['face_threshold']))
    matches = {gallery.match_embedding(e).operator for e, _ in embeddings} - {None}
    return ', '.join(sorted(matches)) or None
