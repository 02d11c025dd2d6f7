"""`mmchat build-engine`: ONNX export and int8 quantisation for real; TensorRT where it can run."""
from __future__ import annotations

from collections import Counter
import math

import numpy as np
import pytest

from mmchat_ros import bringup, graph
from mmchat_ros.detection.yolo import ModelError, YoloDetector, check_model_file, tensorrt_problem
from mmchat_ros.simulation import Simulator
from mmchat_tools.detection import build_engine, sim_data

SHARE = graph.share_dir()
WEIGHTS = SHARE / 'models' / 'detector' / 'sim_yolo11n.pt'
TENSORRT_PROBLEM = tensorrt_problem()


@pytest.fixture(scope='module')
def scene():
    """A rendered indoor view with two people and their true boxes."""
    sim = Simulator.from_files(SHARE / 'sim' / 'worlds' / 'indoor_room.yaml',
                               SHARE / 'sim' / 'vehicles' / 'quadrotor.yaml', seed=5)
    renderer = sim_data.LabelledRenderer(sim, 320, 240)
    sim_data.set_target_pose(sim, 1, 1.0, 0.6, 0.0)
    sim_data.set_target_pose(sim, 2, 2.0, -1.0, 1.0)
    renderer.place_camera(sim_data.CameraPose((-3.0, 0.0, 1.2), 0.0, math.radians(8)))
    image, boxes = renderer.render()
    renderer.close()
    sim.close()
    assert len(boxes) == 2
    return image, boxes


@pytest.mark.slow
def test_export_and_int8_quantisation(tmp_path, scene):
    """Export at a small size, quantise with a few calibration images, and detect with it."""
    image, truth = scene
    imgsz = 256
    onnx_path = build_engine.export_onnx(WEIGHTS, imgsz, tmp_path / 'model.onnx')
    calibration = tmp_path / 'calibration'
    calibration.mkdir()
    import cv2
    for i in range(6):
        cv2.imwrite(str(calibration / f'{i}.png'), np.roll(image, 20 * i, axis=1))
    inputs = build_engine.calibration_images(calibration, 6, imgsz)
    assert inputs[0].shape == (1, 3, imgsz, imgsz) and inputs[0].dtype == np.float32
    assert 0.0 <= inputs[0].min() and inputs[0].max() <= 1.0
    int8_path = build_engine.quantize_onnx(onnx_path, tmp_path / 'model_int8.onnx', inputs)

    import onnx
    model = onnx.load(str(int8_path))
    ops = Counter(n.op_type for n in model.graph.node)
    assert ops['QuantizeLinear'] > 50 and ops['DequantizeLinear'] > 50
    metadata = {p.key: p.value for p in model.metadata_props}
    assert "'person'" in metadata['names'] and metadata['imgsz'] == f'[{imgsz}, {imgsz}]'
    decoding = set(build_engine.head_decoding_nodes(onnx_path))
    assert decoding and all(n.name in decoding for n in model.graph.node
                            if n.name.startswith(build_engine.HEAD_PREFIX)
                            and n.op_type in ('Softmax', 'Div'))
    quantised_inputs = {i for n in model.graph.node if n.op_type == 'QuantizeLinear'
                        for i in n.input}
    decoding_outputs = {o for n in model.graph.node if n.name in decoding for o in n.output}
    assert not quantised_inputs & decoding_outputs, 'the head decoding stays in float'

    detector = YoloDetector(int8_path, imgsz=imgsz, conf=0.25)
    found = detector.detect(image)
    assert detector.backend == 'onnxruntime'
    assert sum(b.class_id == 0 for b in found) >= 1
    with pytest.raises(ModelError, match='takes 256 px inputs'):
        YoloDetector(int8_path, imgsz=320)


def test_tensorrt_is_refused_with_a_reason_when_it_cannot_run(tmp_path, capsys):
    if TENSORRT_PROBLEM is None:
        pytest.skip('TensorRT can run here; the refusal is for machines without it')
    engine = tmp_path / 'model.engine'
    engine.write_bytes(b'\0' * 64)
    with pytest.raises(ModelError, match='TensorRT'):
        check_model_file(engine)
    code = bringup.main(['build-engine', '--weights', str(WEIGHTS), '--tensorrt', 'int8',
                         '--out', str(tmp_path)])
    assert code == 2 and 'cannot build a TensorRT engine here' in capsys.readouterr().out
    assert not list(tmp_path.glob('*.onnx')), \
        'nothing is exported when the requested engine cannot be built'


@pytest.mark.skipif(TENSORRT_PROBLEM is not None,
                    reason='TensorRT engines are built and run on an NVIDIA GPU: '
                           f'{TENSORRT_PROBLEM}')
@pytest.mark.parametrize('precision', ['fp16', 'int8'])
def test_tensorrt_engine_builds_and_detects(tmp_path, scene, precision):
    image, _ = scene
    onnx_path = build_engine.export_onnx(WEIGHTS, 320, tmp_path / 'model.onnx')
    inputs = [build_engine.letterbox(np.roll(image, 15 * i, axis=1), 320) for i in range(16)]
    engine = build_engine.build_tensorrt(onnx_path, tmp_path / f'model_{precision}.engine',
                                         precision, inputs)
    detector = YoloDetector(engine, imgsz=320, device='cuda:0')
    assert detector.names[0] == 'person'
    assert any(b.class_id == 0 for b in detector.detect(image))
