# Helpers for CLI tests. Source it; call expect_ok / expect_fail / expect_out.
BIN=${SP_BIN:-build/scaleplan}
RUN="$BIN"
# SP_VALGRIND=1 (make valgrind): under memcheck, with tests/valgrind.supp (libgomp's pool threads, nothing of ours)
[ "${SP_VALGRIND:-0}" = 1 ] && RUN="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp $BIN"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# expect_fail NAME EXPECTED_RC PATTERN -- args...: exit code and a stderr line matching PATTERN, empty stdout.
expect_fail() {
    name=$1; want=$2; pat=$3; shift 4
    $RUN "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    if [ $rc -ne "$want" ]; then echo "not ok $name: exit $rc, want $want; stderr: $(head -c 300 "$TMP/err")"; return; fi
    if ! grep -q -- "$pat" "$TMP/err"; then echo "not ok $name: stderr lacks '$pat': $(head -c 300 "$TMP/err")"; return; fi
    if [ -s "$TMP/out" ]; then echo "not ok $name: partial output on stdout"; return; fi
    if [ "$(wc -l < "$TMP/err")" -gt 1 ]; then echo "not ok $name: error is more than one line"; return; fi
    echo "ok $name"
}
# The JSON checker (tests/json_assert.c) of the build under test.
JSON_ASSERT=${SP_BUILD:-build}/tests/json_assert
# has_json args...: whether the command line asks for --json
has_json() { for x in "$@"; do [ "$x" = --json ] && return 0; done; return 1; }
# expect_out NAME PATTERN -- args...: exit 0 and stdout matching PATTERN (grep -E); with --json, stdout must also
# be exactly one valid JSON value.
expect_out() {
    name=$1; pat=$2; shift 3
    $RUN "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    if [ $rc -ne 0 ]; then echo "not ok $name: exit $rc: $(head -c 300 "$TMP/err")"; return; fi
    if ! grep -Eq -- "$pat" "$TMP/out"; then echo "not ok $name: stdout lacks '$pat'"; return; fi
    if grep -Eqi '(^|[^a-z])(nan|-?inf)([^a-z]|$)' "$TMP/out"; then echo "not ok $name: NaN/Inf in output"; return; fi
    if has_json "$@" && ! "$JSON_ASSERT" "$TMP/out" >"$TMP/jerr"; then echo "not ok $name: $(cat "$TMP/jerr")"; return; fi
    echo "ok $name"
}
# expect_json NAME ASSERTION... -- args...: exit 0, stdout one JSON value satisfying every ASSERTION
# (tests/json_assert.c: PATH=NUMBER@REL, PATH=~STRING, PATH=true|false, PATH?, sum:OBJ-EXCL=PATH@REL, each:ARR:A).
expect_json() {
    name=$1; shift
    : > "$TMP/asserts"
    while [ $# -gt 0 ] && [ "$1" != -- ]; do printf '%s\n' "$1" >> "$TMP/asserts"; shift; done
    shift
    $RUN "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    if [ $rc -ne 0 ]; then echo "not ok $name: exit $rc: $(head -c 300 "$TMP/err")"; return; fi
    set --
    while IFS= read -r x; do set -- "$@" "$x"; done < "$TMP/asserts"
    if ! "$JSON_ASSERT" "$TMP/out" "$@" >"$TMP/jerr"; then echo "not ok $name: $(cat "$TMP/jerr")"; return; fi
    echo "ok $name"
}
