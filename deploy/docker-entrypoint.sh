#!/bin/sh
# Runs reccluster in a container. A node must advertise an address its peers can reach; the default, 127.0.0.1, never is
# inside a container, so without RECCLUSTER_HOST the container's own IP address is used.
set -eu
if [ -z "${RECCLUSTER_HOST:-}" ]; then
  RECCLUSTER_HOST=$(hostname -i | cut -d ' ' -f 1)
  export RECCLUSTER_HOST
fi
exec /app/reccluster "$@"
