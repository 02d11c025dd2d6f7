"""Operator authentication: face and voice verification error rates, liveness, challenge replay.

  faces      for every --faces folder (one subfolder per identity, images inside): each identity is
             enrolled from its first 3 images with a face found; every other image is compared
             with its own template (genuine) and with every other identity's (impostor). FAR and
             FRR at the shipped threshold, the full DET curve, and the images with no face found
             (counted as false rejects). Default: faces_orl, and faces_wild grouped into identities
             by its labelled 'Yes' pairs; faces_wild's 578 labelled pairs are scored image to image.
  voices     for every --voices folder (one subfolder per speaker, wav/flac): each speaker enrolled
             from their first 5 usable utterances, the rest scored against every voiceprint
             (audio refused, e.g. too little speech, counts as a reject); EER and
             FAR/FRR at the shipped threshold for utterances >= 3 s, 1 s words (0.8-3 s) and
             shorter clips (< 0.8 s: most FSDD digits, no goal).
             Default: librispeech_test_other, speech_commands (speakers with >= 8 clips) and fsdd,
             laid out per speaker in a temporary folder.
  liveness   real photos of faces_orl/faces_wild people shown to the real detector and landmark
             model as static frames, slowly moved and scaled, and turned in 3D (a flat print or
             screen under perspective) for blink and turn challenges (none may pass); live blinks
             and head turns synthesised from landmarks (mmchat_tools.auth.liveness_sequences)
             must pass.
  challenge  replayed answers to earlier challenges (FSDD digits of the enrolled speaker) never
             pass; the right digits by the enrolled speaker pass (challenge and voiceprint).
  timing     CPU time of the steps towards a session: a 640x480 frame through detection,
             embedding and landmarks; landmarks alone; the voiceprint of a 4-digit answer.
Writes auth.json and auth.png (DET curves) to --out.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path
import sys
import tempfile
from typing import Any, Callable

import numpy as np
from tqdm import tqdm

from mmchat_ros import graph
from mmchat_bench.results import Goal, goal_text, machine_info, write_report

HELP = 'authentication: face / voice FAR, FRR and DET curves, liveness attacks, challenge replay'
FACE_ENROL = 3
VOICE_ENROL = 5
#: utterance length buckets of the voice report, seconds [low, high)
BUCKETS = {'long': (3.0, np.inf), 'words': (0.8, 3.0), 'short': (0.0, 0.8)}
GOALS = (Goal('faces_orl_far_pct', 0.1), Goal('faces_orl_frr_pct', 5.0),
         Goal('faces_wild_far_pct', 0.1), Goal('faces_wild_frr_pct', 5.0),
         Goal('voice_eer_long_pct', 3.0), Goal('voice_eer_words_pct', 10.0),
         Goal('liveness_attacks_passed', 0), Goal('challenge_replays_passed', 0))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m mmchat_bench auth`."""
    parser.add_argument('--data', type=Path, default=graph.share_dir().parent / 'shared' / 'data',
                        help='the shared data folder (faces_orl/, faces_wild/, speech/)')
    parser.add_argument('--faces', type=Path, action='append', default=None, metavar='DIR',
                        help='a folder with one subfolder of images per identity (repeatable; '
                        'default: faces_orl and faces_wild from --data)')
    parser.add_argument('--voices', type=Path, action='append', default=None, metavar='DIR',
                        help='a folder with one subfolder of wav/flac per speaker (repeatable; '
                        'default: librispeech, speech_commands and fsdd from --data)')
    parser.add_argument('--parts', default='faces,voices,liveness,challenge,timing',
                        help='comma-separated parts to run (default: all five)')


