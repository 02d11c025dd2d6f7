"""Offline tools of mmchat_ros.

Dataset writers, model and vocabulary builders, sequence rendering, evaluation metrics and the
demo. Not installed with the runtime package; run from the source checkout (`tools/run ...` puts
it on the path).

  detection     build_engine (`mmchat build-engine`), sim_data (labelled simulator images and
                scenarios), metrics (mAP, CLEAR MOT / IDF1)
  gestures      datasets (the real CSVs and photos), synthetic_hands, synthetic_paths
  slam          build_vocab (`mmchat build-vocab`), vocabulary_training, sequences
                (`mmchat sequences`: rendered TUM RGB-D sequences), datasets (TUM / EuRoC
                readers), metrics (ATE), offline (`mmchat slam-offline`)
  auth          liveness_sequences (photo attacks and synthesised live faces)
  demo          `mmchat demo` (`make demo`): the simulated mission
  plots         matplotlib helpers shared by the demo and the benchmarks (mmchat_bench)
  synthetic_media  numbered test frames and videos

TOOL_COMMANDS are the `mmchat` subcommands these modules provide (see mmchat_ros.bringup). A tool
module defines HELP, add_arguments(parser) and run(args) -> exit code, and imports heavy libraries
inside run().
"""

#: `mmchat` subcommand -> module of this package that implements it.
TOOL_COMMANDS: dict[str, str] = {
    'build-engine': 'mmchat_tools.detection.build_engine',
    'build-vocab': 'mmchat_tools.slam.build_vocab',
    'slam-offline': 'mmchat_tools.slam.offline',
    'sequences': 'mmchat_tools.slam.sequences',
    'demo': 'mmchat_tools.demo',
    'enroll': 'mmchat_ros.auth.enroll', 'operators': 'mmchat_ros.auth.operators',
}
