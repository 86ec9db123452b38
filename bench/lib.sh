# What the bench scripts share; they source it (bash).

# start_coprocess NAME PID_VAR LINE_VAR WHAT LOG COMMAND...
# Runs COMMAND as coprocess NAME (bash's NAME array: its stdout and stdin), its stderr in
# LOG; sets PID_VAR to its pid before waiting, so that the caller's cleanup can stop it,
# and LINE_VAR to the first line it prints, its sign that it is ready. COMMAND stops when
# its stdin, the coprocess pipe, closes: when the calling script ends. Exits 1, printing
# LOG, when no line comes within 30 s.
start_coprocess() {
  local name=$1 pid_var=$2 line_var=$3 what=$4 log=$5
  shift 5
  [[ $name =~ ^[A-Z_]+$ ]] || { echo "start_coprocess: bad name $name" >&2; exit 2; }
  # coproc takes its name as a word, not from a variable.
  eval "coproc $name { exec \"\$@\" 2>\"\$log\"; }"
  local pid=${name}_PID stdout=${name}[0]
  printf -v "$pid_var" %s "${!pid}"
  if ! read -r -t 30 "$line_var" <&"${!stdout}"; then
    local script=${0##*/}
    echo "${script%.sh}: $what did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
}

# start_local_op SCRATCH
# Starts the test OpenID provider (its stderr in SCRATCH/op.log) and adds it as the
# provider "Local OP" with its public client, through $gk (the grantkeeper to run).
# Sets op_pid, for the caller's cleanup, and issuer. The provider stops when its stdin,
# the coprocess pipe, closes: when the calling script ends.
start_local_op() {
  local scratch=$1 ready
  start_coprocess OP op_pid ready "the OpenID provider" "$scratch/op.log" node "$repo/tests/oidc/server.mjs"
  issuer=$(sed -n 's/.*"issuer":"\([^"]*\)".*/\1/p' <<<"$ready")
  "$gk" providers add --name "Local OP" --issuer "$issuer" --client-id grantkeeper-test >/dev/null
}

# connect_local_op SCRATCH NAME
# Connects "Local OP" under NAME through the stand-in browser; exits 1 with the
# sign-in's stderr when it fails.
connect_local_op() {
  "$gk" connect "Local OP" --name "$2" >/dev/null 2>"$1/connect.log" || {
    cat "$1/connect.log" >&2
    exit 1
  }
}
