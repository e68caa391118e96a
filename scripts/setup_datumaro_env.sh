#!/usr/bin/env bash
# Create the virtualenv with Datumaro that reads back the annotation writers' output
# (tests/io/annotations: CVAT, MOTS, COCO imported as a CVAT user's tools would).
#
# Why a separate environment: Datumaro 1.13 pins Pillow below 13, which would downgrade the main
# environment's Pillow. The tests run Datumaro in a subprocess under this venv's python.
#
# Usage: scripts/setup_datumaro_env.sh [VENV_DIR]   (default: build/datumaro-venv in the repository root)
# Idempotent: returns within a second when the venv already holds this exact version.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-build/datumaro-venv}"
REQUIREMENTS="datumaro==1.13.12"
MARKER="$VENV/.siammask-datumaro-requirements"
PYTHON="${PYTHON:-python3}"

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$REQUIREMENTS" ]] && "$VENV/bin/python" -c "import datumaro" 2>/dev/null; then
    echo "datumaro venv ready: $VENV"
    exit 0
fi

echo "creating datumaro venv in $VENV ($REQUIREMENTS)"
rm -f "$MARKER"
"$PYTHON" -m venv "$VENV"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install --quiet $REQUIREMENTS
"$VENV/bin/python" -c "import datumaro"
echo "$REQUIREMENTS" > "$MARKER"
echo "datumaro venv ready: $VENV"