def run(args: argparse.Namespace) -> int:
    """Run the chosen parts; write auth.json and auth.png."""
    from mmchat_ros.auth.config import load_parameters

    config, parts = load_parameters(), set(args.parts.split(','))
    needs_data = bool(parts & {'liveness', 'challenge', 'timing'}) or (
        'faces' in parts and not args.faces) or ('voices' in parts and not args.voices)
    if needs_data and not args.data.is_dir():
        print(f'[auth] data folder {args.data} not found (give --data, or --faces/--voices and '
              '--parts)', file=sys.stderr)
        return 1
    report: dict[str, Any] = {'benchmark': 'auth', 'machine': machine_info(), 'config': config}
    numbers: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix='mmchat-auth-bench-') as scratch:
        if 'faces' in parts:
            report['faces'] = bench_faces(args, config, Path(scratch), numbers)
        if 'voices' in parts:
            report['voices'] = bench_voices(args, config, Path(scratch), numbers)
    if 'liveness' in parts:
        report['liveness'] = bench_liveness(args.data, config)
        numbers['liveness_attacks_passed'] = report['liveness']['attacks_passed']
        numbers['liveness_live_passed_pct'] = report['liveness']['live_passed_pct']
    if 'timing' in parts:
        report['timing'] = bench_timing(args.data, config)
    if 'challenge' in parts:
        report['challenge'] = bench_challenge(args.data, config)
        numbers['challenge_replays_passed'] = report['challenge']['replays_passed']
    goals = [goal.check(numbers) for goal in GOALS if goal.key in numbers]
    report.update(numbers=numbers, goals=goals, all_goals_met=all(g['met'] for g in goals))
    write_report(args.out, 'auth', report, plot_det, lambda r: print(
        '[auth] ' + ('; '.join(goal_text(g) for g in r['goals']) or 'no goal measured')))
    return 0


# --- error rates -------------------------------------------------------------------------------

def error_rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float,
                accept: Callable[[np.ndarray, float], np.ndarray]) -> dict[str, Any]:
    """FAR and FRR in percent at `threshold`, the EER, and the DET curve (FAR, FRR pairs)."""
    genuine, impostor = np.asarray(genuine, float), np.asarray(impostor, float)
    finite = np.concatenate([genuine, impostor])
    finite = finite[np.isfinite(finite)]
    sweep = np.unique(np.concatenate([finite, [threshold]])) if finite.size else np.array(
        [threshold])
    far = np.array([np.mean(accept(impostor, t)) for t in sweep]) * 100
    frr = np.array([np.mean(~accept(genuine, t)) for t in sweep]) * 100
    eer_at = int(np.argmin(np.abs(far - frr)))
    return {'genuine': int(genuine.size), 'impostor': int(impostor.size), 'threshold': threshold,
            'far_pct': round(float(np.mean(accept(impostor, threshold)) * 100), 4),
            'frr_pct': round(float(np.mean(~accept(genuine, threshold)) * 100), 4),
            'eer_pct': round(float((far[eer_at] + frr[eer_at]) / 2), 3),
            'eer_threshold': round(float(sweep[eer_at]), 4),
            'det': det_points(far, frr)}


def det_points(far: np.ndarray, frr: np.ndarray, limit: int = 400) -> dict[str, list[float]]:
    """The DET curve's corners (where FAR or FRR changes), at most `limit` of them.

    They are picked evenly along the curve, its ends kept.
    """
    points = np.unique(np.column_stack([far, frr]).round(4), axis=0)
    points = points[np.lexsort((-points[:, 1], points[:, 0]))]       # along the curve
    if len(points) > limit:
        points = points[np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))]
    return {'far_pct': points[:, 0].tolist(), 'frr_pct': points[:, 1].tolist()}


def _below(values: np.ndarray, threshold: float) -> np.ndarray:
    return values <= threshold


def _at_least(values: np.ndarray, threshold: float) -> np.ndarray:
    return values >= threshold


# --- faces -------------------------------------------------------------------------------------

