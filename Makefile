# Thin wrapper over Meson: the two commands of the README.
#   make demo   boot a Debian system from a virtio disk under genvm, save it, start two clones
#   make check  install dependencies, build, run every test (plain and ASan+UBSan)
#   make fuzz   run each libFuzzer target for FUZZ_SECONDS (60) (docs/fuzzing.md)
#   make deb    build the Debian packages into build-deb/ (scripts/deb.sh)

.PHONY: all demo check deps clean fuzz deb

all:
	bash scripts/build.sh build

demo:
	bash scripts/demo.sh

check:
	bash scripts/check.sh

deps:
	bash scripts/deps.sh

fuzz:
	bash scripts/fuzz.sh

deb:
	bash scripts/deb.sh build-deb

clean:
	rm -rf build build-asan build-fuzz build-deb
