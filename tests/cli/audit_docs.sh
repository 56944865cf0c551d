#!/bin/sh
# --help and the docs agree (issue 24):
#  1. docs/cli.md (docs/make_cli_reference.sh) lists, under "## scaleplan CMD", exactly the options of `CMD --help`:
#     an option added without its documentation, or documented after it was removed, fails here;
#  2. every option in a `scaleplan CMD ...` example of README.md or docs/*.md exists in CMD's --help;
#  3. every docs/*.md that a --help text, the CLI or the library names exists (train --help once pointed to a
#     docs/train.md that was never written).
. tests/cli/_lib.sh

cmds=$($BIN --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p')
help_opts() { $BIN "$1" --help | sed -n '/^options:/,$p' | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p' | sort; }
# the --help text of CMD as docs/cli.md holds it: the fenced block under "## scaleplan CMD"
doc_help() { awk -v h="## scaleplan $1" '$0 == h { on = 1; next } /^## / { on = 0 } on && /^```/ { f++; next } on && f == 1' docs/cli.md; }
doc_opts() { doc_help "$1" | sed -n '/^options:/,$p' | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p' | sort; }
for c in $cmds; do
    help_opts "$c" >"$TMP/h"
    doc_opts "$c" >"$TMP/d"
    if ! grep -qx "## scaleplan $c" docs/cli.md; then echo "not ok docs_cli_$c: docs/cli.md has no section '## scaleplan $c' (sh docs/make_cli_reference.sh > docs/cli.md)"; continue; fi
    missing=$(comm -23 "$TMP/h" "$TMP/d" | tr '\n' ' ')
    extra=$(comm -13 "$TMP/h" "$TMP/d" | tr '\n' ' ')
    if [ -n "$missing$extra" ]; then
        echo "not ok docs_cli_$c: undocumented: ${missing:-none}; documented but not in --help: ${extra:-none} (sh docs/make_cli_reference.sh > docs/cli.md)"
    elif ! doc_help "$c" >"$TMP/sect" || ! $BIN "$c" --help | cmp -s - "$TMP/sect"; then
        echo "not ok docs_cli_$c: docs/cli.md's text differs from --help (sh docs/make_cli_reference.sh > docs/cli.md)"
    else
        echo "ok docs_cli_$c ($(wc -l <"$TMP/h") options)"
    fi
done

# 2. options in examples
grep -ohE 'scaleplan [a-z-]+( [^`|<>]*)?' README.md docs/*.md | sort -u >"$TMP/ex"
bad=0
while read -r _ c rest; do
    echo "$cmds" | grep -qx "$c" || continue
    for o in $(printf '%s\n' "$rest" | grep -oE -- '--[a-z][a-z0-9-]*'); do
        [ "$o" = --data-dir ] || [ "$o" = --help ] && continue
        help_opts "$c" | grep -qx -- "${o#--}" || { echo "not ok docs_example: 'scaleplan $c ... $o' in the docs, but $c has no $o"; bad=1; }
    done
done <"$TMP/ex"
[ $bad = 0 ] && echo "ok docs_example ($(wc -l <"$TMP/ex") example lines)"

# 3. docs named anywhere exist
for c in $cmds; do $BIN "$c" --help; done | grep -oE 'docs/[A-Za-z0-9_.-]+\.md' >"$TMP/named"
grep -ohE 'docs/[A-Za-z0-9_.-]+\.md' cli/*.c src/*.c README.md docs/*.md >>"$TMP/named"
bad=0
for d in $(sort -u "$TMP/named"); do [ -f "$d" ] || { echo "not ok docs_named: $d is named but does not exist"; bad=1; }; done
[ $bad = 0 ] && echo "ok docs_named ($(sort -u "$TMP/named" | wc -l) docs named)"
