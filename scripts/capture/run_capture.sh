#!/usr/bin/env bash
# Regenerate tests/fixtures/captured/* from real instrumentation libraries.
# Usage: scripts/capture/run_capture.sh [--only NAME ...] [--reinstall] [--keep-raw DIR]
set -euo pipefail
cd "$(dirname "$0")"
exec python3 run_capture.py "$@"
