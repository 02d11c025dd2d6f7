"""`mmchat slam-offline` on a generated TUM RGB-D sequence: trajectory, ATE, metric scale."""
import json

import numpy as np
import pytest

from mmchat_ros.bringup import main
from mmchat_ros.slam.poses import Trajectory
from mmchat_tools.slam.metrics import ate
from test_slam_helpers import short_sequence


@pytest.mark.slow
def test_offline_cli_writes_a_tum_trajectory_that_matches_ground_truth(tmp_path, capsys):
    folder = short_sequence()
    assert (folder / 'rgb.txt').is_file() and (folder / 'groundtruth.txt').is_file()
    out = tmp_path / 'trajectory.txt'
    assert main(['slam-offline', str(folder), '--out', str(out), '--metric',
                 '--params', 'config/sim/slam.yaml',
                 '--report', str(tmp_path / 'report.json')]) == 0
    summary = json.loads((tmp_path / 'report.json').read_text())
    assert summary['frames'] == 240 and summary['maps'] == 1 and summary['tracked_fraction'] > 0.8
    estimate, truth = Trajectory.read_tum(out), Trajectory.read_tum(folder / 'groundtruth.txt')
    assert len(estimate) == round(summary['tracked_fraction'] * 240)
    error = ate(estimate, truth)
    assert error.rmse_m < 0.08 and error.rmse_percent < 1.0
    assert summary['ate_rmse_m'] == round(error.rmse_m, 4)
    metric = Trajectory.read_tum(out.with_suffix('.metric.txt'))      # scale from the climb
    gaps = np.linalg.norm(metric.positions
                          - truth.positions[np.searchsorted(truth.times, metric.times)], axis=1)
    assert np.median(gaps) < 0.3          # a few percent of scale error over a 7 m path
    assert main(['slam-offline', str(tmp_path / 'nowhere'), '--out', str(out)]) == 2
    assert 'neither a TUM RGB-D folder' in capsys.readouterr().err
