#!/usr/bin/env python3
"""Render an auto-labelled YOLO dataset of the simulator's targets (person, vehicle).

    tools/run python models/detector/generate_data.py --out ~/.cache/mmchat_ros/detector_data \
        --train 2400 --val 400 --seed 0

Both worlds in turn, a new texture seed and target layout every --per-scene images; boxes from
MuJoCo segmentation (see mmchat_tools/detection/sim_data.py). The validation split uses seed + 1.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys

from tqdm import tqdm

from mmchat_ros import graph
from mmchat_tools.detection import sim_data

DEFAULT_OUT = Path.home() / '.cache' / 'mmchat_ros' / 'detector_data'


def main(argv: list[str] | None = None) -> int:
    """Write images/, labels/ and data.yaml under --out."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', type=Path, default=DEFAULT_OUT)
    parser.add_argument('--train', type=int, default=2400, help='training images')
    parser.add_argument('--val', type=int, default=400, help='validation images (seed + 1)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--per-scene', type=int, default=30, help='images per random scene')
    parser.add_argument('--distractors', type=int, default=6,
                        help='most random extra obstacles per scene')
    args = parser.parse_args(argv)
    share = graph.share_dir()
    worlds = sorted((share / 'sim' / 'worlds').glob('*.yaml'))
    vehicle = share / 'sim' / 'vehicles' / 'quadrotor.yaml'
    report = {}
    for split, count, seed in (('train', args.train, args.seed), ('val', args.val, args.seed + 1)):
        with tqdm(total=count, desc=f'rendering {split}', unit='img') as bar:
            report[split] = sim_data.write_dataset(args.out, split, count, seed, worlds, vehicle,
                                                   images_per_scene=args.per_scene,
                                                   max_distractors=args.distractors,
                                                   progress=bar.update)
    sim_data.write_data_yaml(args.out, {'train': 'images/train', 'val': 'images/val'})
    (args.out / 'stats.json').write_text(json.dumps(report, indent=2) + '\n')
    print(json.dumps(report, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
