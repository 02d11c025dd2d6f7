"""`python -m mmchat_ros.bench`: every benchmark is registered and parses its defaults; a missing
model is reported before anything runs (the benchmarks themselves run with `make bench`)."""
from pathlib import Path

from mmchat_ros.bench import BENCHMARK_MODULES
from mmchat_ros.bench.__main__ import build_parser, main


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
