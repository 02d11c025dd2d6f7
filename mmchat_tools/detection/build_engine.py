"""`mmchat build-engine`: ONNX export, int8 ONNX for CPU, TensorRT engines for a Jetson (ROS-free).

    mmchat build-engine --weights models/detector/sim_yolo11n.pt     # .onnx + _int8.onnx
    # on a Jetson:
    mmchat build-engine --weights models/detector/sim_yolo11n.pt --tensorrt int8 --imgsz 640

Steps, each optional:
  1. ONNX export (Ultralytics, opset default, static 1x3xSxS input, graph simplified): <stem>.onnx
  2. int8 static quantisation for ONNX Runtime on the CPU (QDQ format): <stem>_int8.onnx.
     Weights int8 per channel, activations uint8 per tensor with ranges calibrated on real images
     (default: the 99.999th percentile of each activation's histogram; min/max ranges, stretched
     by rare outliers, cost this project's model 2.6 mAP50-95 points, percentile 0.2).
     The detection head's decoding (DFL softmax, box arithmetic, class sigmoid, the concatenation of
     pixel boxes with 0..1 scores) stays in float: one int8 scale cannot cover both ranges.
  3. TensorRT engine (FP16, or INT8 with an entropy calibrator fed by the same calibration images):
     <stem>_fp16.engine / <stem>_int8.engine, with Ultralytics' metadata header so the detector
     node (and Ultralytics) load it directly. Engines only run on the GPU model and TensorRT
     version that built them: build on the Jetson. See models/detector/MODEL_CARD.md.

Calibration images: --calibration DIR (any folder of .jpg/.png, e.g. the training images), or by
default --calibration-count images rendered from the simulator with their own seed.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import shutil
import tempfile
from typing import Iterator, Sequence

import numpy as np
from tqdm import tqdm

from mmchat_ros.detection.yolo import tensorrt_problem, ultralytics

HELP = ('export YOLO weights to ONNX, quantise to int8 ONNX (CPU), '
        'or build a TensorRT engine (Jetson)')
CALIBRATION_SEED = 100           # differs from the training (0, 1) and benchmark (2024) seeds
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')
HEAD_PREFIX = '/model.23/'       # YOLO11's Detect head in Ultralytics' ONNX graph
HEAD_CONVOLUTIONS = ('/model.23/cv2', '/model.23/cv3')   # its convolution branches: quantised


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `mmchat build-engine`."""
    parser.add_argument('--weights', type=Path, required=True,
                        help='Ultralytics .pt detection weights')
    parser.add_argument('--imgsz', type=int, default=320, help='input size of the exported models')
    parser.add_argument('--out', type=Path, help='output folder (default: beside the weights)')
    parser.add_argument('--no-onnx-int8', action='store_true', help='export fp32 ONNX only')
    parser.add_argument('--tensorrt', choices=('fp16', 'int8'), help='also build a TensorRT engine')
    parser.add_argument('--calibration', type=Path, help='folder of calibration images')
    parser.add_argument('--calibration-count', type=int, default=200,
                        help='calibration images '
                             '(rendered from the simulator without --calibration)')
    parser.add_argument('--calibration-method', choices=('minmax', 'percentile', 'entropy'),
                        default='percentile', help='ONNX Runtime activation range calibration')
    parser.add_argument('--workspace-gb', type=float, default=2.0,
                        help='TensorRT builder workspace')


def run(args: argparse.Namespace) -> int:
    """Build what the options ask for; prints each file written."""
    out = args.out or args.weights.parent
    out.mkdir(parents=True, exist_ok=True)
    if args.tensorrt and tensorrt_problem():
        print(f'mmchat build-engine: cannot build a TensorRT engine here: {tensorrt_problem()}')
        return 2
    onnx_path = export_onnx(args.weights, args.imgsz, out / f'{args.weights.stem}.onnx')
    print(f'wrote {onnx_path}')
    need_images = not args.no_onnx_int8 or args.tensorrt == 'int8'
    images = (calibration_images(args.calibration, args.calibration_count, args.imgsz)
              if need_images else [])
    if not args.no_onnx_int8:
        int8_path = quantize_onnx(onnx_path, out / f'{args.weights.stem}_int8.onnx', images,
                                  args.calibration_method)
        print(f'wrote {int8_path}')
    if args.tensorrt:
        engine = build_tensorrt(onnx_path, out / f'{args.weights.stem}_{args.tensorrt}.engine',
                                args.tensorrt, images, args.workspace_gb)
        print(f'wrote {engine}')
    return 0


# --- 1. ONNX export ----------------------------------------------------------------------------

