# What both full-disk scripts share: the binary and work directory from the
# arguments, a pinned day, a passphrase, and a one-person cohort file.
# Sourced as `. common.sh "$@"`; the caller then shifts the two away.
BIN=$1; WORK=$2
export CASELOAD_PASSPHRASE="a long test passphrase for the full disk"
export XDG_STATE_HOME=$WORK/state XDG_CONFIG_HOME=$WORK/config CASELOAD_TODAY=2026-11-23
mkdir -p "$WORK"
cat > "$WORK/cohort.csv" <<CSV
given_name,family_name,date_of_birth,district
Amy,Fulldisk,2009-10-01,Thanet
CSV