def bench_faces(args: argparse.Namespace, config: dict[str, Any], scratch: Path,
                numbers: dict[str, Any]) -> dict[str, Any]:
    """Every face folder at the shipped threshold, plus faces_wild's labelled pairs."""
    from mmchat_ros.auth.faces import FaceAnalyzer

    analyzer = FaceAnalyzer()
    threshold = float(config['face_threshold'])
    folders = args.faces or [args.data / 'faces_orl', wild_identity_folders(
        args.data / 'faces_wild', scratch / 'faces_wild')]
    results: dict[str, Any] = {}
    for folder in folders:
        print(f'[auth] faces: {folder}', flush=True)
        result = results[folder.name] = score_face_folder(analyzer, folder, threshold)
        if 'error' in result:
            print(f"[auth] {folder}: {result['error']}", file=sys.stderr)
            continue
        numbers[f'{folder.name}_far_pct'] = result['far_pct']
        numbers[f'{folder.name}_frr_pct'] = result['frr_pct']
    if not args.faces and (args.data / 'faces_wild').is_dir():
        print('[auth] faces: faces_wild labelled pairs', flush=True)
        results['faces_wild_pairs'] = score_wild_pairs(analyzer, args.data / 'faces_wild',
                                                       threshold)
    return results


def embed_folder(analyzer, folder: Path) -> tuple[list[np.ndarray | None], list[str]]:
    """The embedding of the largest face of every image (None: no face found), and notes."""
    from mmchat_ros.auth.faces import image_files, load_image

    embeddings, notes = [], []
    for path in image_files(folder):
        try:
            faces = analyzer.analyse(load_image(path))
        except ValueError as exc:
            notes.append(str(exc))
            faces = []
        if len(faces) > 1:
            notes.append(f'{path.name}: {len(faces)} faces, the largest used')
        embeddings.append(faces[0].embedding if faces else None)
    return embeddings, notes


def score_face_folder(analyzer, folder: Path, threshold: float) -> dict[str, Any]:
    """Enrol FACE_ENROL images per identity, verify the rest against every template."""
    from mmchat_ros.auth.matching import FaceGallery

    identities = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith('.'))
    enrolled, probes, no_face, notes, skipped = {}, [], 0, [], []
    for identity in tqdm(identities, desc=folder.name, unit='identity', file=sys.stderr):
        embeddings, folder_notes = embed_folder(analyzer, identity)
        notes += [f'{identity.name}/{n}' for n in folder_notes]
        found = [i for i, e in enumerate(embeddings) if e is not None]
        if len(found) < FACE_ENROL or len(embeddings) <= FACE_ENROL:
            skipped.append(identity.name)
            continue
        enrol = set(found[:FACE_ENROL])
        enrolled[identity.name] = np.stack([embeddings[i] for i in sorted(enrol)])
        for i, embedding in enumerate(embeddings):
            if i not in enrol:
                probes.append((identity.name, embedding))
                no_face += embedding is None
    if len(enrolled) < 2:
        return {'folder': str(folder), 'error': f'{len(enrolled)} identities with more than '
                f'{FACE_ENROL} images and {FACE_ENROL} faces found: need at least 2',
                'skipped_identities': skipped, 'notes': notes}
    gallery = FaceGallery(enrolled, threshold)
    genuine, impostor = [], []
    for name, embedding in probes:
        distances = (gallery.distances(embedding) if embedding is not None
                     else np.full(len(gallery.names), np.inf))
        for other, distance in zip(gallery.names, distances):
            (genuine if other == name else impostor).append(distance)
    rates = error_rates(np.array(genuine), np.array(impostor), threshold, _below)
    return {**rates, 'folder': str(folder), 'identities': len(enrolled),
            'skipped_identities': skipped, 'probe_images': len(probes),
            'probe_images_without_face': int(no_face), 'notes': notes,
            'protocol': f'template = mean of the first {FACE_ENROL} images with a face; '
                        'every other image vs every template; no face = reject'}


def read_wild_pairs(folder: Path) -> dict[tuple[str, str], bool]:
    """faces_wild's labelled pairs (both CSVs, base names): {(a, b): same person}."""
    pairs = {}
    for name in ('master.csv', 'face-recognition-pivot.csv'):
        with open(folder / name, newline='') as handle:
            for row in csv.DictReader(handle):
                a, b = Path(row['file_x']).name, Path(row['file_y']).name
                decision = (row.get('Decision') or row.get('decision') or '').strip()
                pairs[tuple(sorted((a, b)))] = decision == 'Yes'
    return pairs