def export_onnx(weights: Path, imgsz: int, target: Path) -> Path:
    """Export `weights` to a static-shape fp32 ONNX model at `target`."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / weights.name            # Ultralytics writes beside its input
        shutil.copyfile(weights, copy)
        exported = ultralytics().YOLO(str(copy), task='detect').export(
            format='onnx', imgsz=imgsz, simplify=True, dynamic=False, device='cpu', verbose=False)
        shutil.move(exported, target)
    return target


# --- calibration images ------------------------------------------------------------------------

def letterbox(bgr: np.ndarray, imgsz: int) -> np.ndarray:
    """The network input for one image, as the Ultralytics predictor makes it.

    Exactly as for a fixed square model: letterboxed (grey 114 padding, centred), RGB, 0..1,
    NCHW float32.
    """
    from ultralytics.data.augment import LetterBox

    ultralytics()
    padded = LetterBox((imgsz, imgsz), auto=False, stride=32)(image=bgr)
    return np.ascontiguousarray(padded[:, :, ::-1].transpose(2, 0, 1)[None],
                                dtype=np.float32) / 255.0


def calibration_images(folder: Path | None, count: int, imgsz: int) -> list[np.ndarray]:
    """Network inputs for calibration: up to `count` images of `folder`, or simulator renders."""
    import cv2

    if folder is not None:
        files = sorted(p for p in Path(folder).rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f'no images ({", ".join(IMAGE_SUFFIXES)}) under {folder}')
        step = max(1, len(files) // count)
        chosen = files[::step][:count]
        return [letterbox(cv2.imread(str(p)), imgsz)
                for p in tqdm(chosen, desc='calibration images')]
    return [letterbox(image, imgsz) for image in rendered_images(count)]


def rendered_images(count: int, seed: int = CALIBRATION_SEED) -> Iterator[np.ndarray]:
    """`count` random simulator views (both worlds), as for training but with their own seed."""
    import cv2

    from mmchat_ros import graph
    from mmchat_tools.detection import sim_data

    share = graph.share_dir()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with tqdm(total=count, desc='rendering calibration images', unit='img') as bar:
            sim_data.write_dataset(root, 'calibration', count, seed,
                                   sorted((share / 'sim' / 'worlds').glob('*.yaml')),
                                   share / 'sim' / 'vehicles' / 'quadrotor.yaml',
                                   progress=bar.update)
        for path in sorted((root / 'images' / 'calibration').glob('*.jpg')):
            yield cv2.imread(str(path))


# --- 2. int8 ONNX (ONNX Runtime, QDQ) ----------------------------------------------------------

class _CalibrationReader:
    """An onnxruntime.quantization CalibrationDataReader (get_next only) with a progress bar."""

    def __init__(self, input_name: str, images: Sequence[np.ndarray]) -> None:
        self._input = input_name
        self._images = iter(tqdm(images, desc='calibrating int8 ranges', unit='img'))

    def get_next(self) -> dict[str, np.ndarray] | None:
        image = next(self._images, None)
        return None if image is None else {self._input: image}


def head_decoding_nodes(model_path: Path) -> list[str]:
    """Names of the Detect head's decoding nodes (everything in the head but its convolutions)."""
    import onnx

    graph = onnx.load(str(model_path)).graph
    return [n.name for n in graph.node
            if n.name.startswith(HEAD_PREFIX) and not n.name.startswith(HEAD_CONVOLUTIONS)]


def quantize_onnx(fp32_path: Path, int8_path: Path, images: Sequence[np.ndarray],
                  method: str = 'percentile') -> Path:
    """Static int8 quantisation (QDQ) of an Ultralytics ONNX model, keeping its metadata."""
    import onnx
    import onnxruntime
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not images:
        raise ValueError('int8 quantisation needs calibration images')
    methods = {'minmax': CalibrationMethod.MinMax, 'percentile': CalibrationMethod.Percentile,
               'entropy': CalibrationMethod.Entropy}
    input_name = onnxruntime.InferenceSession(str(fp32_path), providers=['CPUExecutionProvider']) \
        .get_inputs()[0].name
    reader = _CalibrationReader(input_name, images)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / 'prepared.onnx'
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=False)
        quantize_static(str(prepared), str(int8_path), reader, quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=True, calibrate_method=methods[method],
                        nodes_to_exclude=head_decoding_nodes(prepared),
                        extra_options={'CalibTensorRangeSymmetric': False,
                                       'CalibMovingAverage': method == 'minmax'})
    source, target = onnx.load(str(fp32_path)), onnx.load(str(int8_path))
    del target.metadata_props[:]
    for prop in source.metadata_props:
        target.metadata_props.add(key=prop.key, value=prop.value)
    target.metadata_props.add(key='quantization',
                              value=f'int8 QDQ static, {method}, {len(images)} images')
    onnx.save(target, str(int8_path))
    return int8_path


