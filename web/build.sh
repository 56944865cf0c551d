#!/bin/sh
# Builds the web app (docs/web.md): libscaleplan compiled to WebAssembly with Debian's emscripten, the same
# sources as the native build, plus web/binding.c; jansson and nlopt compiled from their Debian source packages
# (apt-get source); the static app from web/app. Output: web/dist (serve it with `python3 -m http.server`).
set -e
# Debian packages emscripten's JavaScript tools' modules (acorn, ...) under /usr/share/nodejs; a node that
# Debian did not build does not search there by itself
export NODE_PATH="${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs"
cd "$(dirname "$0")/.."
W=build-web
mkdir -p $W/src $W/prefix web/dist
# Exit 3: a tool or source package this optional build needs is not available (make check then says the web
# tests are skipped); exit 2: a real build failure.
command -v emcc >/dev/null || { echo "make web: emcc not found (make deps installs emscripten)" >&2; exit 3; }
for pkg in jansson nlopt; do
  if [ ! -f $W/prefix/lib/lib$pkg.a ]; then
    if ! ls -d $W/src/$pkg-*/ >/dev/null 2>&1; then
      (cd $W/src && apt-get source -qq $pkg >/dev/null 2>&1) ||
        { echo "make web: 'apt-get source $pkg' failed (make deps adds Debian's deb-src entry)" >&2; exit 3; }
    fi
    srcdir=$(ls -d $W/src/$pkg-*/ | head -1)
    rm -rf $W/b-$pkg && mkdir -p $W/b-$pkg
    (cd $W/b-$pkg && emcmake cmake "../../$srcdir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PWD/../prefix" \
        -DBUILD_SHARED_LIBS=OFF -DJANSSON_BUILD_DOCS=OFF -DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON \
        -DNLOPT_PYTHON=OFF -DNLOPT_OCTAVE=OFF -DNLOPT_MATLAB=OFF -DNLOPT_GUILE=OFF -DNLOPT_SWIG=OFF -DNLOPT_CXX=OFF \
        -DNLOPT_TESTS=OFF >cmake.log 2>&1 && emmake make -j2 install >make.log 2>&1) ||
      { echo "make web: building $pkg with emscripten failed (see $W/b-$pkg/*.log)" >&2; exit 2; }
  fi
done
# The library: every src/*.c, no OpenMP (the search runs on one thread in the browser), presets packed at /data.
# MPI is not built (sweep_mpi.c compiles to its one-process fallback without SP_HAVE_MPI).
emcc -std=c17 -D_POSIX_C_SOURCE=200809L -O2 -Iinclude -Isrc -I$W/prefix/include -DSP_DATA_DIR='"/data"' \
  src/*.c web/binding.c web/omp_serial.c $W/prefix/lib/libjansson.a $W/prefix/lib/libnlopt.a -lm \
  -sMODULARIZE=1 -sEXPORT_NAME=createScaleplan -sALLOW_MEMORY_GROWTH=1 \
  -sEXPORTED_FUNCTIONS=_spw_call,_spw_free,_malloc,_free -sEXPORTED_RUNTIME_METHODS=ccall,cwrap,UTF8ToString,FS \
  --embed-file data@/data --exclude-file '*/validation/*' \
  -o web/dist/scaleplan.js
cp web/app/* web/dist/
echo "web app built: web/dist (serve: cd web/dist && python3 -m http.server 8000)"