def wild_identity_folders(folder: Path, out: Path) -> Path:
    """faces_wild as one folder per identity (symlinks), identities joined by 'Yes' pairs."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x
    for (a, b), same in read_wild_pairs(folder).items():
        root(a), root(b)
        if same:
            parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for name in parent:
        groups.setdefault(root(name), []).append(name)
    for index, members in enumerate(sorted(groups.values(), key=sorted)):
        identity = out / f'person{index:02d}'
        identity.mkdir(parents=True, exist_ok=True)
        for member in members:
            (identity / member).symlink_to(folder / member)
    return out


def score_wild_pairs(analyzer, folder: Path, threshold: float) -> dict[str, Any]:
    """Image-to-image distances of the labelled pairs (no enrolment)."""
    from mmchat_ros.auth.faces import load_image

    pairs = read_wild_pairs(folder)
    names = sorted({n for pair in pairs for n in pair})
    embeddings = {}
    for name in tqdm(names, desc='faces_wild pairs', unit='image', file=sys.stderr):
        faces = analyzer.analyse(load_image(folder / name))
        embeddings[name] = faces[0].embedding if faces else None
    genuine, impostor = [], []
    for (a, b), same in pairs.items():
        ea, eb = embeddings[a], embeddings[b]
        distance = np.inf if ea is None or eb is None else float(np.linalg.norm(ea - eb))
        (genuine if same else impostor).append(distance)
    return {**error_rates(np.array(genuine), np.array(impostor), threshold, _below),
            'images_without_face': sorted(n for n, e in embeddings.items() if e is None),
            'protocol': 'single image vs single image (no 3-image enrolment)'}


# --- voices ------------------------------------------------------------------------------------

def speaker_folders(data: Path, out: Path) -> list[Path]:
    """Librispeech, speech_commands and fsdd as one folder per speaker (symlinks) under `out`.

    speech_commands: speakers with >= 8 clips, 12 clips at most.
    """
    speech = data / 'speech'
    folders = []
    libri = speech / 'librispeech_test_other'
    if libri.is_dir():
        for speaker in sorted(p for p in libri.iterdir() if p.is_dir()):
            target = out / 'librispeech' / speaker.name
            target.mkdir(parents=True, exist_ok=True)
            for clip in sorted(speaker.rglob('*.flac')):
                (target / clip.name).symlink_to(clip)
        folders.append(out / 'librispeech')
    commands = speech / 'speech_commands'
    if commands.is_dir():
        by_speaker: dict[str, list[Path]] = {}
        for clip in sorted(commands.glob('*/*.flac')):
            if not clip.parent.name.startswith('_'):
                by_speaker.setdefault(clip.name.split('_nohash_')[0], []).append(clip)
        for speaker, clips in by_speaker.items():
            if len(clips) >= 8:
                target = out / 'speech_commands' / speaker
                target.mkdir(parents=True, exist_ok=True)
                for clip in clips[:12]:
                    (target / f'{clip.parent.name}_{clip.name}').symlink_to(clip)
        folders.append(out / 'speech_commands')
    fsdd = speech / 'fsdd'
    if fsdd.is_dir():
        for clip in sorted(fsdd.glob('*.flac')):
            target = out / 'fsdd' / clip.stem.split('_')[1]
            target.mkdir(parents=True, exist_ok=True)
            (target / clip.name).symlink_to(clip)
        folders.append(out / 'fsdd')
    return folders


def bench_voices(args: argparse.Namespace, config: dict[str, Any], scratch: Path,
                 numbers: dict[str, Any]) -> dict[str, Any]:
    """Every speaker folder, split by utterance length."""
    from mmchat_ros.auth.voiceprint import VoiceprintModel

    model = VoiceprintModel()
    threshold = float(config['voice_threshold'])
    folders = args.voices or speaker_folders(args.data, scratch / 'voices')
    results = {}
    pooled: dict[str, tuple[list, list]] = {bucket: ([], []) for bucket in BUCKETS}
    for folder in folders:
        print(f'[auth] voices: {folder}', flush=True)
        result, scores = score_voice_folder(model, folder, threshold)
        results[folder.name] = result
        for bucket, (genuine, impostor) in scores.items():
            pooled[bucket][0].extend(genuine)
            pooled[bucket][1].extend(impostor)
    for bucket, (genuine, impostor) in pooled.items():
        if genuine and impostor:
            rates = error_rates(np.array(genuine), np.array(impostor), threshold, _at_least)
            results[f'all_{bucket}'] = rates
            numbers[f'voice_eer_{bucket}_pct'] = rates['eer_pct']
            numbers[f'voice_far_{bucket}_pct'] = rates['far_pct']
            numbers[f'voice_frr_{bucket}_pct'] = rates['frr_pct']
    return results


def duration_bucket(seconds: float) -> str:
    """'long' (>= 3 s), 'words' (0.8-3 s: one-second commands), 'short' (< 0.8 s)."""
    return next(bucket for bucket, (low, high) in BUCKETS.items() if low <= seconds < high)


def score_voice_folder(model, folder: Path, threshold: float) -> tuple[dict, dict]:
    """Enrol VOICE_ENROL utterances per speaker; score the rest against every voiceprint."""
    from mmchat_ros.auth.voiceprint import AudioError, audio_files, load_audio, voiceprint

    prints, probes, refused = {}, [], []
    speakers = sorted(p for p in folder.iterdir() if p.is_dir())
    for speaker in tqdm(speakers, desc=folder.name, unit='speaker', file=sys.stderr):
        files = audio_files(speaker)
        if len(files) <= VOICE_ENROL:
            continue
        embedded = []                             # (embedding or None if refused, seconds)
        for path in files:
            try:
                samples, rate = load_audio(path)
            except AudioError as exc:
                refused.append(f'{speaker.name}/{exc} (not scored)')
                continue
            try:
                embedded.append((model.embed(samples, rate), samples.size / rate))
            except AudioError as exc:
                refused.append(f'{speaker.name}/{exc}')
                embedded.append((None, samples.size / rate))
        usable = [i for i, (e, _) in enumerate(embedded) if e is not None]
        if len(usable) < VOICE_ENROL or len(embedded) <= VOICE_ENROL:
            continue
        enrol = set(usable[:VOICE_ENROL])
        prints[speaker.name] = voiceprint([embedded[i][0] for i in sorted(enrol)])
        probes += [(speaker.name, *embedded[i]) for i in range(len(embedded)) if i not in enrol]
    scores: dict[str, tuple[list, list]] = {bucket: ([], []) for bucket in BUCKETS}
    for name, embedding, seconds in probes:
        bucket = duration_bucket(seconds)
        for other, reference in prints.items():       # refused audio: rejected, never accepted
            score = -np.inf if embedding is None else float(np.dot(reference, embedding))
            scores[bucket][0 if other == name else 1].append(score)
    result: dict[str, Any] = {'folder': str(folder), 'speakers': len(prints),
                              'refused_files': refused,
                              'protocol': 'voiceprint = normalised mean of the first '
                                          f'{VOICE_ENROL} '
                                          'utterances; every other utterance vs every voiceprint'}
    for bucket, (genuine, impostor) in scores.items():
        if genuine and impostor:
            result[bucket] = error_rates(np.array(genuine), np.array(impostor), threshold,
                                         _at_least)
    return result, scores


# --- liveness ----------------------------------------------------------------------------------

def liveness_photos(data: Path, count: int = 6) -> list[tuple[str, np.ndarray]]:
    """Real photos with one face: faces_wild's first ones and faces_orl's, enlarged 4x."""
    import cv2
    from mmchat_ros.auth.faces import image_files, load_image

    photos = [(p.name, load_image(p)) for p in image_files(data / 'faces_wild')
              if p.stem.startswith('img')][:count // 2]
    for identity in ('s1', 's2', 's3')[:count - len(photos)]:
        first = image_files(data / 'faces_orl' / identity)[0]
        image = load_image(first)
        photos.append((f'{identity}/{first.name}', cv2.resize(image, None, fx=4, fy=4,
                                                               interpolation=cv2.INTER_CUBIC)))
    return photos


def liveness_checks(config: dict[str, Any], direction: str) -> dict[str, Any]:
    """A fresh blink detector and head-turn challenge with the shipped parameters."""
    from mmchat_ros.auth.liveness import BlinkDetector, HeadTurnChallenge

    return {'blink': BlinkDetector(closed_ratio=config['blink_closed_ratio'],
                                   max_closed_s=config['blink_max_closed_s']),
            'turn': HeadTurnChallenge(direction, min_shift=config['turn_min_shift'],
                                      min_parallax=config['turn_min_parallax'],
                                      min_inner_parallax=config['turn_min_inner_parallax'])}


def bench_liveness(data: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Photo attacks through the real models (none may pass); synthesised live faces (should)."""
    from mmchat_tools.auth import liveness_sequences as sequences
    from mmchat_ros.auth.faces import FaceAnalyzer
    from mmchat_ros.auth.liveness import INNER, planar_parallax

    analyzer = FaceAnalyzer(cnn_fallback=False)
    attacks, live = [], []
    for name, photo in tqdm(liveness_photos(data), desc='liveness', unit='photo',
                            file=sys.stderr):
        for motion in sequences.PHOTO_MOTIONS:
            checks = {d: liveness_checks(config, d) for d in ('left', 'right')}
            passed = {'blink': False, 'turn left': False, 'turn right': False}
            frames_with_face, first, parallax, inner = 0, None, 0.0, 0.0
            for t, frame in sequences.photo_attack(photo, motion, frames=30):
                boxes = analyzer.detect(frame)
                if len(boxes) != 1:
                    continue
                frames_with_face += 1
                landmarks = analyzer.landmarks(frame, boxes[0])
                first = landmarks if first is None else first
                parallax = max(parallax, planar_parallax(first, landmarks))
                inner = max(inner, planar_parallax(first, landmarks, INNER))
                passed['blink'] |= checks['left']['blink'].update(t, landmarks).passed
                for direction, check in checks.items():
                    passed[f'turn {direction}'] |= check['turn'].update(landmarks).passed
            attacks.append({'photo': name, 'motion': motion, 'frames': 30,
                            'frames_with_face': frames_with_face,
                            'max_parallax': round(parallax, 4),
                            'max_inner_parallax': round(inner, 4), **passed})
        boxes = analyzer.detect(photo)
        landmarks = analyzer.landmarks(photo, boxes[0])
        for seed in range(3):
            checks = liveness_checks(config, 'left')
            blink = any(checks['blink'].update(t, p).passed
                        for t, p in sequences.live_blink(landmarks, seed))
            live.append({'photo': name, 'seed': seed, 'check': 'blink', 'passed': blink})
            for direction in ('left', 'right'):
                turn = liveness_checks(config, direction)['turn']
                passed = any(turn.update(p).passed
                             for p in sequences.live_turn(landmarks, direction, seed))
                live.append({'photo': name, 'seed': seed, 'check': f'turn {direction}',
                             'passed': passed})
    passed_attacks = sum(a['blink'] + a['turn left'] + a['turn right'] for a in attacks)
    return {'attack_max_parallax': max(a['max_parallax'] for a in attacks),
            'attack_max_inner_parallax': max(a['max_inner_parallax'] for a in attacks),
            'turn_min_parallax': config['turn_min_parallax'],
            'turn_min_inner_parallax': config['turn_min_inner_parallax'], 'attacks': attacks,
            'attack_checks': 3 * len(attacks), 'attacks_passed': passed_attacks,
            'live': live, 'live_passed_pct': round(100 * np.mean([x['passed'] for x in live]), 2),
            'method': 'attacks: real photos warped as a flat plane (static, moved+scaled, turned '
                      '+-45 deg yaw, tilted +-35 deg pitch) into 640x480 frames, real dlib '
                      'detector and landmarks; live: landmarks of the same photos lifted to 3D '
                      'with a generic depth profile, blinking or turning 30 deg, projected, '
                      'with 1.2 % landmark noise (synthesised, not recorded)'}


