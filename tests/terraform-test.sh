#!/usr/bin/env bash
# terraform test: the module's real plan with mock providers (tests/*.tftest.hcl), then each
# submodule's (modules/*/tests/) and each example's (examples/*/tests/), which plans the example
# as on a first apply.
#
#   tests/terraform-test.sh            terraform init (downloading the providers if need be), then
#                                      terraform test: make test-terraform
#   tests/terraform-test.sh --offline  the same with the providers already at hand only (an
#                                      earlier init here, a plugin cache, a filesystem mirror);
#                                      without them one line says so and it exits 0: make test
#
# Terraform's working files go to build/terraform-test, so an init of your own here is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

HOW="make test-terraform runs it, downloading the hashicorp/aws, archive, external and random providers (several hundred MB)"
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
if $offline; then
  # Terraform may install providers only from these folders: never from the network.
  mirrors=()
  for dir in .terraform/providers "${TF_PLUGIN_CACHE_DIR:-}" \
    "$(sed -n 's/^[[:space:]]*plugin_cache_dir[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' ~/.terraformrc 2>/dev/null)" \
    ~/.terraform.d/plugin-cache ~/.terraform.d/plugins ~/.local/share/terraform/plugins \
    /usr/local/share/terraform/plugins /usr/share/terraform/plugins; do
    [[ -n $dir && -d $dir ]] && mirrors+=("$(cd "$dir" && pwd)")
  done
  ((${#mirrors[@]})) || skip "no providers at hand (no earlier init, plugin cache or mirror)"
  # They are mirrors now, not a cache to install into (and the CLI configuration replaces yours).
  unset TF_PLUGIN_CACHE_DIR
  export TF_CLI_CONFIG_FILE=$build/offline.tfrc
  {
    echo "provider_installation {"
    for dir in "${mirrors[@]}"; do printf '  filesystem_mirror {\n    path = "%s"\n  }\n' "$dir"; done
    echo "}"
  } >"$TF_CLI_CONFIG_FILE"
else
  export TF_PLUGIN_CACHE_DIR=$build/plugin-cache # each folder's init downloads them only once
  mkdir -p "$TF_PLUGIN_CACHE_DIR"
fi
[[ -t 1 ]] && color=() || color=(-no-color)

status=0
for dir in . modules/*/ examples/*/; do
  [[ $dir == . ]] || compgen -G "$dir/tests/*.tftest.hcl" >/dev/null || continue
  name=${dir%/}
  [[ $name == . ]] && name=module
  export TF_DATA_DIR=$build/${name//\//-}
  log=$TF_DATA_DIR.init.log
  echo "terraform test: $name"
  if ! terraform -chdir="$dir" init -backend=false -input=false -no-color >"$log" 2>&1; then
    reason=$(grep -m1 -o 'could not connect to [^:]*' "$log" ||
      grep -m1 -o 'Could not retrieve[^.]*\|no available releases[^.]*\|Failed to [^.]*' "$log" || echo "see $log")
    $offline && skip "the providers are not all at hand ($reason)"
    echo "terraform test: terraform init could not install the providers ($reason; all of it in $log)." >&2
    exit 1
  fi
  terraform -chdir="$dir" test "${color[@]}" || status=1
done
exit $status
