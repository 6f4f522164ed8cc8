# The two set-up commands (see README.md), and a few conveniences.
.PHONY: demo test tools up down bench

demo:            ## local control plane + controller + kubeseal, end to end
	scripts/demo

test:            ## every test: lint, unit, CLI, end-to-end on a real control plane
	scripts/test-all

tools:           ## build the pinned Kubernetes, etcd and reference binaries (cached)
	scripts/install-tools

up:
	scripts/control-plane up

down:
	scripts/control-plane down

bench:
	bench/kubeseal-seal.sh
