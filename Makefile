# Thin wrapper over Meson: the two commands of the README.
#   make demo   boot a Debian system from a virtio disk under genvm, save it, start two clones
#   make check  install dependencies, build, run every test (plain and ASan+UBSan)

.PHONY: all demo check deps clean

all:
	bash scripts/build.sh build

demo:
	bash scripts/demo.sh

check:
	bash scripts/check.sh

deps:
	bash scripts/deps.sh

clean:
	rm -rf build build-asan
