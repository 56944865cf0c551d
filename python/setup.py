"""Builds the scaleplan Python package: the C library's sources compiled into one extension module.

The extension is compiled from the repository's own src/*.c (no copy, no second implementation), with the
same C17 flags as the Makefile, and linked against Debian's jansson, nlopt and OpenMP. The presets (data/) are
copied into the package so an installed scaleplan finds them without the repository.

Offline install (no package index): `python3 -m pip install --no-build-isolation ./python`, or `make python`.
"""
import glob
import os
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def pkg_config(flag):
    try:
        out = subprocess.run(["pkg-config", flag, "jansson", "nlopt"], check=True, capture_output=True, text=True)
        return out.stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return ["-ljansson", "-lnlopt"] if flag == "--libs" else []


class build_py_with_data(build_py):
    """Copies the repository's data/ (model, system, accelerator, ... presets) into the built package."""

    def run(self):
        super().run()
        dst = os.path.join(self.build_lib, "scaleplan", "data")
        if os.path.isdir(dst):
            shutil.rmtree(dst)
        shutil.copytree(os.path.join(ROOT, "data"), dst)


sources = [os.path.relpath(p, HERE) for p in sorted(glob.glob(os.path.join(ROOT, "src", "*.c")))]
ext = Extension(
    "scaleplan._scaleplan",
    sources=["_scaleplan.c"] + sources,
    include_dirs=[os.path.join(ROOT, "include"), os.path.join(ROOT, "src")],
    extra_compile_args=["-std=c17", "-D_POSIX_C_SOURCE=200809L", "-O2", "-fopenmp"] + pkg_config("--cflags"),
    extra_link_args=["-fopenmp"] + pkg_config("--libs") + ["-lm"],
)

setup(
    name="scaleplan",
    version="0.1.0",
    description="Plan frontier-scale AI training and serving from first principles (bindings to libscaleplan)",
    packages=["scaleplan"],
    ext_modules=[ext],
    cmdclass={"build_py": build_py_with_data},
    python_requires=">=3.9",
    zip_safe=False,  # the presets (data/) are read as files: the package must be a folder, not a zipped egg
)
