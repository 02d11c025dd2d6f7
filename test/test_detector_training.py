"""models/detector/train.py: the ReLU network it builds, and how committed weights carry over."""
from __future__ import annotations

import importlib.util

import torch

from mmchat_ros import graph
from mmchat_ros.detection.yolo import ultralytics

DETECTOR_MODELS = graph.share_dir() / 'models' / 'detector'


def _train_script():
    spec = importlib.util.spec_from_file_location('detector_train', DETECTOR_MODELS / 'train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_relu_network_is_a_two_class_nano_yolo_with_relu_everywhere(tmp_path):
    model = ultralytics().YOLO(str(_train_script().relu_network(tmp_path, classes=2)))
    network = model.model
    activations = {type(m.act).__name__ for m in network.modules() if hasattr(m, 'act')}
    assert activations == {'ReLU', 'Identity'}, 'ReLU wherever the SiLU network has an activation'
    assert not any(isinstance(m, torch.nn.SiLU) for m in network.modules())
    assert network.yaml['nc'] == 2 and len(network.names) == 2
    parameters = sum(p.numel() for p in network.parameters())
    assert 2.0e6 < parameters < 3.0e6, f'{parameters} parameters is not the nano scale'


def test_committed_weights_carry_over_into_the_relu_network_whole(tmp_path):
    """What `train.py --relu --init` starts from: every tensor of the committed model, unchanged."""
    committed = ultralytics().YOLO(str(DETECTOR_MODELS / 'sim_yolo11n.pt')).model.state_dict()
    model = ultralytics().YOLO(str(_train_script().relu_network(tmp_path, classes=2)))
    model.load(str(DETECTOR_MODELS / 'sim_yolo11n.pt'))
    loaded = model.model.state_dict()
    assert loaded.keys() == committed.keys()
    assert all(torch.equal(loaded[k].float(), committed[k].float()) for k in committed)
