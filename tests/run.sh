#!/bin/sh
# Runs every cmocka test binary given as arguments and every CLI test script in tests/cli/, then prints one
# closing line "tests: N passed, N failed". Environment: SP_BIN (the scaleplan binary), SP_VALGRIND=1 to run
# the test binaries under valgrind (memcheck, errors fatal; system libraries' known allocations in tests/valgrind.supp).
pass=0; fail=0; failed=""
VG=""
[ "${SP_VALGRIND:-0}" = 1 ] && VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp"
for t in "$@"; do
    out=$($VG "$t" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    p=${p:-0}; f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f))
    if [ $rc -ne 0 ]; then printf '%s\n' "$out"; failed="$failed $(basename "$t")"; fi
    printf '%-28s %3s passed %3s failed\n' "$(basename "$t")" "$p" "$f"
done
# CLI tests: each script prints "ok NAME" or "not ok NAME: why" per case.
export SP_BIN="${SP_BIN:-build/scaleplan}"
export SP_VALGRIND="${SP_VALGRIND:-0}"
for s in tests/cli/*.sh; do
    [ -f "$s" ] || continue
    case "$s" in */_*) continue;; esac
    out=$(sh "$s" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | grep -c '^ok ')
    f=$(printf '%s\n' "$out" | grep -c '^not ok ')
    if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f))
    [ "$f" != 0 ] && { printf '%s\n' "$out" | grep -v '^ok '; failed="$failed $(basename "$s")"; }
    printf '%-28s %3s passed %3s failed\n' "$(basename "$s")" "$p" "$f"
done
[ -n "$failed" ] && echo "failing:$failed"
echo "tests: $pass passed, $fail failed"
[ "$fail" = 0 ]
