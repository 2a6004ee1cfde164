#!/usr/bin/env bash
# Starts (or reuses) the local RabbitMQ the real-broker tests use, and prints the shell lines
# that point the tests at it:
#
#   eval "$(scripts/test-broker.sh)"    # what `make test` does
#   scripts/test-broker.sh stop         # stop it
#
# Tests that restart a broker must not restart that one (other packages' tests use it at the
# same time): they start a node of their own, named by ESM_TEST_BROKER_NAME, with its files under
# .build/rabbitmq-<name>/, on the ports ESM_TEST_BROKER_TLS_PORT, ESM_TEST_BROKER_AMQP_PORT and
# ESM_TEST_BROKER_DIST_PORT (Erlang distribution), and end it with `delete`:
#
#   ESM_TEST_BROKER_NAME=… ESM_TEST_BROKER_TLS_PORT=… … scripts/test-broker.sh [restart|delete]
#
# Such a node has no management plugin unless ESM_TEST_BROKER_MGMT_PORT names its port (a
# second node on the default one would fail to boot, and the plugin slows the boot).
#
# The node is Debian's rabbitmq-server run as the current user, with every file under
# .build/rabbitmq/ (git-ignored): TLS on 127.0.0.1:5671 with a throwaway CA made here by openssl
# (as on Amazon MQ, which speaks AMQP only over TLS), plain AMQP on 127.0.0.1:5672, the
# management HTTP API over HTTPS on 127.0.0.1:15671 with the same certificate (Amazon MQ serves
# it on port 443 of the broker's endpoint, HTTPS only), and a non-guest administrator with a
# generated password. Without rabbitmq-server the tests that need a
# broker skip loudly; in CI (CI=true) that is an error.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin=/usr/lib/rabbitmq/bin
name="${ESM_TEST_BROKER_NAME:-esm-test}"
if [[ ! "$name" =~ ^[A-Za-z0-9_-]+$ ]]; then
  echo "error: ESM_TEST_BROKER_NAME=$name: want letters, digits, - and _" >&2
  exit 1
fi
base="$root/.build/rabbitmq"
[ "$name" = esm-test ] || base="$root/.build/rabbitmq-$name"
node="$name@localhost"
user="esm-test"
tls_port="${ESM_TEST_BROKER_TLS_PORT:-5671}"
amqp_port="${ESM_TEST_BROKER_AMQP_PORT:-5672}"
mgmt_port="${ESM_TEST_BROKER_MGMT_PORT:-}"
[ -n "$mgmt_port" ] || [ "$name" != esm-test ] || mgmt_port=15671

# Everything the node and rabbitmqctl share: the node's files, and the Erlang cookie in HOME.
export HOME="$base/home"
export RABBITMQ_NODENAME="$node"
export RABBITMQ_MNESIA_BASE="$base/mnesia"
export RABBITMQ_LOG_BASE="$base/log"
export RABBITMQ_CONFIG_FILE="$base/rabbitmq.conf"
export RABBITMQ_ENABLED_PLUGINS_FILE="$base/enabled_plugins"
export RABBITMQ_PID_FILE="$base/rabbitmq.pid"
export RABBITMQ_ADVANCED_CONFIG_FILE="$base/advanced.config"
# Set, not derived: RabbitMQ would derive it from its default AMQP port, which every node shares.
export RABBITMQ_DIST_PORT="${ESM_TEST_BROKER_DIST_PORT:-$((amqp_port + 20000))}"
# A failing rabbitmqctl (Erlang) writes a crash dump into the working directory otherwise.
export ERL_CRASH_DUMP="$base/erl_crash.dump"

ctl() { "$bin/rabbitmqctl" -n "$node" "$@"; }

if [ "${1:-}" = "stop" ]; then
  # Without its cookie directory the node was never started from this checkout.
  if [ -d "$HOME" ] && ctl stop >/dev/null 2>&1; then
    echo "stopped $node" >&2
  else
    echo "$node was not running" >&2
  fi
  exit 0
fi

if [ "${1:-}" = "restart" ]; then
  # Only the broker application restarts, not the Erlang node: every client connection is
  # closed (CONNECTION_FORCED) and the listeners are down until it is back, as in a broker
  # restart, in seconds rather than a node's boot time. One call does what stop_app and
  # start_app do: each rabbitmqctl call boots an Erlang VM, seconds on a busy machine.
  ctl eval 'ok = rabbit:stop(), ok = rabbit:start().' >/dev/null
  echo "restarted $node" >&2
  exit 0
fi

if [ "${1:-}" = "delete" ]; then
  if [ -d "$HOME" ]; then ctl stop >/dev/null 2>&1 || true; fi
  rm -rf "$base"
  echo "deleted $node and $base" >&2
  exit 0
fi