# --- 3. TensorRT (on the Jetson) ---------------------------------------------------------------

def onnx_metadata(model_path: Path) -> dict[str, str]:
    """The Ultralytics metadata stored in an ONNX model (names, imgsz, stride, task, ...)."""
    import onnx

    return {p.key: p.value for p in onnx.load(str(model_path)).metadata_props}


def build_tensorrt(onnx_path: Path, engine_path: Path, precision: str, images: Sequence[np.ndarray],
                   workspace_gb: float = 2.0) -> Path:
    """Build a TensorRT engine from `onnx_path` on this machine's GPU; returns its path.

    Step by step (TensorRT 8.6 on JetPack 5, TensorRT 10 on JetPack 6):
      1. a builder and an explicit-batch network definition, filled by the ONNX parser;
      2. a builder config with a workspace limit and the precision flags (FP16; INT8 adds FP16 so
         layers without an int8 kernel fall back to half precision, not fp32);
      3. for INT8, an entropy calibrator (IInt8EntropyCalibrator2) that feeds the calibration
         images to the GPU one by one; TensorRT measures activation ranges and caches them in
         <engine>.calib, reused by later builds of the same model;
      4. build_serialized_network (minutes on a Jetson; a progress monitor shows the phases on
         TensorRT >= 10);
      5. the engine is written after a 4-byte length + JSON metadata header (Ultralytics' layout),
         so the detector node reads class names and input size from it.
    """
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    explicit_batch = 0 if int(trt.__version__.split('.')[0]) >= 10 else \
        1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(explicit_batch)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = '; '.join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f'TensorRT could not parse {onnx_path}: {errors}')

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gb * (1 << 30)))
    if not builder.platform_has_fast_fp16:
        print('warning: this GPU has no fast FP16')
    config.set_flag(trt.BuilderFlag.FP16)
    if precision == 'int8':
        if not images:
            raise ValueError('an INT8 engine needs calibration images')
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = _entropy_calibrator(trt, images, engine_path.with_suffix('.calib'))
    if hasattr(trt, 'IProgressMonitor'):
        config.progress_monitor = _progress_monitor(trt)

    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise RuntimeError('TensorRT failed to build the engine (see the log above)')
    metadata = onnx_metadata(onnx_path)
    metadata['args'] = str({'half': True, 'int8': precision == 'int8', 'dynamic': False,
                            'nms': False})
    header = json.dumps(metadata).encode()
    with engine_path.open('wb') as f:
        f.write(len(header).to_bytes(4, byteorder='little', signed=True))
        f.write(header)
        f.write(serialized)
    return engine_path


def _entropy_calibrator(trt, images: Sequence[np.ndarray], cache: Path):
    """An IInt8EntropyCalibrator2 that copies one image at a time to the GPU (with torch)."""
    import torch

    class EntropyCalibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self) -> None:
            super().__init__()
            self._images = list(images)
            self._next = 0
            self._device = torch.empty(self._images[0].shape, dtype=torch.float32, device='cuda')
            self._bar = tqdm(total=len(self._images), desc='TensorRT INT8 calibration', unit='img')

        def get_batch_size(self) -> int:
            return 1

        def get_batch(self, names: list[str]) -> list[int] | None:
            if self._next >= len(self._images):
                self._bar.close()
                return None
            self._device.copy_(torch.from_numpy(self._images[self._next]))
            self._next += 1
            self._bar.update(1)
            return [int(self._device.data_ptr())]

        def read_calibration_cache(self) -> bytes | None:
            return cache.read_bytes() if cache.is_file() else None

        def write_calibration_cache(self, data) -> None:
            cache.write_bytes(bytes(data))

    return EntropyCalibrator()


def _progress_monitor(trt):
    """A TensorRT >= 10 IProgressMonitor drawing one tqdm bar per build phase."""

    class TqdmProgress(trt.IProgressMonitor):
        def __init__(self) -> None:
            super().__init__()
            self._bars: dict[str, tqdm] = {}

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            self._bars[phase_name] = tqdm(total=num_steps, desc=phase_name,
                                          leave=parent_phase is None)

        def step_complete(self, phase_name: str, step: int) -> bool:
            bar = self._bars.get(phase_name)
            if bar is not None:
                bar.n = step + 1
                bar.refresh()
            return True                                  # False would cancel the build

        def phase_finish(self, phase_name: str) -> None:
            bar = self._bars.pop(phase_name, None)
            if bar is not None:
                bar.close()

    return TqdmProgress()