# --- spoken challenge --------------------------------------------------------------------------

def _digits_audio(fsdd: Path, speaker: str, digits: tuple[str, ...], take: int) -> np.ndarray:
    from mmchat_ros.auth.voiceprint import load_audio

    parts = []
    for digit in digits:
        samples, _ = load_audio(fsdd / f'{digit}_{speaker}_{take}.flac')
        parts += [samples, np.zeros(800, np.float32)]
    return np.concatenate(parts)


def bench_challenge(data: Path, config: dict[str, Any], trials: int = 10) -> dict[str, Any]:
    """FSDD digits: right answers, replayed earlier answers, the right digits in another voice.

    The transcript is the digits said (ASR is not part of this benchmark).
    """
    from mmchat_ros.auth.challenge import ChallengeIssuer
    from mmchat_ros.auth.voiceprint import VoiceGallery, VoiceprintModel

    fsdd, rate = data / 'speech' / 'fsdd', 8000
    model = VoiceprintModel()
    enrolment = [model.embed(_digits_audio(fsdd, 'george', tuple(digits), take), rate)
                 for take in (0, 1) for digits in ('01234', '56789', '13579')]
    gallery = VoiceGallery({'george': np.stack(enrolment)}, float(config['voice_threshold']))
    issuer = ChallengeIssuer(length=int(config['challenge_digits']),
                             lifetime_s=float(config['challenge_lifetime_s']))
    outcome = {'genuine_passed': 0, 'replays_passed': 0, 'other_voice_passed': 0}
    earlier = None
    for trial in range(trials):
        challenge = issuer.issue()
        take = 2 + trial % 8
        answer = _digits_audio(fsdd, 'george', challenge.words, take)
        voice_ok = gallery.verify('george', model.embed(answer, rate))[0]
        said_ok = issuer.check(challenge.nonce, ' '.join(challenge.words), answer).passed
        outcome['genuine_passed'] += voice_ok and said_ok
        if earlier is not None:          # last trial's recording played to a new challenge
            replay = issuer.issue()
            audio, transcript = earlier
            replay_ok = (issuer.check(replay.nonce, transcript, audio).passed
                         and gallery.verify('george', model.embed(audio, rate))[0])
            outcome['replays_passed'] += replay_ok
        used = issuer.check(challenge.nonce, ' '.join(challenge.words), answer).passed
        outcome['replays_passed'] += used                  # the same nonce answered twice
        earlier = (answer, ' '.join(challenge.words))
        other = issuer.issue()
        impostor = _digits_audio(fsdd, 'jackson', other.words, take)
        outcome['other_voice_passed'] += (
            issuer.check(other.nonce, ' '.join(other.words), impostor).passed
            and gallery.verify('george', model.embed(impostor, rate))[0])
    return {**outcome, 'trials': trials, 'replay_attempts': 2 * trials - 1,
            'genuine_passed_pct': round(100 * outcome['genuine_passed'] / trials, 1),
            'method': 'FSDD: george enrolled from 6 digit strings (takes 0, 1 of 0-9, '
                      'concatenated); answers are his '
                      'recordings of the asked digits (other takes) concatenated; replays: the '
                      'previous answer to a new challenge and the same nonce twice; other voice: '
                      'jackson saying the right digits'}


