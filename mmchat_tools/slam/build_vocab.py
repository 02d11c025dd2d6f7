"""`mmchat build-vocab`: train an ORB vocabulary for ORB-SLAM3 on images, a video or the simulator.

    mmchat build-vocab IMAGES_OR_VIDEO --out vocab.txt.gz [-k 10 -L 6] [--every 5] [--max-frames N]
    mmchat build-vocab --sim train_room train_yard --out vocab.txt.gz

Writes the DBoW2 text format ORB-SLAM3 loads (gzip-compressed when the name ends in .gz; the SLAM
node and the offline runner decompress it once into a cache). The default depth L=6 is the one
ORB-SLAM3's lookups expect (see mmchat_ros.slam.vocabulary).
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path
import sys
import time
from typing import Iterator

import numpy as np

from mmchat_ros.slam import vocabulary
from mmchat_tools.slam import vocabulary_training

HELP = 'train a DBoW2 ORB vocabulary (ORB-SLAM3 text format) from images, a video or the simulator'


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the vocabulary builder."""
    parser.add_argument('source', nargs='?', type=Path, help='image folder or video file')
    parser.add_argument('--sim', nargs='+', metavar='SEQUENCE',
                        help='render built-in simulator sequences instead (see '
                             '`mmchat sequences list`)')
    parser.add_argument('--out', type=Path, required=True, help='vocabulary file (.txt or .txt.gz)')
    parser.add_argument('-k', type=int, default=vocabulary_training.DEFAULT_K,
                        help='branching factor (default 10)')
    parser.add_argument('-L', '--levels', type=int, default=vocabulary_training.DEFAULT_L,
                        help='depth (default 6, what ORB-SLAM3 expects)')
    parser.add_argument('--every', type=int, default=1, help='use every n-th frame (default 1)')
    parser.add_argument('--max-frames', type=int, default=0,
                        help='stop after this many frames (0: all)')
    parser.add_argument('--features', type=int, default=1000,
                        help='ORB features per frame (default 1000)')
    parser.add_argument('--width', type=int, default=640, help='rendered width for --sim')
    parser.add_argument('--height', type=int, default=480, help='rendered height for --sim')
    parser.add_argument('--seed', type=int, default=0, help='k-means++ seed')


def _folder_or_video(source: Path, every: int) -> Iterator[np.ndarray]:
    import cv2

    from mmchat_ros.frame_sources import IMAGE_SUFFIXES

    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise vocabulary.VocabularyError(
                f'{source} holds no images ({", ".join(IMAGE_SUFFIXES)})')
        for path in files[::every]:
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is not None:
                yield image
        return
    capture = cv2.VideoCapture(str(source))
    if not source.is_file() or not capture.isOpened():
        raise vocabulary.VocabularyError(
            f'{source} is neither an image folder nor a readable video')
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                yield frame
            index += 1
    finally:
        capture.release()


def _simulated(names: list[str], every: int, width: int, height: int) -> Iterator[np.ndarray]:
    from mmchat_tools.slam import sequences

    for name in names:
        for frame in sequences.frames(name, width, height, every=every):
            yield frame.image


def run(args: argparse.Namespace) -> int:
    """Build and write the vocabulary; 0 on success, 2 on bad input."""
    from tqdm import tqdm

    if (args.source is None) == (args.sim is None):
        print('build-vocab: give an image folder or video, or --sim SEQUENCE...', file=sys.stderr)
        return 2
    if args.every < 1:
        print('build-vocab: --every must be >= 1', file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        if args.sim:
            from mmchat_tools.slam.sequences import spec
            for name in args.sim:
                spec(name)
            images = _simulated(args.sim, args.every, args.width, args.height)
        else:
            images = _folder_or_video(args.source, args.every)
        limit = args.max_frames or None
        frames = tqdm(itertools.islice(images, limit), total=limit, desc='ORB features',
                      unit='frame')
        descriptors, image_ids = vocabulary_training.orb_descriptors(frames,
                                                                     n_features=args.features)
        with tqdm(total=len(descriptors), desc=f'k-means k={args.k} L={args.levels}',
                  unit='desc') as bar:
            vocab = vocabulary_training.train(descriptors, image_ids, args.k, args.levels,
                                              seed=args.seed, progress=bar.update)
        vocab.write_text(args.out)
        vocabulary.prepare(args.out)             # the check ORB-SLAM3 needs before loading it
    except (vocabulary.VocabularyError, ValueError) as exc:
        print(f'build-vocab: {exc}', file=sys.stderr)
        return 2
    print(f'{args.out}: {vocab.words} words, {len(vocab.parents) - 1} nodes, k={vocab.k} '
          f'L={vocab.levels}, from {len(descriptors)} descriptors of {len(np.unique(image_ids))} '
          f'frames in {time.monotonic() - started:.0f} s ({args.out.stat().st_size / 1e6:.1f} MB)')
    return 0

