#!/usr/bin/env bash
# Sign-in under load: times /healthz while 30 wrong-password staff sign-ins run at
# once against a fresh demo (usage: scripts/bench-sign-in.sh PATH/TO/server).
set -u
BIN=$1; PORT=3999; DIR=$(mktemp -d)
DATABASE_URL="sqlite://$DIR/b.db" TESSERA_ADDR=127.0.0.1:$PORT RUST_LOG=error $BIN serve --demo >/dev/null 2>&1 &
PID=$!
for _ in $(seq 1 60); do curl -fsS http://127.0.0.1:$PORT/healthz >/dev/null 2>&1 && break; sleep 1; done
base() { for i in 1 2 3 4 5; do curl -o /dev/null -s -w '%{time_total}\n' http://127.0.0.1:$PORT/healthz; done; }
echo "healthz idle (s):"; base
for i in $(seq 1 30); do
  curl -s -o /dev/null -X POST -H 'Accept: application/json' --data "email=user$i@harbour.example&password=guess$i" http://127.0.0.1:$PORT/rpc/session/sign-in &
done
sleep 0.3
echo "healthz during 30 parallel sign-ins (s):"; base
wait $(jobs -p | grep -v $PID) 2>/dev/null
kill $PID; rm -rf "$DIR"