# --- timing ----------------------------------------------------------------------------------

def bench_timing(data: Path, config: dict[str, Any], repeats: int = 12) -> dict[str, Any]:
    """CPU time of the steps on the way to a session (parts, not an end-to-end run).

    A 640x480 frame through detection + embedding + landmarks, landmarks alone on a known box
    (what liveness needs per frame once the face is tracked), and a voiceprint of a 4-digit answer.
    """
    import time

    from mmchat_tools.auth import liveness_sequences as sequences
    from mmchat_ros.auth.faces import FaceAnalyzer
    from mmchat_ros.auth.voiceprint import VoiceprintModel
    from mmchat_bench.results import latency_summary

    analyzer, model = FaceAnalyzer(), VoiceprintModel()
    frames = [frame for name, photo in liveness_photos(data, 4)
              for _, frame in sequences.photo_attack(photo, 'static', frames=1)]
    full, landmarks_only, voice = [], [], []
    analyzer.analyse(frames[0], landmarks=True)                  # warm-up, not timed
    for index in range(repeats):
        frame = frames[index % len(frames)]
        started = time.perf_counter()
        faces = analyzer.analyse(frame, landmarks=True)
        full.append((time.perf_counter() - started) * 1e3)
        started = time.perf_counter()
        analyzer.landmarks(frame, faces[0].box)
        landmarks_only.append((time.perf_counter() - started) * 1e3)
    fsdd = data / 'speech' / 'fsdd'
    answers = [_digits_audio(fsdd, 'george', tuple('0123456789'[i:i + 4]), 5) for i in range(6)]
    model.embed(answers[0], 8000)                                # warm-up (resampler), not timed
    for index in range(repeats):
        started = time.perf_counter()
        model.embed(answers[index % len(answers)], 8000)
        voice.append((time.perf_counter() - started) * 1e3)
    return {'frame_640x480_detect_embed_landmarks': latency_summary(full),
            'landmarks_on_known_box': latency_summary(landmarks_only),
            'voiceprint_4_digit_answer': latency_summary(voice),
            'answer_audio_s': round(float(np.mean([a.size / 8000 for a in answers])), 2),
            'frames_for_face_decision': config['face_required_frames'],
            'note': 'parts only; the end-to-end time to a session (with ASR and the operator '
                    'answering) is measured once the auth node exists'}


