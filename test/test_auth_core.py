"""Authentication core without models: enrolment store (kill -9), policy, challenge, session."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mmchat_ros.auth.challenge import ChallengeIssuer, normalise_transcript
from mmchat_ros.auth.policy import FactorResult, Policy, PolicyError
from mmchat_ros.auth.session import Session
from mmchat_ros.auth.store import EnrolmentStore, StoreError


# --- store -------------------------------------------------------------------------------------

def test_store_round_trip_mode_and_delete(tmp_path):
    path = tmp_path / 'operators.db'
    with EnrolmentStore(path) as store:
        vectors = np.random.default_rng(0).normal(size=(3, 128)).astype(np.float32)
        assert store.enrol('alice', 'face', [(v, f'/photos/a{i}.jpg') for i, v in
                                             enumerate(vectors)]) == 3
        store.enrol('alice', 'voice', [(np.ones(256), 'a.wav')])
        store.enrol('bob', 'face', [(vectors[0] + 1, 'b.jpg')])
        assert [(o.name, o.faces, o.voices) for o in store.operators()] == [
            ('alice', 3, 1), ('bob', 1, 0)]
        np.testing.assert_array_equal(store.embeddings('face')['alice'], vectors)
        exported = store.export()['operators']['alice']
        assert [e['source'] for e in exported['face']] == ['a0.jpg', 'a1.jpg', 'a2.jpg']
        assert store.delete('alice') and not store.delete('alice')
        assert list(store.embeddings('face')) == ['bob'] and store.embeddings('voice') == {}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for suffix in ('-wal', '-shm'):
        side = path.with_name(path.name + suffix)
        assert not side.exists() or stat.S_IMODE(os.stat(side).st_mode) == 0o600


def test_store_refuses_bad_enrolments_atomically(tmp_path):
    with EnrolmentStore(tmp_path / 'operators.db') as store:
        with pytest.raises(StoreError, match='not finite'):
            store.enrol('carol', 'face', [(np.zeros(128), 'ok.jpg'), (np.full(128, np.nan), 'x')])
        with pytest.raises(StoreError, match='no face embedding'):
            store.enrol('carol', 'face', [])
        with pytest.raises(StoreError, match='unknown embedding kind'):
            store.enrol('carol', 'iris', [(np.zeros(4), 'x')])
        assert store.operators() == [] and store.embeddings('face') == {}


WRITER = textwrap.dedent('''
    import sys, time
    import numpy as np
    from mmchat_ros.auth.store import EnrolmentStore

    def vectors(k):
        for i in range(200):
            if i == 5:
                print(f'inside {k}', flush=True)
            time.sleep(0.002)
            yield np.full(128, k + i / 1000, np.float32), f'img{i}.jpg'

    store = EnrolmentStore(sys.argv[1])
    for k in range(1000):
        store.enrol(f'op{k:03d}', 'face', vectors(k))
        print(f'committed {k}', flush=True)
''')


def test_store_survives_kill_9_mid_enrolment(tmp_path):
    """A writer killed with SIGKILL inside an enrolment transaction.

    Every enrolment it reported committed is there in full, the interrupted one is absent, and
    SQLite's integrity check passes.
    """
    path = tmp_path / 'operators.db'
    writer = subprocess.Popen([sys.executable, '-c', WRITER, str(path)], stdout=subprocess.PIPE,
                              text=True)
    committed = []
    try:
        for line in writer.stdout:
            word, k = line.split()
            if word == 'committed':
                committed.append(int(k))
            elif len(committed) >= 3:               # inside the transaction of enrolment k
                writer.send_signal(signal.SIGKILL)
                interrupted = int(k)
                break
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    with EnrolmentStore(path) as store:
        assert store.integrity() == 'ok'
        faces = store.embeddings('face')
        assert sorted(faces) == [f'op{k:03d}' for k in committed]
        assert f'op{interrupted:03d}' not in faces
        for k in committed:
            assert faces[f'op{k:03d}'].shape == (200, 128)
            assert faces[f'op{k:03d}'][7, 0] == pytest.approx(k + 0.007)
        store.enrol('after', 'face', [(np.zeros(128), 'x.jpg')])   # still writable
        assert 'after' in store.embeddings('face')


# --- policy ------------------------------------------------------------------------------------

def test_policy_parses_and_decides():
    policy = Policy('face AND liveness AND (voiceprint AND challenge)')
    assert policy.factors == ('face', 'liveness', 'voiceprint', 'challenge')
    ok = {name: FactorResult(True, f'{name} ok', 0.9) for name in policy.factors}
    decision = policy.decide(ok)
    assert decision.authorised
    assert {c['status'] for c in decision.contributions.values()} == {'passed'}
    decision = policy.decide({**ok, 'voiceprint': FactorResult(False, 'voice unlike alice', 0.4)})
    assert not decision.authorised and decision.reason == 'voiceprint: voice unlike alice'
    assert decision.contributions['voiceprint'] == {'status': 'failed', 'score': 0.4,
                                                    'reason': 'voice unlike alice'}
    missing = policy.decide({'face': ok['face']})
    assert not missing.authorised and missing.contributions['challenge']['status'] == 'missing'


def test_policy_precedence_and_or():
    policy = Policy('face and liveness or voiceprint')      # AND binds tighter
    assert policy.decide({'voiceprint': FactorResult(True, 'v')}).authorised
    assert not policy.decide({'face': FactorResult(True, 'f')}).authorised
    grouped = Policy('face AND (liveness OR voiceprint)')
    assert not grouped.decide({'voiceprint': FactorResult(True, 'v')}).authorised
    assert grouped.decide({'face': FactorResult(True, 'f'),
                           'voiceprint': FactorResult(True, 'v')}).authorised


@pytest.mark.parametrize('text', ['', 'face AND', '(face', 'face )', 'face OR OR liveness',
                                  'iris', 'face; import os', '__import__("os")', 'face AND ()'])
def test_policy_rejects_bad_text(text):
    with pytest.raises(PolicyError):
        Policy(text)


# --- challenge ---------------------------------------------------------------------------------

class FakeClock:
    """A settable clock (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_transcripts_normalise():
    assert normalise_transcript('Four seven-one 9.') == ('4', '7', '1', '9')
    assert normalise_transcript('4719') == ('4', '7', '1', '9')
    assert normalise_transcript('') == ()


def test_challenge_is_single_use_and_expires():
    clock = FakeClock()
    issuer = ChallengeIssuer(length=4, lifetime_s=10.0, clock=clock)
    first = issuer.issue()
    answer = ' '.join(first.words)
    assert first.prompt.endswith(answer)
    assert issuer.check(first.nonce, answer).passed
    again = issuer.check(first.nonce, answer)            # the same answer replayed
    assert not again.passed and 'already used' in again.reason
    second = issuer.issue()
    assert second.words != first.words and second.nonce != first.nonce
    replay = issuer.check(second.nonce, answer)          # the earlier answer to a new challenge
    assert not replay.passed and 'expected' in replay.reason
    third = issuer.issue()
    clock.now += 10.5
    late = issuer.check(third.nonce, ' '.join(third.words))
    assert not late.passed and late.reason == 'challenge expired'


def test_challenge_refuses_the_same_recording_twice():
    issuer = ChallengeIssuer(length=2, vocabulary=('alpha', 'bravo', 'charlie'))
    audio = np.random.default_rng(1).normal(size=16000).astype(np.float32)
    first = issuer.issue()
    assert issuer.check(first.nonce, ' '.join(first.words), audio).passed
    second = issuer.issue()
    result = issuer.check(second.nonce, ' '.join(second.words), audio)
    assert not result.passed and 'replay' in result.reason


# --- session -----------------------------------------------------------------------------------

def test_session_expiry_and_renewal():
    session = Session(length_s=60.0, face_absence_s=5.0, clock=FakeClock())
    assert not session.state(0.0).active
    session.start('alice', now=0.0)
    assert session.observe_face('alice', now=4.0).active
    assert session.renew('alice', now=4.0).remaining_s == pytest.approx(60.0)
    for t in range(5, 64, 3):
        session.observe_face('alice', now=float(t))
    state = session.state(now=64.5)
    assert not state.active and state.reason == 'session expired'
    assert not session.renew('alice', now=65.0).active   # an ended session is not renewed


def test_session_ends_on_operator_change_and_absence():
    session = Session(length_s=300.0, face_absence_s=5.0, clock=FakeClock())
    session.start('alice', now=0.0)
    state = session.observe_face('bob', now=1.0)
    assert not state.active and 'face of bob' in state.reason
    session.start('alice', now=10.0)
    state = session.observe_voice('bob', now=11.0)
    assert not state.active and 'voice of bob' in state.reason
    session.start('alice', now=20.0)
    assert session.observe_face(None, now=24.0).active
    state = session.observe_face(None, now=25.5)
    assert not state.active and 'out of view' in state.reason
