# Prints "FILE:LINE NAME LENGTH" for every function longer than `lim` lines. A function starts at a line that
# names it (identifier and '(' at column 0, not a declaration) and runs from its '{' at column 0 to the '}' at
# column 0, the layout the whole tree uses (K&R braces for functions).
FNR == 1 { infn = 0 }
/^[a-zA-Z_].*\(/ && !/;[ \t]*$/ { name = $0; nl = FNR }
/^\{/ { start = FNR; infn = 1 }
/^\}/ && infn {
    len = FNR - start + 1
    if (len > lim) { sub(/\(.*/, "", name); n = split(name, a, /[ *]+/); printf "%s:%d %s %d\n", FILENAME, nl, a[n], len }
    infn = 0
}
