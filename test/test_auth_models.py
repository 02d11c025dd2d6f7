"""Authentication with the real models on real photos and audio from ../shared/data."""
from __future__ import annotations

import numpy as np
import pytest

from mmchat_tools.auth import liveness_sequences as sequences
from mmchat_ros.auth.challenge import ChallengeIssuer
from mmchat_ros.auth.config import load_parameters
from mmchat_ros.auth.liveness import BlinkDetector, HeadTurnChallenge
from mmchat_ros.auth.matching import FaceGallery, FrameMatch, FrameVoter
from mmchat_ros.auth.policy import FactorResult, Policy
from mmchat_ros.auth.voiceprint import AudioError

PARAMS = load_parameters()


@pytest.fixture(scope='module')
def analyzer():
    from mmchat_ros.auth.faces import FaceAnalyzer
    return FaceAnalyzer()


@pytest.fixture(scope='module')
def voice_model():
    from mmchat_ros.auth.voiceprint import VoiceprintModel
    return VoiceprintModel()


def _embed(analyzer, path):
    from mmchat_ros.auth.faces import load_image
    faces = analyzer.analyse(load_image(path))
    assert len(faces) == 1, f'{path.name}: {len(faces)} faces'
    return faces[0].embedding


@pytest.fixture(scope='module')
def orl(analyzer, shared_data):
    """Embeddings of 4 ORL people x 8 photos: {person: (8, 128)}."""
    from mmchat_ros.auth.faces import image_files
    people = ('s1', 's7', 's13', 's25')
    folder = shared_data / 'faces_orl'
    return {p: np.stack([_embed(analyzer, f) for f in image_files(folder / p)[:8]]) for p in people}


def test_embeddings_equal_face_recognition(analyzer, shared_data):
    """Our dlib pipeline with explicit model paths gives face_recognition's own encoding."""
    import face_recognition
    from mmchat_ros.auth.faces import load_image

    image = load_image(shared_data / 'faces' / 'biden.jpg')
    ours = analyzer.analyse(image)
    (theirs,) = face_recognition.face_encodings(image)
    assert len(ours) == 1
    assert np.linalg.norm(ours[0].embedding - theirs) < 1e-4


def test_enrol_verify_and_reject_unknown(orl):
    enrolled = {p: e[:3] for p, e in orl.items() if p != 's25'}
    gallery = FaceGallery(enrolled, PARAMS['face_threshold'])
    verdicts = [(person, gallery.match_embedding(e).operator)
                for person in enrolled for e in orl[person][3:]]
    assert all(found in (person, None) for person, found in verdicts)     # never someone else
    accepted = sum(found == person for person, found in verdicts)
    assert accepted >= 0.9 * len(verdicts), verdicts                     # FRR a few % at most
    for embedding in orl['s25']:                       # never enrolled
        match = gallery.match_embedding(embedding)
        assert match.operator is None and match.reason.startswith('unknown face')


def test_bad_face_input_gives_reasons(analyzer, shared_data, orl):
    from mmchat_ros.auth.faces import load_image

    gallery = FaceGallery({'s1': orl['s1'][:3]}, PARAMS['face_threshold'])
    blank = np.full((240, 320, 3), 128, np.uint8)
    assert gallery.match_faces(analyzer.analyse(blank)).reason == 'no face found'
    two = analyzer.analyse(load_image(shared_data / 'faces' / 'two_people.jpg'))
    assert gallery.match_faces(two).reason == '2 faces in view (one operator at a time)'
    empty = FaceGallery({}, PARAMS['face_threshold']).match_embedding(orl['s1'][0])
    assert empty.operator is None and 'empty store' in empty.reason
    with pytest.raises(ValueError, match='cannot read image'):
        load_image(shared_data / 'README.md')


def test_decision_over_frames(orl):
    gallery = FaceGallery({p: e[:3] for p, e in orl.items()}, PARAMS['face_threshold'])
    voter = FrameVoter(PARAMS['face_window_frames'], PARAMS['face_required_frames'])
    decisions = [voter.add(gallery.match_embedding(e)) for e in orl['s7'][3:8]]
    assert decisions[0].operator is None and 'only 1 of 3' in decisions[0].reason
    assert decisions[-1].operator == 's7'
    mixed = voter.add(gallery.match_embedding(orl['s13'][4]))    # another person steps in
    assert mixed.operator is None and 'different operators' in mixed.reason
    voter.reset()
    assert voter.add(FrameMatch(None, None, 'no face found')).reason == 'no face found'


def _turn(direction):
    return HeadTurnChallenge(direction, min_shift=PARAMS['turn_min_shift'],
                             min_parallax=PARAMS['turn_min_parallax'],
                             min_inner_parallax=PARAMS['turn_min_inner_parallax'])


