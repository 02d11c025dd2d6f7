"""Hand gestures from MediaPipe landmarks to safe vehicle commands (ROS-free).

Whether the latest AuthState permits a command: mmchat_ros/authorisation.py.

  hand                landmark indices and the Hand record a detector returns
  mediapipe_hands     MediaPipe Hands with configurable, verified model files
  model_files         model file checks (missing, corrupt, wrong kind -> ModelFileError)
  features            landmark and fingertip-path features shared by training and inference
  mlp                 a small numpy multilayer perceptron stored as .npz (no pickle)
  static_gestures     hand shape classifier (open palm, fist, pointing, V sign, thumbs up/down)
  dynamic_gestures    fingertip path buffer and classifier (circles, swipes, stop, move)
  hysteresis          hold-time filter: a gesture counts once, after being held
  mapping             gesture -> command rules from YAML
  pipeline            frames in, gestures and command requests out
  annotate            landmarks and labels drawn on a frame

Training and evaluation data (real CSVs and generated samples) are offline tools:
mmchat_tools.gestures.
"""
