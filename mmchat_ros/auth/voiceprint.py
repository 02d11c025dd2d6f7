"""Voiceprints: audio checks, resemblyzer speaker embeddings, enrolment and cosine scores.

Audio comes as float samples with their sample rate. Rates from 8 to 48 kHz are resampled to the
encoder's 16 kHz; anything else, a rate that differs from the stream's declared one, non-finite or
silent audio, or too little speech after silence trimming is refused with a reason. An operator's
voiceprint is the normalised mean of the embeddings of several utterances; the score of an
utterance is the cosine similarity of its embedding with that voiceprint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

ENCODER_RATE = 16000
RATE_RANGE = (8000, 48000)
MIN_SPEECH_S = 0.3
AUDIO_SUFFIXES = ('.wav', '.flac', '.ogg')


class AudioError(ValueError):
    """Audio that cannot be used for a voiceprint (the message says why)."""


def audio_files(folder: str | Path) -> list[Path]:
    """The audio files directly inside `folder`, sorted by name (hidden files skipped)."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith('.')
                  and p.suffix.lower() in AUDIO_SUFFIXES)


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """(mono float32 samples, sample rate) of an audio file; AudioError if it cannot be decoded."""
    import soundfile

    try:
        samples, rate = soundfile.read(str(path), dtype='float32', always_2d=True)
    except (RuntimeError, OSError, soundfile.LibsndfileError) as exc:
        raise AudioError(f'cannot decode audio {Path(path).name}: {exc}') from exc
    return samples.mean(axis=1), int(rate)


def check_audio(samples: np.ndarray, rate: int, expected_rate: int | None = None) -> np.ndarray:
    """Validated mono float32 audio resampled to 16 kHz; AudioError with the reason otherwise."""
    if expected_rate is not None and rate != expected_rate:
        raise AudioError(f'wrong sample rate: {rate} Hz, the stream declared {expected_rate} Hz')
    if not RATE_RANGE[0] <= rate <= RATE_RANGE[1]:
        raise AudioError(f'unsupported sample rate {rate} Hz (need {RATE_RANGE[0]}-'
                         f'{RATE_RANGE[1]} Hz)')
    array = np.asarray(samples, dtype=np.float32)
    if array.ndim != 1 or not array.size:
        raise AudioError(f'expected mono samples, got shape {array.shape}')
    if not np.all(np.isfinite(array)):
        raise AudioError('audio holds NaN or infinite samples (corrupt)')
    if float(np.max(np.abs(array))) < 1e-4:
        raise AudioError('audio is silent')
    if rate != ENCODER_RATE:
        import librosa
        array = librosa.resample(array, orig_sr=rate, target_sr=ENCODER_RATE).astype(np.float32)
    return array


class VoiceprintModel:
    """The resemblyzer speaker encoder (weights file as argument; default: the one it ships)."""

    def __init__(self, weights: str | Path | None = None, device: str = 'cpu') -> None:
        from resemblyzer import VoiceEncoder

        if weights is not None and not Path(weights).is_file():
            raise FileNotFoundError(f'voice encoder weights {weights} not found')
        self._encoder = VoiceEncoder(device, weights_fpath=Path(weights) if weights else None,
                                     verbose=False)

    def embed(self, samples: np.ndarray, rate: int, expected_rate: int | None = None) -> np.ndarray:
        """The unit-length 256-d embedding of one utterance (AudioError for unusable audio)."""
        from resemblyzer import preprocess_wav

        audio = check_audio(samples, rate, expected_rate)
        speech = preprocess_wav(audio, source_sr=ENCODER_RATE)   # volume, long silences trimmed
        if speech.size < MIN_SPEECH_S * ENCODER_RATE:
            raise AudioError(f'too little speech ({speech.size / ENCODER_RATE:.2f} s < '
                             f'{MIN_SPEECH_S} s)')
        return self._encoder.embed_utterance(speech).astype(np.float32)

    def embed_file(self, path: str | Path) -> np.ndarray:
        """The embedding of an audio file."""
        samples, rate = load_audio(path)
        try:
            return self.embed(samples, rate)
        except AudioError as exc:
            raise AudioError(f'{Path(path).name}: {exc}') from None


def voiceprint(embeddings: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """An operator's voiceprint: the normalised mean of utterance embeddings."""
    mean = np.asarray(embeddings, dtype=np.float32).reshape(-1, 256).mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-9)


class VoiceGallery:
    """The enrolled operators' voiceprints; a score is a cosine similarity (higher: more alike)."""

    def __init__(self, embeddings: Mapping[str, np.ndarray], threshold: float) -> None:
        self.threshold = threshold
        self.prints = {name: voiceprint(vectors) for name, vectors in embeddings.items()}

    def score(self, operator: str, embedding: np.ndarray) -> float | None:
        """Cosine similarity of an utterance with `operator`'s voiceprint (None if not enrolled)."""
        reference = self.prints.get(operator)
        return None if reference is None else float(np.dot(reference, embedding))

    def verify(self, operator: str, embedding: np.ndarray) -> tuple[bool, float | None, str]:
        """(passed, score, reason) for the claim that `operator` spoke the utterance."""
        score = self.score(operator, embedding)
        if score is None:
            return False, None, f'no voiceprint enrolled for {operator}'
        if score < self.threshold:
            return False, score, f'voice unlike {operator} ({score:.3f} < {self.threshold:.3f})'
        return True, score, f'voice of {operator} ({score:.3f})'

    def identify(self, embedding: np.ndarray) -> str | None:
        """The enrolled operator whose voiceprint the utterance matches best, if any passes."""
        scores = {name: float(np.dot(p, embedding)) for name, p in self.prints.items()}
        best = max(scores, key=scores.get, default=None)
        return best if best is not None and scores[best] >= self.threshold else None
