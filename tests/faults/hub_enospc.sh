#!/usr/bin/env bash
# A full disk under the hub's data directory, at several fill levels. Run
# inside a private mount namespace, like enospc.sh:
#   unshare -m bash tests/faults/hub_enospc.sh BIN WORKDIR LEVEL_KB...
# For each level: a small tmpfs holds the hub's data, a filler leaves LEVEL_KB
# free, and a device logs a contact and syncs until the hub refuses a push.
# Then the filler is removed and, with no manual step (the hub's stand-in
# service manager restarts it if it stopped), the device's next sync must
# succeed. Finally the hub is killed (SIGKILL) and
# started again, and a second device must find every contact of the first.
# Prints one line a level:
#   level=KB reserve_mb=N attempts=N acknowledged=N lost=N bricked=0|1 hub_restarts=N refusal="…"
# A level may name the hub's reserve (--min-free-mb) after a slash: 3000/2.
# Without one the reserve is 0, so the database itself meets the full disk:
# the hub then stops (exit 9) and is started again, as by a service manager.
set -u
. "$(dirname "$0")/common.sh" "$@"
shift 2
PAD=$(printf 'x%.0s' $(seq 1 3900))

# Runs the hub on data dir $1, port $2, reserve $3 MiB, in the background as
# a service manager would (systemd's Restart=on-failure): started again
# whenever it stops with an error. Sets SUP_PID and HUB_URL.
start_hub() {
  local out=$WORK/hub-$2.out
  : >"$out"
  ( while :; do
      "$BIN" hub serve --data "$1" --listen "127.0.0.1:$2" --min-free-mb "$3" >>"$out" 2>>"$out.err"
      [ $? -eq 0 ] && break
      echo restarted >>"$WORK/restarts-$2"
      sleep 0.2
    done ) &
  SUP_PID=$!
  HUB_URL=http://127.0.0.1:$2
  for _ in $(seq 1 100); do
    grep -q listening "$out" && return 0
    sleep 0.05
  done
  return 1
}

# Stops the service manager and the hub (SIGKILL: nothing is flushed on the way out).
stop_hub() {
  kill -9 "$SUP_PID" 2>/dev/null; wait "$SUP_PID" 2>/dev/null
  pkill -9 -f -- "--data $1 " 2>/dev/null
  sleep 0.1
}

n=0
for spec in "$@"; do
  n=$((n+1))
  level=${spec%%/*}
  reserve=0; [ "$spec" != "$level" ] && reserve=${spec#*/}
  port=$(( 20000 + RANDOM % 20000 ))
  D=$WORK/fs-$n
  mkdir -p "$D"
  mount -t tmpfs -o size=6m tmpfs "$D" || { echo "cannot mount a tmpfs: run as root or under unshare -rm"; exit 3; }
  H=$D/hub
  S=$WORK/device-$n
  S2=$WORK/second-$n
  "$BIN" hub user add admin --role admin --data "$H" 2>/dev/null | tail -1 >"$WORK/token-$n"
  "$BIN" hub user add second --role admin --data "$H" 2>/dev/null | tail -1 >"$WORK/token2-$n"
  start_hub "$H" "$port" "$reserve" || { echo "level=$level the hub did not start: $(cat "$WORK"/hub-*.err)"; stop_hub "$H"; umount "$D"; continue; }
  "$BIN" --store "$S" init --worker t.user >/dev/null 2>&1
  "$BIN" --store "$S" login "$HUB_URL" --token-file "$WORK/token-$n" >/dev/null 2>&1
  "$BIN" --store "$S" import cohort "$WORK/cohort.csv" >/dev/null 2>&1
  "$BIN" --store "$S" sync >/dev/null 2>&1
  ID=$("$BIN" --store "$S" people --json 2>/dev/null | sed -n 's/.*"id": "\([0-9a-f-]*\)".*/\1/p' | head -1)
  avail=$(df -k --output=avail "$D" | tail -1)
  dd if=/dev/zero of="$D/filler" bs=1k count=$(( avail > level ? avail - level : 0 )) 2>/dev/null
  ok=0; attempts=0; refusal=""
  for i in $(seq 1 3000); do
    attempts=$i
    # Long notes fill the hub's disk in fewer rounds.
    "$BIN" --store "$S" contact "$ID" --channel phone --outcome no-answer --note "attempt $i $PAD" >/dev/null 2>&1
    out=$("$BIN" --store "$S" sync 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then refusal="rc=$rc $out"; break; fi
    ok=$((ok+1))
  done
  # More syncs while the disk is still full: none may damage the hub.
  for j in 1 2 3; do
    "$BIN" --store "$S" contact "$ID" --channel text --outcome sent-no-reply --note "while full $j" >/dev/null 2>&1
    "$BIN" --store "$S" sync >/dev/null 2>&1
  done
  rm -f "$D/filler"
  bricked=0
  # No restart, no manual step: the next sync sends everything waiting.
  # (The hub may be between a stop and its restart: a device tries again, as
  # the workbench's background sync does.)
  synced=0
  for _ in $(seq 1 20); do
    after=$("$BIN" --store "$S" sync 2>&1) && { synced=1; break; }
    sleep 0.25
  done
  [ $synced -eq 1 ] || { bricked=1; echo "level=$level after freeing: $after" >&2; }
  "$BIN" --store "$S" outbox 2>&1 | grep -q "^0 changes waiting" || bricked=1
  # Durable when answered: a killed hub, started again, holds it all.
  stop_hub "$H"
  start_hub "$H" "$port" "$reserve" || bricked=1
  "$BIN" --store "$S2" init --worker t.second >/dev/null 2>&1
  "$BIN" --store "$S2" login "$HUB_URL" --token-file "$WORK/token2-$n" >/dev/null 2>&1
  "$BIN" --store "$S2" sync >/dev/null 2>&1 || bricked=1
  held=$("$BIN" --store "$S2" show "$ID" --json 2>/dev/null | grep -o '"attempt [0-9]* x' | sort -u | wc -l)
  full=$("$BIN" --store "$S2" show "$ID" --json 2>/dev/null | grep -o '"while full [0-9]"' | sort -u | wc -l)
  # Every contact the device logged reached the hub in the end.
  lost=$(( attempts - held + 3 - full ))
  restarts=$(cat "$WORK/restarts-$port" 2>/dev/null | wc -l)
  echo "level=$level reserve_mb=$reserve attempts=$attempts acknowledged=$ok lost=$lost bricked=$bricked hub_restarts=$restarts refusal=\"$(echo "$refusal" | head -1)\""
  stop_hub "$H"
  umount "$D"
done
