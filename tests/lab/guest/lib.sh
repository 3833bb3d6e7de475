#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by the lab's guest scripts (lab.sh: one guest playing every VM;
# vm.sh: one guest per VM): their command port and its loop.
#
# serve COMMAND...: answers the host's commands on the virtio-serial port
# org.daqs.lab, one a line, each answered by lines ending with "end CMD":
# "setup ARGS" runs setup ARGS (its output in /tmp/setup.log, a failure
# answered "error setup ..."), "quit" answers and runs finish, and each
# COMMAND given runs the function of that name with the line's arguments.
PORT=/dev/virtio-ports/org.daqs.lab
# A VM's STREAMS are that many iperf3 clients of one stream each, each to a
# server of its own at port 5200 + 10 * VM + J, J < MAXP (lab.py's MAXP):
# iperf3 3.12 runs a client's -P streams in one thread, so on a busy TCG
# guest the 5 streams of one process got the CPU time of the 1-stream VM's
# process and the link by process, not by flow (docs/lab.md)
MAXP=8

# as init.sh's own result(): the state file is what it judges the script by
result() {
	echo "$*" >>"$DAQS_STATE/results"
	echo "$*" >"$DAQS_RESULTS"
}
reply() { echo "$*" >&3; }

# clients K VM START DUR STREAMS HOST [WRAPPER...]: STREAMS iperf3 clients
# of one stream each from vmVM to HOST for DUR s from START s, each run
# through WRAPPER (e.g. "nsx vm1"), logs /tmp/run-K-J-vmVM.log; their pids
# are added to $cpids
clients() {
	_k=$1 _vm=$2 _st=$3 _d=$4 _p=$5 _host=$6
	shift 6
	[ "$_p" -le $MAXP ] || { reply "error $_p streams from vm$_vm, at most $MAXP"; _p=$MAXP; }
	_j=0
	while [ $_j -lt "$_p" ]; do
		(sleep "$_st"; "$@" iperf3 -c "$_host" -p $((5200 + 10 * _vm + _j)) -t "$_d" \
			>/tmp/run-$_k-$_j-vm$_vm.log 2>&1) &
		cpids="$cpids $!"
		_j=$((_j + 1))
	done
}

serve() {
	_cmds=" $* "
	_i=0
	while [ ! -e $PORT ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	exec 3<>$PORT || { result "not ok lab_port # no $PORT"; exit 1; }
	result "# lab: waiting for the host on $PORT"
	while :; do
		if ! read -r cmd args <&3; then
			# nobody on the host end yet (EOF): look again
			sleep 0.2
			continue
		fi
		case $cmd in
		'') continue ;;
		setup)
			# shellcheck disable=SC2086
			if setup $args >/tmp/setup.log 2>&1; then
				result "ok lab_setup # $args"
			else
				result "not ok lab_setup # $(tail -n 3 /tmp/setup.log | tr '\n' ' ')"
				reply "error setup $(tail -n 3 /tmp/setup.log | tr '\n' ' ')"
			fi
			;;
		quit)
			reply "end quit"
			result "ok lab_guest # the host's commands ran"
			finish
			;;
		*)
			case $_cmds in
			*" $cmd "*)
				# shellcheck disable=SC2086
				"$cmd" $args
				;;
			*) reply "error unknown command '$cmd'" ;;
			esac
			;;
		esac
		reply "end $cmd"
	done
}
