#!/usr/bin/env bash
# A full disk under the device store, at several fill levels. Run inside a
# private mount namespace (`unshare -m`), as root or with a user namespace:
#   unshare -m bash tests/faults/enospc.sh BIN WORKDIR LEVEL_KB...
# For each level: a small tmpfs holds the store, a filler file leaves LEVEL_KB
# free, and contacts are logged until the disk refuses one. Then a few more
# commands run on the full disk, the filler is removed, and the store must open,
# pass `doctor` and hold every acknowledged contact. Prints one line a level:
#   level=KB attempts=N acknowledged=N lost=N bricked=0|1 refused_saved=0|1 refusal="…"
set -u
. "$(dirname "$0")/common.sh" "$@"
shift 2
for level in "$@"; do
  D=$WORK/fs-$level
  mkdir -p "$D"
  mount -t tmpfs -o size=4m tmpfs "$D" || { echo "cannot mount a tmpfs: run as root or under unshare -rm"; exit 3; }
  S=$D/store
  "$BIN" --store "$S" init --worker t.user >/dev/null 2>&1
  "$BIN" --store "$S" import cohort "$WORK/cohort.csv" >/dev/null 2>&1
  ID=$("$BIN" --store "$S" people --json 2>/dev/null | sed -n 's/.*"id": "\([0-9a-f-]*\)".*/\1/p' | head -1)
  avail=$(df -k --output=avail "$D" | tail -1)
  dd if=/dev/zero of="$D/filler" bs=1k count=$(( avail > level ? avail - level : 0 )) 2>/dev/null
  ok=0; attempts=0; refusal=""
  for i in $(seq 1 2000); do
    attempts=$i
    out=$("$BIN" --store "$S" contact "$ID" --channel phone --outcome no-answer --note "attempt $i" 2>&1)
    rc=$?
    if [ $rc -ne 0 ]; then refusal="rc=$rc $out"; break; fi
    ok=$((ok+1))
  done
  # More commands while the disk is still full: none may damage the store.
  for j in 1 2 3; do
    "$BIN" --store "$S" contact "$ID" --channel text --outcome sent-no-reply >/dev/null 2>&1
    "$BIN" --store "$S" people >/dev/null 2>&1
  done
  rm -f "$D/filler"
  bricked=0
  "$BIN" --store "$S" doctor >/dev/null 2>&1 || bricked=1
  # Acknowledged contacts are the "attempt N" notes; count each once.
  held=$("$BIN" --store "$S" show "$ID" --json 2>/dev/null | grep -o 'attempt [0-9]*' | sort -u | wc -l)
  lost=$(( ok > held ? ok - held : 0 ))
  # The refused attempt must not appear later either ("nothing was saved").
  refused_saved=$("$BIN" --store "$S" show "$ID" --json 2>/dev/null | grep -c "\"attempt $attempts\"")
  [ -n "$refusal" ] || refused_saved=0
  echo "level=$level attempts=$attempts acknowledged=$ok lost=$lost bricked=$bricked refused_saved=$refused_saved refusal=\"$(echo "$refusal" | head -1)\""
  umount "$D"
done
