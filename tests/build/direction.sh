#!/bin/bash
# direction.sh BUILD_DIR SOURCE_DIR: proves that the build enforces the rooms' dependency direction
# (docs/architecture.md, "Rooms"). For every pair of rooms it preprocesses a one-line file that
# includes a header of the other room, with the exact flags the build gives the first room's
# sources (compile_commands.json): an allowed include must resolve, a forbidden one must fail with
# "No such file". Then the third-party rule: CAF only in actors/ and cli/, Beast/Asio only in net/
# (and the client's cli/client/http.cpp), CLI11 only in cli/app.cpp.
set -u
build=$1
src=$2
db=$build/compile_commands.json
[ -f "$db" ] || { echo "no $db (configure with CMAKE_EXPORT_COMPILE_COMMANDS)"; exit 1; }

rooms="util os config logging db jobs store net api actors cli"
# What each room may include (itself included): its own links and what they expose (PUBLIC).
declare -A allowed=(
  [util]="util"
  [os]="os util"
  [config]="config util"
  [logging]="logging config util"
  [db]="db util"
  [jobs]="jobs db logging config util"
  [store]="store jobs db util"
  [net]="net config logging util"
  [api]="api net config jobs db util"
  [actors]="actors api net store jobs db config logging os util"
  [cli]="cli actors api net store jobs db config logging os util"
)
# One small header per room, to include.
declare -A header=(
  [util]=util/text.hpp [os]=os/signals.hpp [config]=config/settings.hpp [logging]=logging/log.hpp
  [db]=db/connection.hpp [jobs]=jobs/job.hpp [store]=store/queue_store.hpp
  [net]=net/http_types.hpp [api]=api/jobs_api.hpp [actors]=actors/supervisor.hpp
  [cli]=cli/exit_codes.hpp
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
checked=0
for room in $rooms; do
  # The compile command of one of this room's sources, made to preprocess a probe instead.
  cmd=$(python3 - "$db" "$room" <<'PY'
import json, shlex, sys
entries = json.load(open(sys.argv[1]))
room = sys.argv[2]
for e in entries:
    if "/vpo_%s.dir/" % room in e["command"]:
        args = shlex.split(e["command"])
        out, skip = [], False
        for a in args:
            if skip: skip = False; continue
            if a in ("-o", "-c", "-MT", "-MF"): skip = True; continue
            if a in ("-MD",) or a.endswith("ccache"): continue
            out.append(a)
        print(shlex.join(out)); break
PY
)
  if [ -z "$cmd" ]; then
    echo "FAIL: no compile command for room $room (is vpo_$room a target?)"
    failures=$((failures + 1))
    continue
  fi
  for other in $rooms; do
    probe=$tmp/$room-$other.cpp
    echo "#include \"${header[$other]}\"" > "$probe"
    checked=$((checked + 1))
    if eval "$cmd -E -o /dev/null $probe" 2> "$tmp/err"; then
      if [[ " ${allowed[$room]} " != *" $other "* ]]; then
        echo "FAIL: $room/ can include ${header[$other]} (against the direction)"
        failures=$((failures + 1))
      fi
    else
      if [[ " ${allowed[$room]} " == *" $other "* ]]; then
        echo "FAIL: $room/ cannot include ${header[$other]}, which it may:"
        head -3 "$tmp/err"
        failures=$((failures + 1))
      elif ! grep -q "No such file" "$tmp/err"; then
        echo "FAIL: $room/ including ${header[$other]} failed, but not for want of the file:"
        head -3 "$tmp/err"
        failures=$((failures + 1))
      fi
    fi
  done
done

# Third-party headers live in /usr/include, which every room sees: checked by reading the sources.
third_party() {  # pattern, allowed path regex, what
  local hits
  hits=$(cd "$src" && git ls-files '*.cpp' '*.hpp' | grep -Ev '^(tests|fuzz|bench)/' |
         grep -Ev "$2" | xargs grep -ln "$1" 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "FAIL: $3 included outside its rooms:" $hits
    failures=$((failures + 1))
  fi
}
third_party '#include <caf/' '^(actors|cli)/' "CAF"
third_party '#include <boost/' '^(net/|cli/client/http\.cpp$)' "Boost (Beast, Asio)"
third_party '#include <CLI/' '^cli/app\.cpp$' "CLI11"

echo "$checked room pairs checked, $failures failure(s)"
[ "$failures" -eq 0 ]
