#!/bin/sh
# Install citeproc-js for the differential tests (a test-time dependency only).
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/citeproc ]; then
    if [ -f package-lock.json ]; then
        npm ci --no-audit --no-fund
    else
        npm install --no-audit --no-fund
    fi
fi
