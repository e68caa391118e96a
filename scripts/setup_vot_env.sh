#!/usr/bin/env bash
# Create the virtualenv that runs the real vot-toolkit for tests/ecosystem/test_vot_toolkit.py.
#
# Why a separate environment: vot-toolkit pulls the non-headless opencv-python (and its own
# versions of numpy and friends), which would replace the main environment's pinned
# opencv-python-headless==4.14 that the golden parity tests rely on. Only the `vot` client lives
# here; the tracker itself (the TraX server) runs in the main environment.
#
# Usage: scripts/setup_vot_env.sh [VENV_DIR]   (default: build/vot-venv in the repository root)
# Idempotent: returns within a second when the venv already holds these exact versions.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-build/vot-venv}"
REQUIREMENTS="vot-toolkit==0.9.0 attributee==0.1.9 vot-trax==4.0.2"
MARKER="$VENV/.siammask-vot-requirements"
PYTHON="${PYTHON:-python3}"

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$REQUIREMENTS" && -x "$VENV/bin/vot" ]] \
    && "$VENV/bin/python" -c "import vot, trax" 2>/dev/null; then
    echo "vot-toolkit venv ready: $VENV"
    exit 0
fi

echo "creating vot-toolkit venv in $VENV ($REQUIREMENTS)"
rm -f "$MARKER"
"$PYTHON" -m venv "$VENV"
export PIP_DISABLE_PIP_VERSION_CHECK=1
# shellcheck disable=SC2086  # the requirements are separate words on purpose
"$VENV/bin/python" -m pip install --quiet $REQUIREMENTS
"$VENV/bin/python" -c "import vot, trax"
echo "$REQUIREMENTS" > "$MARKER"
echo "vot-toolkit venv ready: $VENV"