if [ ! -x "$bin/rabbitmq-server" ] || ! command -v openssl >/dev/null 2>&1; then
  msg="rabbitmq-server or openssl is not installed (apt-get install rabbitmq-server openssl): the real-broker tests cannot run"
  if [ "${CI:-}" = "true" ]; then
    echo "error: $msg" >&2
    exit 1
  fi
  printf '\n!!!!! WARNING: %s; they will SKIP.\n\n' "$msg" >&2
  exit 0
fi

mkdir -p "$HOME" "$base/tls" "$base/log"
chmod 700 "$HOME"

make_certificates() {
  local d="$base/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=rabbitmq-esm test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
    -extfile "$d/server.ext" -out "$d/server.pem" >/dev/null 2>&1
  chmod 600 "$d"/*.key
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

new_database=""
if ! ctl status >/dev/null 2>&1; then
  for port in "$tls_port" "$amqp_port" "$RABBITMQ_DIST_PORT" $mgmt_port; do
    if port_in_use "$port"; then
      echo "error: 127.0.0.1:$port is taken by another process (a test broker of another checkout?" \
        "Stop it with its scripts/test-broker.sh stop, or find it with: ss -ltnp 'sport = :$port')." >&2
      exit 1
    fi
  done
  [ -s "$base/tls/server.pem" ] || make_certificates
  [ -s "$base/password" ] || (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$base/password")
  password="$(cat "$base/password")"
  # A new database gets the user from the configuration, which saves rabbitmqctl calls.
  [ -d "$RABBITMQ_MNESIA_BASE/$node" ] || new_database=yes
  (umask 077 && cat > "$RABBITMQ_CONFIG_FILE") <<CONF
listeners.tcp.default = 127.0.0.1:$amqp_port
listeners.ssl.default = 127.0.0.1:$tls_port
ssl_options.cacertfile = $base/tls/ca.pem
ssl_options.certfile = $base/tls/server.pem
ssl_options.keyfile = $base/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
log.file.level = warning
default_user = $user
default_pass = $password
CONF
  if [ -n "$mgmt_port" ]; then
    # HTTPS only, as on Amazon MQ: with only an ssl listener configured, the plugin opens no
    # plain HTTP one. The administrator tag lets the tests' user create users (the provisioner's
    # role there).
    (umask 077 && cat >> "$RABBITMQ_CONFIG_FILE") <<CONF
management.ssl.ip = 127.0.0.1
management.ssl.port = $mgmt_port
management.ssl.cacertfile = $base/tls/ca.pem
management.ssl.certfile = $base/tls/server.pem
management.ssl.keyfile = $base/tls/server.key
default_user_tags.administrator = true
CONF
    echo "[rabbitmq_management]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
  else
    echo "[]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
  fi
  echo "[]." > "$RABBITMQ_ADVANCED_CONFIG_FILE"
  "$bin/rabbitmq-server" -detached >"$base/log/startup.log" 2>&1
  # rabbitmqctl cannot reach the node until its Erlang distribution is up, and each call boots
  # an Erlang VM: wait for the AMQP listener, which opens late in the boot, then ask the node
  # whether it has finished. A busy machine (make test runs every package at once) can take
  # minutes.
  deadline=$((SECONDS + 300))
  until port_in_use "$amqp_port" && ctl await_startup --timeout 30 >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "error: RabbitMQ did not start within 5 minutes; see $base/log/" >&2
      tail -n 30 "$base/log/startup.log" "$base"/log/*.log >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.5
  done
fi

password="$(cat "$base/password")"
if [ -z "$new_database" ]; then
  if ! ctl list_users --silent 2>/dev/null | grep -q "^${user}[[:space:]]"; then
    ctl add_user "$user" "$password" >/dev/null
  fi
  ctl set_permissions -p / "$user" ".*" ".*" ".*" >/dev/null
  [ -z "$mgmt_port" ] || ctl set_user_tags "$user" administrator >/dev/null
fi

echo "export ESM_TEST_AMQP_URL='amqp://$user:$password@127.0.0.1:$amqp_port/'"
echo "export ESM_TEST_AMQPS_URL='amqps://$user:$password@localhost:$tls_port/'"
echo "export ESM_TEST_CA_FILE='$base/tls/ca.pem'"
if [ -n "$mgmt_port" ]; then
  if port_in_use "$mgmt_port"; then
    echo "export ESM_TEST_MGMT_URL='https://localhost:$mgmt_port/'"
  else
    # A node started before the script enabled the plugin keeps its old configuration.
    printf '\n!!!!! WARNING: %s has no management API on 127.0.0.1:%s (started by an older scripts/test-broker.sh?);' \
      "$node" "$mgmt_port" >&2
    printf ' the tests that need it will SKIP. Restart it: scripts/test-broker.sh stop, then run this again.\n\n' >&2
  fi
fi