def test_photo_attacks_never_pass_and_live_faces_do(analyzer, shared_data):
    """A real photo as a flat print: static, moved and scaled, turned in 3D.

    Real detector and landmarks. Live blinks and turns are synthesised from the same photo's
    landmarks.
    """
    from mmchat_ros.auth.faces import load_image

    photo = load_image(shared_data / 'faces_wild' / 'img1.jpg')
    for motion in ('static', 'moved_and_scaled', 'turned_yaw'):
        blink, turn = BlinkDetector(), _turn('right')
        seen = 0
        for t, frame in sequences.photo_attack(photo, motion, frames=24):
            boxes = analyzer.detect(frame)
            if len(boxes) == 1:
                seen += 1
                landmarks = analyzer.landmarks(frame, boxes[0])
                assert not blink.update(t, landmarks).passed, motion
                assert not turn.update(landmarks).passed, motion
        assert seen >= 20, f'{motion}: face found in only {seen} frames'
    landmarks = analyzer.landmarks(photo, analyzer.detect(photo)[0])
    blink = BlinkDetector()
    assert any(blink.update(t, p).passed for t, p in sequences.live_blink(landmarks))
    for direction in ('left', 'right'):
        turn = _turn(direction)
        assert any(turn.update(p).passed for p in sequences.live_turn(landmarks, direction))
        wrong = _turn('left' if direction == 'right' else 'right')
        assert not any(wrong.update(p).passed for p in sequences.live_turn(landmarks, direction))


def _digits(shared_data, speaker, digits, take):
    from mmchat_ros.auth.voiceprint import load_audio
    parts = [load_audio(shared_data / 'speech' / 'fsdd' / f'{d}_{speaker}_{take}.flac')[0]
             for d in digits]
    return np.concatenate([np.concatenate([p, np.zeros(800, np.float32)]) for p in parts])


@pytest.fixture(scope='module')
def george(voice_model, shared_data):
    """A voice gallery with george enrolled from FSDD digits (takes 0-1)."""
    from mmchat_ros.auth.voiceprint import VoiceGallery

    embeddings = [voice_model.embed(_digits(shared_data, 'george', str(d) * 2, 0), 8000)
                  for d in range(10)]
    return VoiceGallery({'george': np.stack(embeddings)}, PARAMS['voice_threshold'])


def _factors(voice_model, gallery, issuer, challenge, audio, transcript):
    passed, score, reason = gallery.verify('george', voice_model.embed(audio, 8000))
    said = issuer.check(challenge.nonce, transcript, audio)
    return {'face': FactorResult(True, 'george at 0.3', 0.3),
            'liveness': FactorResult(True, 'blink seen'),
            'voiceprint': FactorResult(passed, reason, score),
            'challenge': FactorResult(said.passed, said.reason)}


def test_challenge_voice_and_replay(voice_model, george, shared_data):
    """Right digits by the enrolled voice: authorised; replays and other voices: refused.

    The same recording to the next challenge is refused on the challenge, the right digits in
    another voice on the voiceprint.
    """
    policy = Policy(PARAMS['policy'])
    issuer = ChallengeIssuer(length=PARAMS['challenge_digits'])
    challenge = issuer.issue()
    answer = _digits(shared_data, 'george', challenge.words, 3)
    transcript = ' '.join(challenge.words)
    decision = policy.decide(_factors(voice_model, george, issuer, challenge, answer, transcript))
    assert decision.authorised, decision.reason

    replayed = issuer.issue()
    decision = policy.decide(_factors(voice_model, george, issuer, replayed, answer, transcript))
    assert not decision.authorised and decision.reason.startswith('challenge:')

    challenge = issuer.issue()
    other = _digits(shared_data, 'jackson', challenge.words, 3)
    decision = policy.decide(_factors(voice_model, george, issuer, challenge, other,
                                      ' '.join(challenge.words)))
    assert not decision.authorised and decision.reason.startswith('voiceprint: voice unlike')
    assert decision.contributions['challenge']['status'] == 'passed'


def test_bad_audio_gives_reasons(voice_model, shared_data, tmp_path):
    from mmchat_ros.auth.voiceprint import load_audio

    corrupt = tmp_path / 'corrupt.wav'
    corrupt.write_bytes(b'RIFF\x00\x00not really audio')
    with pytest.raises(AudioError, match='cannot decode'):
        load_audio(corrupt)
    samples, rate = load_audio(shared_data / 'speech' / 'fsdd' / '3_george_5.flac')
    with pytest.raises(AudioError, match='wrong sample rate'):
        voice_model.embed(samples, rate, expected_rate=16000)
    with pytest.raises(AudioError, match='unsupported sample rate'):
        voice_model.embed(samples, 4000)
    with pytest.raises(AudioError, match='silent'):
        voice_model.embed(np.zeros(16000, np.float32), 16000)
    with pytest.raises(AudioError, match='NaN'):
        voice_model.embed(np.full(16000, np.nan, np.float32), 16000)
