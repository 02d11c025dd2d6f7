"""One-time spoken challenges, checked against the transcript of the operator's answer.

The drone asks for random digits (or words), the operator says them, the voice pipeline's ASR
gives the transcript, and it is checked here.

Anti-replay: every challenge has a random nonce and words drawn with `secrets`, expires after
`lifetime_s`, and is consumed by its first check whatever the outcome, so a recording of an earlier
answer (other words, a used or expired nonce) never passes. Audio already presented once (same
digest) is refused too.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import hashlib
import re
import secrets
import time
from typing import Callable, Sequence

import numpy as np

DIGITS = ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')
_NUMBER_WORDS = {'zero': '0', 'oh': '0', 'o': '0', 'one': '1', 'two': '2', 'to': '2', 'too': '2',
                 'three': '3', 'four': '4', 'for': '4', 'five': '5', 'six': '6', 'seven': '7',
                 'eight': '8', 'ate': '8', 'nine': '9'}


@dataclass(frozen=True)
class Challenge:
    """What the operator must say, and until when."""

    nonce: str
    words: tuple[str, ...]
    expires_at: float

    @property
    def prompt(self) -> str:
        """The text to show or speak, e.g. 'Please say: 4 7 1 9'."""
        return 'Please say: ' + ' '.join(self.words)


@dataclass(frozen=True)
class ChallengeResult:
    """Whether an answer passed and why."""

    passed: bool
    reason: str


def normalise_transcript(text: str) -> tuple[str, ...]:
    """Lower-case words without punctuation; number words and digit strings as single digits.

    'Four seven-one 9.' -> ('4', '7', '1', '9').
    """
    tokens: list[str] = []
    for word in re.findall(r"[a-z0-9']+", text.lower()):
        if word.isdigit():
            tokens.extend(word)
        else:
            tokens.append(_NUMBER_WORDS.get(word, word))
    return tuple(tokens)


def audio_digest(samples: np.ndarray) -> str:
    """A digest of audio samples, to recognise the very same recording presented again."""
    return hashlib.sha256(np.ascontiguousarray(samples, dtype=np.float32).tobytes()).hexdigest()


class ChallengeIssuer:
    """Issues challenges and checks answers; each nonce is good for one check only."""

    def __init__(self, length: int = 4, vocabulary: Sequence[str] = DIGITS,
                 lifetime_s: float = 20.0, clock: Callable[[], float] = time.monotonic,
                 remembered_audio: int = 256) -> None:
        if length < 1 or len(set(vocabulary)) < 2:
            raise ValueError('a challenge needs at least one word from two or more choices')
        self.length, self.vocabulary, self.lifetime_s = length, tuple(vocabulary), lifetime_s
        self._clock = clock
        self._pending: dict[str, Challenge] = {}
        self._issued: deque[tuple[str, ...]] = deque(maxlen=64)
        self._heard: deque[str] = deque(maxlen=remembered_audio)

    def issue(self) -> Challenge:
        """A new challenge whose words differ from the last ones issued."""
        now = self._clock()
        self._pending = {n: c for n, c in self._pending.items() if c.expires_at > now}
        while True:
            words = tuple(secrets.choice(self.vocabulary) for _ in range(self.length))
            if words not in self._issued:
                break
        self._issued.append(words)
        challenge = Challenge(secrets.token_hex(16), words, now + self.lifetime_s)
        self._pending[challenge.nonce] = challenge
        return challenge

    def check(self, nonce: str, transcript: str,
              audio: np.ndarray | None = None) -> ChallengeResult:
        """Check an answer to the challenge `nonce`; the nonce is used up whatever the result."""
        challenge = self._pending.pop(nonce, None)
        if challenge is None:
            return ChallengeResult(False, 'unknown or already used challenge')
        if self._clock() > challenge.expires_at:
            return ChallengeResult(False, 'challenge expired')
        if audio is not None:
            digest = audio_digest(audio)
            if digest in self._heard:
                return ChallengeResult(False, 'this recording was presented before (replay)')
            self._heard.append(digest)
        heard = normalise_transcript(transcript)
        expected = tuple(w.lower() for w in challenge.words)
        if heard != expected:
            return ChallengeResult(False, f"heard '{' '.join(heard) or '(nothing)'}', "
                                   f"expected '{' '.join(expected)}'")
        return ChallengeResult(True, 'challenge answered')
