#!/usr/bin/env python3
"""Train the project's detector (Ultralytics YOLO11 nano, from scratch, on the CPU) on rendered data.

    tools/run nice -n 10 python models/detector/train.py \
        --data ~/.cache/mmchat_ros/detector_data/data.yaml --hours 0.5

The network is built from yolo11n.yaml (no pretrained weights: none can be downloaded here).
`--hours` bounds the wall time; Ultralytics then sets the number of epochs and its learning-rate
schedule to fit. The best checkpoint (validation mAP) is copied to --weights.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import shutil
import sys
import time

import yaml

from mmchat_ros.detection.backends import ultralytics

HERE = Path(__file__).resolve().parent


def subset_validation(data: Path, count: int) -> Path:
    """A copy of data.yaml whose validation split is every n-th image (count in all)."""
    doc = yaml.safe_load(data.read_text())
    root = Path(doc['path'])
    images = sorted((root / doc['val']).glob('*.jpg'))
    listing = root / 'val_subset.txt'
    listing.write_text(''.join(f'{p}\n' for p in images[::max(1, len(images) // count)][:count]))
    doc['val'] = str(listing)
    subset = root / 'data_val_subset.yaml'
    subset.write_text(yaml.safe_dump(doc))
    return subset


def main(argv: list[str] | None = None) -> int:
    """Train, copy the best weights, and write the final validation metrics next to them."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', type=Path, required=True, help='data.yaml from generate_data.py')
    parser.add_argument('--hours', type=float, default=0.5, help='training wall-time budget')
    parser.add_argument('--epochs', type=int, default=100, help='upper bound when --hours is 0')
    parser.add_argument('--imgsz', type=int, default=320)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--fraction', type=float, default=1.0, help='fraction of the training images')
    parser.add_argument('--val-images', type=int, default=150,
                        help='validation images checked after each epoch (a fixed subset)')
    parser.add_argument('--runs', type=Path, default=Path.home() / '.cache' / 'mmchat_ros' / 'detector_runs')
    parser.add_argument('--weights', type=Path, default=HERE / 'sim_yolo11n.pt')
    args = parser.parse_args(argv)

    model = ultralytics().YOLO('yolo11n.yaml')
    started = time.monotonic()
    model.train(data=str(subset_validation(args.data, args.val_images)), epochs=args.epochs, time=args.hours or None, imgsz=args.imgsz,
                batch=args.batch, fraction=args.fraction, device='cpu', workers=0, pretrained=False,
                amp=False, plots=False, cache='ram', warmup_epochs=1, close_mosaic=2, patience=100,
                seed=0, project=str(args.runs), name='sim_yolo11n', exist_ok=True, verbose=True)
    hours = (time.monotonic() - started) / 3600
    run_dir = Path(model.trainer.save_dir)
    args.weights.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / 'weights' / 'best.pt', args.weights)
    metrics = model.trainer.metrics
    report = {'epochs': model.trainer.epoch + 1, 'train_hours': round(hours, 3), 'imgsz': args.imgsz,
              'batch': args.batch, 'data': str(args.data),
              'val_map50': round(float(metrics.get('metrics/mAP50(B)', 0.0)), 4),
              'val_map50_95': round(float(metrics.get('metrics/mAP50-95(B)', 0.0)), 4),
              'run_dir': str(run_dir)}
    args.weights.with_suffix('.train.json').write_text(json.dumps(report, indent=2) + '\n')
    print(json.dumps(report, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
