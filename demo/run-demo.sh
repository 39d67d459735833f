#!/bin/sh
# Run a real scan of the bundled demo evidence against the bundled demo hash sets.
# Everything goes under demo-output/: a store of its own and a new case folder per run.
set -eu
cd "$(dirname "$0")/.."
store=demo-output/store
case_dir="demo-output/case-$(date -u +%Y%m%dT%H%M%SZ)"
set -x
hashmatch --store "$store" hashset import hashsets/demo-known-bad.md5 --name demo-md5 --category known-bad -q
hashmatch --store "$store" hashset import hashsets/demo-known-bad.pdq.txt --name demo-pdq --format pdq --category known-bad -q
hashmatch --store "$store" hashset import hashsets/demo-known-good.md5 --name demo-good --category known-good -q
hashmatch --store "$store" hashset list
hashmatch --store "$store" scan demo/evidence -o "$case_dir" --case-id DEMO-001 --examiner "Demo Examiner" -q
set +x
echo
echo "Report: $case_dir/report.html  (also report.json and matches.csv in the same folder)"
