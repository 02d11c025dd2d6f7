"""`mmchat enroll` and `mmchat operators` on real photos and recordings."""
from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from mmchat_ros.bringup import main


def _folder(tmp_path, name, files):
    folder = tmp_path / name
    folder.mkdir()
    for index, path in enumerate(files):
        shutil.copy(path, folder / f'{index}_{path.name}')
    return folder


@pytest.mark.slow
def test_enroll_list_export_delete(shared_data, tmp_path, capsys):
    store = tmp_path / 'store' / 'operators.db'
    orl = shared_data / 'faces_orl'
    alice = _folder(tmp_path, 'alice', [orl / 's5' / f'{i}.pgm' for i in (1, 2, 3)]
                    + [shared_data / 'faces' / 'two_people.jpg'])
    assert main(['enroll', '--name', 'alice', '--images', str(alice), '--store', str(store)]) == 0
    out = capsys.readouterr().out
    assert 'two_people.jpg: 2 faces found' in out and 'enrolled 3 face embeddings' in out
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600

    again = _folder(tmp_path, 'impostor', [orl / 's5' / f'{i}.pgm' for i in (4, 5, 6)])
    assert main(['enroll', '--name', 'mallory', '--images', str(again), '--store', str(store)]) == 2
    assert 'match operator alice' in capsys.readouterr().err

    voice = _folder(tmp_path, 'voice', sorted((shared_data / 'speech' / 'librispeech_test_other'
                                               / '1688').rglob('*.flac'))[:3])
    (voice / 'broken.wav').write_bytes(b'not audio')
    assert main(['enroll', '--name', 'alice', '--voice', str(voice), '--store', str(store)]) == 0
    assert 'broken.wav' in capsys.readouterr().out

    assert main(['operators', '--store', str(store), 'list']) == 0
    listing = capsys.readouterr().out
    assert 'alice' in listing and 'faces   3  voices   3' in listing and 'mallory' not in listing
    export = tmp_path / 'operators.json'
    assert main(['operators', '--store', str(store), 'export', '--out', str(export)]) == 0
    exported = json.loads(export.read_text())['operators']['alice']
    assert len(exported['face']) == 3 and len(exported['face'][0]['vector']) == 128
    assert len(exported['voice'][0]['vector']) == 256
    assert main(['operators', '--store', str(store), 'delete', 'bob']) == 1
    assert main(['operators', '--store', str(store), 'delete', 'alice']) == 0
    capsys.readouterr()
    assert main(['operators', '--store', str(store), 'list']) == 0
    assert '0 operator(s)' in capsys.readouterr().out


def test_enroll_refuses_too_few_faces_and_camera(shared_data, tmp_path, capsys):
    store = tmp_path / 'operators.db'
    few = _folder(tmp_path, 'few', [shared_data / 'faces_orl' / 's9' / '1.pgm',
                                    shared_data / 'faces' / 'two_people.jpg'])
    assert main(['enroll', '--name', 'x', '--images', str(few), '--store', str(store)]) == 2
    assert '1 usable face samples' in capsys.readouterr().err
    assert main(['enroll', '--name', 'x', '--camera', '--store', str(store)]) == 2
    assert 'auth node' in capsys.readouterr().err
    assert main(['operators', '--store', str(tmp_path / 'none.db'), 'list']) == 2
