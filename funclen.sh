#!/bin/sh
# usage: funclen.sh LIMIT files...   prints functions longer than LIMIT lines (brace at column 0)
lim=$1; shift
awk -v lim="$lim" '
FNR==1{inf=0}
/^[a-zA-Z_].*\(/ && !/;[ \t]*$/ {name=$0; nl=FNR}
/^\{/ {start=FNR; inf=1}
/^\}/ && inf { len=FNR-start+1; if (len>lim) { sub(/\(.*/,"",name); n=split(name,a," "); printf "%s:%d %s %d\n", FILENAME, nl, a[n], len }; inf=0 }
' "$@"
