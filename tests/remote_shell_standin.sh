#!/bin/sh
# A stand-in for ssh in tests: `remote_shell_standin.sh [-l USER] [-p PORT]
# HOST COMMAND...` ignores the host and runs COMMAND through sh on this
# machine, as ssh runs it through the remote user's shell. So two real ferry
# processes talk over pipes.
#
# Fault injection for the interrupted-connection tests:
#   FERRY_STANDIN_CUT_IN=N   the remote reads only the first N bytes of its input
#   FERRY_STANDIN_CUT_OUT=N  only the first N bytes of the remote's output arrive
while [ $# -gt 0 ]; do
  case "$1" in
    -l|-p|-o|-i) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
shift  # the host
if [ -n "$FERRY_STANDIN_CUT_IN" ]; then
  dd iflag=count_bytes count="$FERRY_STANDIN_CUT_IN" bs=65536 status=none | sh -c "$*"
elif [ -n "$FERRY_STANDIN_CUT_OUT" ]; then
  sh -c "$*" | dd iflag=count_bytes count="$FERRY_STANDIN_CUT_OUT" bs=65536 status=none
else
  exec sh -c "$*"
fi