# --- report ------------------------------------------------------------------------------------

def _det_curves(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    curves = [(f'face {name}', part) for name, part in report.get('faces', {}).items()
              if 'det' in part]
    for name, part in report.get('voices', {}).items():
        if name.startswith('all_'):
            curves.append((f"voice {name.removeprefix('all_')}", part))
    return curves


def plot_det(report: dict[str, Any], path: Path) -> None:
    """DET curves (FRR against FAR, log axes) with the shipped operating points marked."""
    from mmchat_tools import plots

    fig, ax = plots.new_figure(9.0, 6.5)
    for index, (label, part) in enumerate(_det_curves(report)):
        color = f'C{index}'
        points = np.array([*zip(part['det']['far_pct'], part['det']['frr_pct']),
                           (part['far_pct'], part['frr_pct'])])      # with the operating point
        points = points[np.lexsort((-points[:, 1], points[:, 0]))]
        far, frr = np.maximum(points[:, 0], 1e-3), np.maximum(points[:, 1], 1e-3)
        ax.plot(far, frr, color=color, label=f"{label}: EER {part['eer_pct']:.2f} %, at threshold "
                f"FAR {part['far_pct']:.3f} % FRR {part['frr_pct']:.2f} %")
        ax.plot([max(part['far_pct'], 1e-3)], [max(part['frr_pct'], 1e-3)], marker='o',
                color=color, markeredgecolor='black')
    ax.axvline(0.1, color='grey', linestyle=':')
    ax.axhline(5.0, color='grey', linestyle=':')
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xlabel('false accept rate (%)')
    ax.set_ylabel('false reject rate (%)')
    ax.set_title('authentication DET curves (dots: shipped thresholds; 0.001 % = none)')
    ax.grid(alpha=0.3, which='both')
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc='upper right')
    plots.save(fig, path)
