#!/bin/sh
# Inside the nested harness's L1 guest (bench/lib.sh packs it as
# /e2e/bench-l1.sh, l1-init.sh runs it): run the bench that asked to go
# nested, with its settings (/bench/env), under bash, and say how it ended.
bash -c '. /bench/env && export BENCH_IN_L1 && exec bash "/bench/$BENCH_SCRIPT" "${bench_args[@]}"'
echo "BENCH-EXIT: $?"
