#!/bin/sh
# Docker HEALTHCHECK of a Skiff demo node: healthy only while the node's demo_main reports it
# has joined (harbor ready, harbor link to the matchmaker's node up, every role known to the
# matchmaker).  demo_main rewrites the file every second ("joined|joining <node> <unix time>
# [why]"); a stale file means a stuck node.
f=${SKIFF_HEALTH_FILE:-/tmp/skiff-health}
if [ ! -r "$f" ]; then
	echo "no health file $f yet: the node is starting"
	exit 1
fi
read -r state node stamp why <"$f" || { echo "health file $f is empty"; exit 1; }
age=$(( $(date +%s) - ${stamp:-0} ))
if [ "$state" != joined ]; then
	echo "node $node: $state${why:+ ($why)}"
	exit 1
fi
if [ "$age" -gt 5 ]; then
	echo "node $node: health file is $age s old (node stuck or stopped)"
	exit 1
fi
echo "node $node joined"
