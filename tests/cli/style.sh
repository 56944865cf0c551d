#!/bin/sh
# Style rules the code review holds the tree to (README "How the code should read"): no function over ~80 lines
# in src/, over ~120 in cli/. Lines counted from the opening brace to the closing one (tests/style/funclen.awk).
long_src=$(awk -v lim=80 -f tests/style/funclen.awk src/*.c)
if [ -z "$long_src" ]; then echo "ok function_length_src"; else echo "not ok function_length_src: $(echo $long_src)"; fi
long_cli=$(awk -v lim=120 -f tests/style/funclen.awk cli/*.c)
if [ -z "$long_cli" ]; then echo "ok function_length_cli"; else echo "not ok function_length_cli: $(echo $long_cli)"; fi
