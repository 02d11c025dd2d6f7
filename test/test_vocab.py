"""The vocabulary builder: DBoW2 tree, ORB-SLAM3's text format, checks before loading, the CLI."""
import gzip

import numpy as np
import pytest

from mmchat_ros.slam import vocabulary
from mmchat_tools.slam import vocabulary_training


@pytest.fixture(scope='module')
def small_vocabulary():
    rng = np.random.default_rng(0)
    prototypes = rng.integers(0, 256, (30, 32), dtype=np.uint8)
    noise = rng.random((3000, 256)) < 0.05           # descriptors scattered around 30 prototypes
    bits = np.unpackbits(prototypes[rng.integers(0, 30, 3000)], axis=1) ^ noise
    return vocabulary_training.train(np.packbits(bits.astype(np.uint8), axis=1),
                                     rng.integers(0, 20, 3000), k=5, levels=3)


def test_tree_is_dbow2_shaped(small_vocabulary):
    v = small_vocabulary
    assert v.parents[0] == -1 and np.all(v.parents[1:] < np.arange(1, len(v.parents)))
    children = np.bincount(v.parents[1:], minlength=len(v.parents))
    assert children.max() <= 5 and np.all(children[~v.is_leaf] > 0)
    assert np.all(v.weights[~v.is_leaf] == 0) and np.all(v.weights[v.is_leaf] >= 0)
    depth = np.zeros(len(v.parents), int)
    for node in range(1, len(v.parents)):
        depth[node] = depth[v.parents[node]] + 1
    assert depth.max() <= 3 and v.words > 30


def test_text_format_round_trip_and_gzip(small_vocabulary, tmp_path):
    plain, packed = tmp_path / 'v.txt', tmp_path / 'v.txt.gz'
    small_vocabulary.write_text(plain)
    small_vocabulary.write_text(packed)
    text = plain.read_text()
    assert not text.endswith('\n') and text.split('\n', 1)[0] == '5 3 0 0'
    lines = text.split('\n')[1:]
    assert len(lines) == len(small_vocabulary.parents) - 1
    fields = lines[0].split()
    assert len(fields) == 35 and fields[0] == '0' and all(0 <= int(b) <= 255 for b in fields[2:34])
    assert vocabulary.check_text_file(plain) == vocabulary.TextHeader(5, 3, 0, 0)
    unpacked = vocabulary.prepare(packed, cache=tmp_path / 'cache')
    assert unpacked.read_text() == text
    assert vocabulary.prepare(packed, cache=tmp_path / 'cache') == unpacked      # decompressed once


def test_files_orbslam3_would_choke_on_are_refused_or_cleaned(small_vocabulary, tmp_path):
    good = tmp_path / 'good.txt'
    small_vocabulary.write_text(good)
    trailing = tmp_path / 'ORBvoc.txt'
    trailing.write_text(good.read_text() + '\n\n')
    with pytest.raises(vocabulary.VocabularyError, match='blank line'):
        vocabulary.check_text_file(trailing)
    cleaned = vocabulary.prepare(trailing, cache=tmp_path / 'cache')
    assert cleaned.read_text() == good.read_text()
    for name, content in (('words.txt', 'hello world\n1 2'),
                          ('deep.txt', '10 12 0 0\n0 1 ' + '0 ' * 33)):
        (tmp_path / name).write_text(content)
        with pytest.raises(vocabulary.VocabularyError):
            vocabulary.prepare(tmp_path / name, cache=tmp_path / 'cache')
    with pytest.raises(vocabulary.VocabularyError, match='does not exist'):
        vocabulary.prepare(tmp_path / 'missing.txt')
    (tmp_path / 'broken.txt.gz').write_bytes(gzip.compress(b'10 6 0 0\n')[:12])
    with pytest.raises(vocabulary.VocabularyError, match='decompress'):
        vocabulary.prepare(tmp_path / 'broken.txt.gz', cache=tmp_path / 'cache')


def test_shipped_vocabulary_is_a_checked_depth_6_vocabulary(tmp_path):
    from mmchat_ros.graph import share_dir
    path = vocabulary.prepare(share_dir() / vocabulary.SHIPPED, cache=tmp_path)
    header = vocabulary.check_text_file(path)
    assert (header.k, header.levels) == (10, vocabulary.ORB_SLAM3_LEVELS_UP + 2)


def test_build_vocab_cli_writes_a_file_orbslam3_loads_and_tracks_with(tmp_path):
    """`mmchat build-vocab` on rendered frames (small k and L for speed), then real ORB-SLAM3."""
    import cv2

    from mmchat_ros.bringup import main
    from mmchat_ros.calibration import CameraCalibration
    from mmchat_ros.slam.backend import TrackingState, open_backend
    from mmchat_ros.slam.settings import OrbParameters, write_settings
    from mmchat_tools.slam import sequences

    folder = tmp_path / 'frames'
    folder.mkdir()
    frames = list(sequences.frames('train_room', 320, 240, duration_s=6.0, every=10))
    for k, frame in enumerate(frames):
        cv2.imwrite(str(folder / f'{k:03d}.png'), frame.image)
    out = tmp_path / 'small.txt.gz'
    assert main(['build-vocab', str(folder), '--out', str(out), '-k', '6', '-L', '3',
                 '--features', '500']) == 0
    assert main(['build-vocab', str(tmp_path / 'nothing'), '--out', str(out)]) == 2
    plain = vocabulary.prepare(out, cache=tmp_path / 'cache')
    settings = write_settings(tmp_path / 'settings.yaml', CameraCalibration.pinhole(320, 240, 90.0),
                              20.0, OrbParameters(n_features=500))
    slam = open_backend('orbslam3-python', plain, settings)
    try:
        states = [slam.track(cv2.cvtColor(f.image, cv2.COLOR_BGR2GRAY), f.time_s).state
                  for f in frames[:4]]
    finally:
        slam.close()
    assert states[0] == TrackingState.NOT_INITIALIZED     # it loaded the vocabulary and ran
