"""`python -m mmchat_bench`: the benchmarks' command line and set-up.

Every benchmark is registered and parses its defaults; a missing model is reported before anything
runs (the benchmarks themselves run with `make bench`); the tracker's settings are chosen on
scenarios the detector benchmark does not score; the detector benchmark's operator profile reads
ONNX Runtime's real profiler output.
"""
from pathlib import Path

import numpy as np

from mmchat_bench import BENCHMARK_MODULES, detector, tracker
from mmchat_bench.__main__ import build_parser, main
from mmchat_ros import graph
from mmchat_tools.detection.build_engine import letterbox

MODELS = graph.share_dir() / 'models' / 'detector'


def test_every_benchmark_parses_its_defaults(tmp_path):
    parser = build_parser()
    for name in BENCHMARK_MODULES:
        args = parser.parse_args([name, '--out', str(tmp_path)])
        assert args.benchmark == name and callable(args.handler) and args.out == Path(tmp_path)


def test_detector_benchmark_reports_missing_models(tmp_path, capsys):
    assert main(['detector', '--models', str(tmp_path), '--out', str(tmp_path / 'out')]) == 2
    message = capsys.readouterr().out
    assert 'missing model files' in message and 'sim_yolo11n_int8.onnx' in message
    assert not (tmp_path / 'out').exists()


def test_tracker_benchmark_reports_a_missing_model(tmp_path, capsys):
    assert main(['tracker', '--model', str(tmp_path / 'none.onnx'),
                 '--out', str(tmp_path / 'out')]) == 2
    assert 'missing model file' in capsys.readouterr().out
    assert not (tmp_path / 'out').exists()


def test_tracker_settings_are_chosen_on_other_scenarios_than_the_benchmarks():
    """The validation scenarios share no name, person or colour with the scored ones."""
    validation, _ = tracker.scenario_set(graph.share_dir(), validation=True)
    scored, _ = tracker.scenario_set(graph.share_dir())
    assert len(validation) >= 4 and set(validation).isdisjoint(scored)

    def colours(scenarios):
        return {t.rgba for s in scenarios.values() for t in s.world.targets}

    assert colours(validation).isdisjoint(colours(scored))


def test_operator_profile_splits_time_by_operator_type():
    image = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    inputs = [letterbox(image, 320)] * 2
    fp32 = detector.operator_times(MODELS / 'sim_yolo11n.onnx', inputs)
    int8 = detector.operator_times(MODELS / 'sim_yolo11n_int8.onnx', inputs)
    assert 'QLinearConv' not in fp32 and fp32['Conv'] > 0
    # ONNX Runtime fuses the QDQ convolutions; only the head's float DFL convolution stays Conv
    assert int8['QLinearConv'] > 0 and int8.get('Conv', 0) < int8['QLinearConv'] / 10
    for ops in (fp32, int8):
        assert list(ops.values()) == sorted(ops.values(), reverse=True)
