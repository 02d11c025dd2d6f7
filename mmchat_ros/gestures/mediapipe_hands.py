"""MediaPipe Hands (the hand models shipped in mediapipe 0.10.21) with configurable model files.

mp.solutions.hands.Hands always loads the models inside the mediapipe package. HandDetector runs the
same graph (hand_landmark_tracking_cpu) with the same options, but with the palm detection and hand
landmark model paths set from its settings, after checking both files; empty paths mean the
shipped models of the chosen complexity.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmchat_ros.gestures.hand import Hand
from mmchat_ros.gestures.model_files import ModelFileError, check_tflite

_GRAPH = 'modules/hand_landmark/hand_landmark_tracking_cpu.binarypb'
_SHIPPED = {'palm_detection': 'modules/palm_detection/palm_detection_{}.tflite',
            'hand_landmark': 'modules/hand_landmark/hand_landmark_{}.tflite'}
_OUTPUTS = {'palm_detection': 2, 'hand_landmark': 4}
_COMPLEXITY_NAMES = ('lite', 'full')


@dataclass(frozen=True)
class DetectorSettings:
    """MediaPipe Hands options and model files ('' = the shipped model for `model_complexity`).

    image_mirrored: the frames are mirrored (a selfie view). MediaPipe's handedness assumes that;
    for a raw camera image it is swapped back, so `Hand.handedness` is the person's own hand.
    """

    model_complexity: int = 0
    max_num_hands: int = 2
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    static_image_mode: bool = False
    image_mirrored: bool = False
    palm_detection_model: str = ''
    hand_landmark_model: str = ''

    def problem(self) -> str | None:
        """Why these settings cannot work, or None."""
        if self.model_complexity not in (0, 1):
            return f'model_complexity must be 0 or 1, got {self.model_complexity}'
        if self.max_num_hands < 1:
            return f'max_num_hands must be at least 1, got {self.max_num_hands}'
        for name in ('min_detection_confidence', 'min_tracking_confidence'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                return f'{name} must be in [0, 1], got {getattr(self, name)}'
        return None


def _mediapipe_dir() -> Path:
    import mediapipe
    return Path(mediapipe.__file__).resolve().parent


def model_paths(settings: DetectorSettings) -> dict[str, Path]:
    """The palm detection and hand landmark model files these settings use."""
    complexity = _COMPLEXITY_NAMES[settings.model_complexity]
    chosen = {'palm_detection': settings.palm_detection_model,
              'hand_landmark': settings.hand_landmark_model}
    return {kind: Path(path).expanduser() if path
            else _mediapipe_dir() / _SHIPPED[kind].format(complexity)
            for kind, path in chosen.items()}


def _graph_config(paths: dict[str, Path]):
    """The hand tracking graph, expanded, with every model path pointing at `paths`."""
    from mediapipe.calculators.core import constant_side_packet_calculator_pb2 as constant
    from mediapipe.framework import calculator_pb2
    from mediapipe.python._framework_bindings import validated_graph_config

    validated = validated_graph_config.ValidatedGraphConfig()
    validated.initialize(binary_graph_path=str(_mediapipe_dir() / _GRAPH))
    config = calculator_pb2.CalculatorGraphConfig()
    config.ParseFromString(validated.binary_config)
    replaced = {kind: 0 for kind in paths}
    extension = constant.ConstantSidePacketCalculatorOptions.ext
    for node in config.node:
        if node.calculator != 'ConstantSidePacketCalculator':
            continue
        for packet in node.options.Extensions[extension].packet:
            for kind, path in paths.items():
                if Path(packet.string_value).name.startswith(kind + '_'):
                    packet.string_value = str(path)
                    replaced[kind] += 1
    if any(count == 0 for count in replaced.values()):
        raise ModelFileError(f'the hand graph of this mediapipe version has no model paths to set '
                             f'({replaced}); mediapipe 0.10.21 is expected')
    return config


class HandDetector:
    """Finds hands in BGR frames. Raises ModelFileError (clear message) for unusable models."""

    def __init__(self, settings: DetectorSettings) -> None:
        problem = settings.problem()
        if problem:
            raise ValueError(problem)
        from mediapipe.python.solution_base import SolutionBase

        self.settings = settings
        self.model_paths = model_paths(settings)
        for kind, path in self.model_paths.items():
            check_tflite(path, _OUTPUTS[kind])
        try:
            self._graph = SolutionBase(
                graph_config=_graph_config(self.model_paths),
                side_inputs={'model_complexity': settings.model_complexity,
                             'num_hands': settings.max_num_hands,
                             'use_prev_landmarks': not settings.static_image_mode},
                calculator_params={
                    'palmdetectioncpu__TensorsToDetectionsCalculator.min_score_thresh':
                        settings.min_detection_confidence,
                    'handlandmarkcpu__ThresholdingCalculator.threshold':
                        settings.min_tracking_confidence},
                outputs=['multi_hand_landmarks', 'multi_handedness'])
        except (RuntimeError, ValueError) as exc:
            files = ', '.join(map(str, self.model_paths.values()))
            raise ModelFileError(f'MediaPipe cannot load the hand models {files}: {exc}') from exc

    def detect(self, bgr: np.ndarray) -> list[Hand]:
        """The hands in a BGR uint8 frame (H, W, 3)."""
        import cv2

        height, width = bgr.shape[:2]
        result = self._graph.process({'image': cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)})
        hands = []
        for landmarks, handedness in zip(result.multi_hand_landmarks or (),
                                         result.multi_handedness or ()):
            points = np.array([(p.x, p.y, p.z) for p in landmarks.landmark])
            best = handedness.classification[0]
            hands.append(Hand(points, self._person_hand(best.label), float(best.score),
                              (width, height)))
        return hands

    def _person_hand(self, mediapipe_label: str) -> str:
        label = mediapipe_label.lower()
        if label not in ('left', 'right'):
            return ''
        if self.settings.image_mirrored:
            return label
        return 'right' if label == 'left' else 'left'

    def close(self) -> None:
        """Stop the MediaPipe graph."""
        self._graph.close()
