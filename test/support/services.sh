#!/usr/bin/env bash
# Test services: ElasticMQ (SQS) and DynamoDB Local, fetched from Maven Central with Maven
# (cached in ~/.m2 and .services/lib), started with java on free 127.0.0.1 ports.
# Usage: source test/support/services.sh && start_services; ...; stop_services

KOZMIC_SERVICES_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KOZMIC_SERVICES_PIDS=()
KOZMIC_SERVICES_FILES=()

_services_free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

_services_wait() { # name port pid log
  local i
  # Up to 5 minutes: a JVM starts slowly on a small, loaded CI machine.
  for i in $(seq 1 600); do
    if ! kill -0 "$3" 2>/dev/null; then
      echo "services: $1 exited while starting; its log ($4):" >&2
      tail -n 30 "$4" >&2
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "services: $1 did not answer on 127.0.0.1:$2 within 5 minutes; its log ($4):" >&2
  tail -n 30 "$4" >&2
  return 1
}

_services_fetch() {
  local lib="$KOZMIC_SERVICES_ROOT/.services/lib"
  local pom="$KOZMIC_SERVICES_ROOT/test/support/services/pom.xml"
  if [ -f "$lib/.complete" ] && [ "$lib/.complete" -nt "$pom" ]; then return 0; fi
  echo "services: fetching ElasticMQ and DynamoDB Local with Maven" >&2
  rm -rf "$lib"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$lib" >&2 || {
    echo "services: mvn could not fetch the test services (see above)" >&2
    return 1
  }
  touch "$lib/.complete"
}

start_services() {
  local dir="$KOZMIC_SERVICES_ROOT/.services"
  local lib="$dir/lib"
  mkdir -p "$dir/run"
  # One fetch at a time: several test runs may share this checkout.
  (flock 9 && _services_fetch) 9>"$dir/fetch.lock" || return 1

  local sqs_port dynamo_port
  sqs_port="$(_services_free_port)" || return 1
  dynamo_port="$(_services_free_port)" || return 1

  local conf="$dir/run/elasticmq-$$.conf"
  cat >"$conf" <<CONF
include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = $sqs_port, context-path = "" }
rest-sqs { enabled = true, bind-port = $sqs_port, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
CONF
  local sqs_log="$dir/run/elasticmq-$$.log" dynamo_log="$dir/run/dynamodb-$$.log"
  KOZMIC_SERVICES_FILES+=("$conf" "$sqs_log" "$dynamo_log")
  java -Xmx192m -Xss512k -XX:+UseSerialGC -Dconfig.file="$conf" \
    -cp "$lib/*" org.elasticmq.server.Main >"$sqs_log" 2>&1 &
  local sqs_pid=$!
  KOZMIC_SERVICES_PIDS+=("$sqs_pid")
  (cd "$dir/run" && exec java -Xmx256m -XX:+UseSerialGC -Djava.library.path="$lib" \
    -cp "$lib/*" com.amazonaws.services.dynamodbv2.local.main.ServerRunner \
    -inMemory -port "$dynamo_port") >"$dynamo_log" 2>&1 &
  local dynamo_pid=$!
  KOZMIC_SERVICES_PIDS+=("$dynamo_pid")

  _services_wait ElasticMQ "$sqs_port" "$sqs_pid" "$sqs_log" || { stop_services; return 1; }
  _services_wait "DynamoDB Local" "$dynamo_port" "$dynamo_pid" "$dynamo_log" || { stop_services; return 1; }

  export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$sqs_port"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$dynamo_port"
  export AWS_REGION="us-east-1"
  export AWS_ACCESS_KEY_ID="test"
  export AWS_SECRET_ACCESS_KEY="test"
  export KOZMIC_TEST_SERVICES=1
  echo "services: ElasticMQ on $AWS_ENDPOINT_URL_SQS, DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB" >&2
}

stop_services() {
  local pid
  for pid in "${KOZMIC_SERVICES_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${KOZMIC_SERVICES_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  KOZMIC_SERVICES_PIDS=()
  rm -f "${KOZMIC_SERVICES_FILES[@]}"
  KOZMIC_SERVICES_FILES=()
  unset KOZMIC_TEST_SERVICES
}
