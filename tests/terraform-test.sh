#!/usr/bin/env bash
# terraform test: the module's real plan with mock providers (tests/*.tftest.hcl), then each
# submodule's (modules/*/tests/) and each example's (examples/*/tests/), which plans the example
# as on a first apply.
#
#   tests/terraform-test.sh            terraform init, then terraform test: make test-terraform;
#                                      without the providers it fails, saying why
#   tests/terraform-test.sh --offline  the same, but without the providers one line says so and
#                                      it exits 0
#
# Terraform's working files go to build/terraform-test, so an init of your own here is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

HOW="make test-terraform runs it where the hashicorp/aws provider is at hand (the registry, or a filesystem mirror: TF_PROVIDER_MIRROR names one)"
offline=false
[[ ${1:-} == --offline ]] && offline=true

skip() {
  if $offline; then
    echo "terraform test: skipped, $1; $HOW."
    exit 0
  fi
  echo "terraform test: $1." >&2
  exit 2
}

command -v terraform >/dev/null || skip "no terraform CLI on PATH"
version=$(terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([0-9.]*\)".*/\1/p')
# override_during (mocked values at plan) came with Terraform 1.11.
printf '%s\n' 1.11.0 "$version" | sort -V -C || skip "Terraform ${version:-of unknown version} is older than 1.11"

build=$PWD/build/terraform-test
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
mkdir -p "$build"
# The providers as the emulator takes them (emulator/apply.py): the registry where it answers,
# else a filesystem mirror on this machine for hashicorp/aws, and the emulator's stand-ins for
# archive, random and external where no mirror holds them (mock_provider blocks take only their
# schemas). The CLI configuration is this run's own: yours is untouched.
unset TF_PLUGIN_CACHE_DIR
export TF_CLI_CONFIG_FILE=$build/terraform.rc
python=${PYTHON:-.venv/bin/python}
[[ -x $python ]] || python=python3
why=$("$python" -m emulator.apply cli-config "$TF_CLI_CONFIG_FILE" 2>&1) || skip "${why:-no providers at hand}"
[[ -t 1 ]] && color=() || color=(-no-color)

status=0
for dir in . modules/*/ examples/*/; do
  [[ $dir == . ]] || compgen -G "$dir/tests/*.tftest.hcl" >/dev/null || continue
  name=${dir%/}
  [[ $name == . ]] && name=module
  # In a copy: the lock file this init writes names the stand-ins, and must never be yours.
  copy=$("$python" -m emulator.apply copy "$dir" "$build/${name//\//-}")
  log=$build/${name//\//-}.init.log
  echo "terraform test: $name"
  if ! terraform -chdir="$copy" init -backend=false -input=false -no-color >"$log" 2>&1; then
    reason=$(grep -m1 -o 'could not connect to [^:]*' "$log" ||
      grep -m1 -o 'Could not retrieve[^.]*\|no available releases[^.]*\|Failed to [^.]*' "$log" || echo "see $log")
    $offline && skip "the providers are not all at hand ($reason)"
    echo "terraform test: terraform init could not install the providers ($reason; all of it in $log)." >&2
    exit 1
  fi
  terraform -chdir="$copy" test "${color[@]}" || status=1
done
exit $status
