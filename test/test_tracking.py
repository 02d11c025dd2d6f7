"""The ROS-free tracker: identities through crossings, occlusion and re-entry; states and ages."""
import numpy as np
import pytest

from mmchat_ros.detection import appearance
from mmchat_ros.detection.tracking import (BoxKalman, ReidConfig, ReidTracker, TrackState,
                                           UltralyticsTracker, iou_matrix, make_tracker)
from mmchat_ros.detection.yolo import Box

WIDTH, HEIGHT = 320, 240
RED, BLUE, GREEN = (30, 30, 220), (220, 60, 30), (40, 200, 40)


def figure_box(cx: float, cy: float = 140.0, w: float = 24.0, h: float = 70.0) -> tuple[float, ...]:
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def frame(figures: list[tuple[tuple[float, ...], tuple[int, int, int]]]) -> np.ndarray:
    """A grey textured image with solid 'people' (shirt colour on top, dark trousers below)."""
    rng = np.random.default_rng(0)
    image = rng.integers(90, 140, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    for (x1, y1, x2, y2), shirt in figures:
        mid = int((y1 + y2) / 2)
        image[int(y1):mid, int(x1):int(x2)] = shirt
        image[mid:int(y2), int(x1):int(x2)] = (60, 40, 30)
    return image


def run(tracker, frames, drawn=None):
    """The tracks of each frame of `frames`: [(box, colour), ...] detected per frame at 10 Hz.

    `drawn`: what the image shows, if different.
    """
    out = []
    for i, figures in enumerate(frames):
        detections = [Box(*box, 0.9, 0) for box, _ in figures]
        out.append(tracker.update(detections, frame(drawn[i] if drawn else figures), i * 0.1))
    return out


def ids_by_colour(frames, results, colour):
    """Track ids reported (not lost) for the figure of `colour`, frame by frame."""
    ids = []
    for figures, tracks in zip(frames, results):
        for track in tracks:
            if track.detection_index is not None and figures[track.detection_index][1] == colour:
                ids.append(track.track_id)
    return ids


def test_iou_matrix():
    a = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    b = np.array([[5, 0, 15, 10]], float)
    assert iou_matrix(a, b)[:, 0] == pytest.approx([50 / 150, 0.0])
    assert iou_matrix(a, np.zeros((0, 4))).shape == (2, 0)


def test_appearance_tells_colours_apart_and_matches_the_same_colour():
    red_a = appearance.descriptor(frame([(figure_box(100), RED)]), figure_box(100))
    red_b = appearance.descriptor(frame([(figure_box(200, w=30, h=90), RED)]),
                                  figure_box(200, w=30, h=90))
    blue = appearance.descriptor(frame([(figure_box(100), BLUE)]), figure_box(100))
    grey = appearance.descriptor(np.full((HEIGHT, WIDTH, 3), 128, np.uint8), figure_box(100))
    black = appearance.descriptor(np.full((HEIGHT, WIDTH, 3), 10, np.uint8), figure_box(100))
    assert appearance.distance(red_a, red_b) < 0.15
    assert appearance.distance(red_a, blue) > 0.5
    assert appearance.distance(grey, black) > 0.5
    assert appearance.descriptor(frame([]), (10, 10, 12, 12)) is None


def test_kalman_predicts_constant_motion_over_uneven_steps():
    kalman = BoxKalman(np.array(figure_box(50)))
    t = 0.0
    for dt in (0.1, 0.1, 0.3, 0.1, 0.2, 0.1):
        t += dt
        kalman.predict(dt)
        kalman.update(np.array(figure_box(50 + 100 * t)))
    kalman.predict(0.5)
    centre = (kalman.box[0] + kalman.box[2]) / 2
    assert centre == pytest.approx(50 + 100 * (t + 0.5), abs=8)


def test_states_and_age():
    tracker = ReidTracker()
    frames = [[(figure_box(60 + 5 * i), RED)] for i in range(8)]
    results = run(tracker, frames)
    states = [r[0].state for r in results]
    assert states[:2] == [TrackState.TENTATIVE] * 2 and set(states[2:]) == {TrackState.CONFIRMED}
    assert results[-1][0].age_s == pytest.approx(0.5)
    assert results[0][0].age_s == 0.0


def crossing(speed_px: float = 12.0, frames: int = 22) -> tuple[list, list]:
    """RED walks right in front of BLUE, who walks left and is not detected while mostly hidden.

    Returns (figures drawn, figures detected) per frame; detection order alternates.
    """
    drawn, detected = [], []
    for i in range(frames):
        red, blue = (figure_box(30 + speed_px * i), RED), (figure_box(290 - speed_px * i), BLUE)
        drawn.append([blue, red])                              # red is drawn last: in front
        hidden = iou_matrix(np.array([red[0]]), np.array([blue[0]]))[0, 0] > 0.4
        seen = [red] if hidden else [red, blue]
        detected.append(seen[::-1] if i % 2 else seen)
    return drawn, detected


def test_identities_survive_a_crossing():
    drawn, frames = crossing()
    results = run(ReidTracker(), frames, drawn)
    red, blue = ids_by_colour(frames, results, RED), ids_by_colour(frames, results, BLUE)
    assert len(red) == len(frames) and len(blue) == sum(len(f) == 2 for f in frames) < len(frames)
    assert len(set(red)) == 1 and len(set(blue)) == 1 and red[0] != blue[0]


def test_identity_comes_back_after_an_occlusion_and_a_far_reentry():
    """GREEN vanishes for 2 s (lost, predicted box reported a while), then reappears elsewhere."""
    visible = [[(figure_box(80 + 4 * i), GREEN), (figure_box(250), RED)] for i in range(10)]
    hidden = [[(figure_box(250), RED)] for _ in range(20)]
    back = [[(figure_box(200, w=30, h=85), GREEN), (figure_box(250 + 0 * i), RED)]
            for i in range(6)]
    frames = visible + hidden + back
    tracker = ReidTracker()
    results = run(tracker, frames)
    green = ids_by_colour(frames, results, GREEN)
    assert len(set(green)) == 1 and len(green) == 16
    lost = [[t for t in r if t.state == TrackState.LOST] for r in results[10:30]]
    assert lost[0] and lost[0][0].track_id == green[0] and lost[0][0].score == 0.0
    assert not lost[-1], 'lost tracks are reported for report_lost_s only'
    assert len(set(ids_by_colour(frames, results, RED))) == 1


def test_a_newcomer_does_not_steal_a_lost_identity():
    frames = [[(figure_box(100), RED)] for _ in range(6)] + [[] for _ in range(5)] + \
        [[(figure_box(100), BLUE)] for _ in range(6)]
    results = run(ReidTracker(), frames)
    assert set(ids_by_colour(frames, results, RED)).isdisjoint(ids_by_colour(frames, results, BLUE))


def test_weak_detections_continue_a_track_but_never_start_one():
    """ByteTrack's rule: below new_track_score a detection only extends a track it matches."""
    tracker = ReidTracker()
    red_scores = [0.9] * 4 + [0.15] * 6
    results = []
    for i, score in enumerate(red_scores):
        figures = [(figure_box(60 + 5 * i), RED), (figure_box(250), BLUE)]
        detections = [Box(*figures[0][0], score, 0), Box(*figures[1][0], 0.15, 0)]
        results.append(tracker.update(detections, frame(figures), i * 0.1))
    assert [len(r) for r in results] == [1] * len(red_scores), 'the weak BLUE never becomes a track'
    assert len({r[0].track_id for r in results}) == 1
    assert all(r[0].detection_index == 0 and r[0].state == TrackState.CONFIRMED
               for r in results[4:])


@pytest.mark.parametrize('unmatched_cost, a_keeps_its_detection', [
    (ReidConfig.unmatched_cost, True),
    (1e5, False),                       # never unmatched: the swap this case is built to provoke
])
def test_a_track_without_its_detection_does_not_push_others_into_a_swap(unmatched_cost,
                                                                        a_keeps_its_detection):
    """A missed detection does not make the assignment swap the other tracks.

    A and B stand 0.8 box heights apart; B goes undetected just as a newcomer shows up half a
    height left of A. Every pairing but B with the newcomer passes the gates, so an assignment that
    must match every track would give A the newcomer and B A's detection; leaving B unmatched at a
    cost keeps A on A. (Boxes 5 px wide carry no appearance: motion decides alone.)
    """
    def tall(cx: float) -> tuple[float, ...]:
        return figure_box(cx, w=5.0, h=70.0)

    tracker = ReidTracker(ReidConfig(unmatched_cost=unmatched_cost))
    still = [Box(*tall(100.0), 0.9, 0), Box(*tall(156.0), 0.9, 0)]
    for i in range(5):
        tracks = tracker.update(still, frame([]), i * 0.1)
    a_id = next(t.track_id for t in tracks if t.detection_index == 0)
    tracks = tracker.update([Box(*tall(100.0), 0.9, 0), Box(*tall(65.0), 0.9, 0)], frame([]), 0.5)
    on = {t.detection_index: t.track_id for t in tracks if t.detection_index is not None}
    assert (on[0] == a_id and on.get(1) != a_id) == a_keeps_its_detection


def clipped(cx: float) -> tuple[float, ...] | None:
    """A figure's box cut by the image border (None once fewer than 4 columns show)."""
    x1, y1, x2, y2 = figure_box(cx)
    x1, x2 = max(x1, 0.0), min(x2, float(WIDTH))
    return (x1, y1, x2, y2) if x2 - x1 >= 4 else None


def test_identities_come_back_when_two_targets_reenter_together_at_the_border():
    """RED and BLUE walk out on the right, and back in side by side.

    The slivers first seen at the border neither confirm a new identity nor spoil the old ones'
    looks and sizes.
    """
    def at(red_cx: float, blue_cx: float) -> list:
        return [(box, colour) for box, colour in ((clipped(red_cx), RED), (clipped(blue_cx), BLUE))
                if box]

    arm = [((316.0, 130.0, 320.0, 142.0), RED)]            # the last and first bits of RED seen
    out = [at(180 + 12 * i, 230 + 12 * i) for i in range(14)] + [arm]
    gone = [[] for _ in range(10)]
    back = [arm] + [at(340 - 12 * i, 325 - 12 * i) for i in range(14)]
    frames = out + gone + back
    results = run(ReidTracker(), frames)

    def confirmed_ids(colour, part):
        return {t.track_id for figures, tracks in part for t in tracks
                if t.state == TrackState.CONFIRMED and t.detection_index is not None
                and figures[t.detection_index][1] == colour}

    before = list(zip(frames[:15], results[:15]))
    after = list(zip(frames[25:], results[25:]))
    assert len(confirmed_ids(RED, before)) == 1 and len(confirmed_ids(BLUE, before)) == 1
    assert confirmed_ids(RED, after) == confirmed_ids(RED, before)
    assert confirmed_ids(BLUE, after) == confirmed_ids(BLUE, before)


@pytest.mark.parametrize('kind', UltralyticsTracker.KINDS)
def test_ultralytics_trackers_behind_the_same_interface(kind):
    frames = [[(figure_box(60 + 6 * i), RED), (figure_box(250), BLUE)] for i in range(6)]
    results = run(make_tracker(kind), frames)
    assert {len(r) for r in results[2:]} == {2}
    assert len(set(ids_by_colour(frames, results, RED))) == 1
    assert make_tracker('none') is None
    with pytest.raises(ValueError):
        make_tracker('sort')
