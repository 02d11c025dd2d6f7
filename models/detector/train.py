#!/usr/bin/env python3
"""Train the project's detector (Ultralytics YOLO11 nano, from scratch, on CPU) on rendered data.

    tools/run nice -n 10 python models/detector/train.py \
        --data ~/.cache/mmchat_ros/detector_data/data.yaml --hours 0.5
    # a second stage: more data, starting from the first stage's weights
    tools/run nice -n 10 python models/detector/train.py --init models/detector/sim_yolo11n.pt \
        --data ~/.cache/mmchat_ros/detector_data/data.yaml \
               ~/.cache/mmchat_ros/detector_data_v2/data.yaml

The network is built from yolo11n.yaml (no pretrained weights: none can be downloaded here), or
starts from --init. `--relu` builds it with ReLU in place of SiLU (ReLU fuses into ONNX Runtime's
int8 convolutions, SiLU does not); with --init the weights carry over by name and shape.
`--hours` bounds the wall time; Ultralytics then sets the number of epochs and its learning-rate
schedule to fit. The best checkpoint (validation mAP) is copied to --weights.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import shutil
import sys
import time

import torch
import yaml

from mmchat_ros.detection.yolo import ultralytics

HERE = Path(__file__).resolve().parent


def merged_data(files: list[Path], val_images: int) -> Path:
    """One dataset file for several, written beside the first file.

    It lists all training folders, and every n-th validation image (val_images in all).
    """
    docs = [yaml.safe_load(f.read_text()) for f in files]
    train = [str(Path(d['path']) / d['train']) for d in docs]
    images = sorted(p for d in docs for p in (Path(d['path']) / d['val']).glob('*.jpg'))
    root = files[0].parent
    listing = root / 'val_subset.txt'
    chosen = images[::max(1, len(images) // val_images)][:val_images]
    listing.write_text(''.join(f'{p}\n' for p in chosen))
    merged = root / 'data_merged.yaml'
    merged.write_text(yaml.safe_dump({'path': str(root), 'train': train, 'val': str(listing),
                                      'names': docs[0]['names']}))
    return merged


def relu_network(folder: Path, classes: int) -> Path:
    """Ultralytics' own YOLO11 model file with `classes` classes and ReLU activations.

    ReLU is every convolution's activation; the file is written to `folder` under a name from
    which Ultralytics reads the nano scale.
    """
    network = yaml.safe_load((Path(ultralytics().__file__).parent / 'cfg' / 'models' / '11' /
                              'yolo11.yaml').read_text())
    network.update(nc=classes, activation='nn.ReLU()')
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / 'yolo11n-relu.yaml'
    path.write_text(yaml.safe_dump(network, sort_keys=False))
    return path


def main(argv: list[str] | None = None) -> int:
    """Train, copy the best weights, and write the final validation metrics next to them."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', type=Path, nargs='+', required=True,
                        help='data.yaml file(s) from generate_data.py (several are merged)')
    parser.add_argument('--init', type=Path,
                        help='start from these weights instead of yolo11n.yaml')
    parser.add_argument('--relu', action='store_true',
                        help='build the network with ReLU activations '
                             '(from --init: its weights carried over)')
    parser.add_argument('--lr0', type=float, default=0.0005,
                        help='AdamW learning rate when starting from --init (no warm-up)')
    parser.add_argument('--hours', type=float, default=0.5, help='training wall-time budget')
    parser.add_argument('--epochs', type=int, default=100, help='upper bound when --hours is 0')
    parser.add_argument('--imgsz', type=int, default=320)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--threads', type=int, default=os.cpu_count(),
                        help='PyTorch threads (Ultralytics alone would use one core less than '
                             'the machine has)')
    parser.add_argument('--fraction', type=float, default=1.0,
                        help='fraction of the training images')
    parser.add_argument('--val-images', type=int, default=150,
                        help='validation images checked after each epoch (a fixed subset)')
    parser.add_argument('--runs', type=Path,
                        default=Path.home() / '.cache' / 'mmchat_ros' / 'detector_runs')
    parser.add_argument('--weights', type=Path, default=HERE / 'sim_yolo11n.pt')
    parser.add_argument('--name', default='sim_yolo11n', help='run folder name under --runs')
    args = parser.parse_args(argv)

    report_path = args.weights.with_suffix('.train.json')
    stages = (json.loads(report_path.read_text())['stages']
              if args.init and report_path.is_file() else [])
    if args.relu:
        classes = len(yaml.safe_load(args.data[0].read_text())['names'])
        model = ultralytics().YOLO(str(relu_network(args.runs, classes)))
        if args.init:
            model.load(str(args.init))
    else:
        model = ultralytics().YOLO(str(args.init) if args.init else 'yolo11n.yaml')
    # From scratch: Ultralytics' automatic optimiser and warm-up. Fine-tuning: a small
    # constant-start AdamW rate without warm-up (the warm-up's high bias rate undoes what the
    # weights learnt). pretrained=False would make Ultralytics (8.4) drop the --init weights and
    # start from scratch.
    schedule = (dict(optimizer='AdamW', lr0=args.lr0, warmup_epochs=0, warmup_bias_lr=0.0)
                if args.init else dict(optimizer='auto', warmup_epochs=1))
    # Ultralytics sets torch's threads to cores - 1 when it picks the CPU: one thread on 2 cores.
    model.add_callback('on_pretrain_routine_start',
                       lambda trainer: torch.set_num_threads(args.threads))
    started = time.monotonic()
    model.train(data=str(merged_data(args.data, args.val_images)), epochs=args.epochs,
                time=args.hours or None, imgsz=args.imgsz, batch=args.batch, fraction=args.fraction,
                device='cpu', workers=0, pretrained=bool(args.init), amp=False, plots=False,
                cache='ram',
                close_mosaic=2, patience=100, seed=0, project=str(args.runs), name=args.name,
                exist_ok=True, verbose=True, **schedule)
    hours = (time.monotonic() - started) / 3600
    run_dir = Path(model.trainer.save_dir)
    args.weights.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / 'weights' / 'best.pt', args.weights)
    metrics = model.trainer.metrics
    stage = {'epochs': model.trainer.epoch + 1, 'train_hours': round(hours, 3), 'imgsz': args.imgsz,
             'batch': args.batch, 'threads': args.threads, 'data': [str(d) for d in args.data],
             'init': str(args.init) if args.init else 'yolo11n.yaml (from scratch)',
             'activation': type(model.trainer.model.model[0].act).__name__,
             'val_map50': round(float(metrics.get('metrics/mAP50(B)', 0.0)), 4),
             'val_map50_95': round(float(metrics.get('metrics/mAP50-95(B)', 0.0)), 4),
             'run_dir': str(run_dir), **schedule}
    report_path.write_text(json.dumps({'stages': stages + [stage]}, indent=2) + '\n')
    print(json.dumps(stage, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
