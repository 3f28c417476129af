#!/usr/bin/env bash
# Lint Lianxin's deployment files. Offline: every schema ships inside the tools.
#
#   deploy/lint.sh [DEPLOY_DIR]        (default: the directory this script lives in)
#
# Steps (all run; the exit status is 1 if any failed, 3 if a tool is missing):
#   1. hadolint            DEPLOY_DIR/Dockerfile (config .hadolint.yaml)
#   2. check-jsonschema    DEPLOY_DIR/compose.yaml against the bundled compose-spec schema, and
#                          compose.image-test.yaml (make image-test's override) with its tags resolved
#   3. yamllint --strict   every YAML file (config .yamllint)
#   4. JSON syntax         every *.json (RabbitMQ definitions)
#   5. bash -n             every *.sh
#   6. kubernetes-validate --strict, against each of LINT_K8S_VERSIONS, on
#        a. every complete manifest under k8s/ (everything but kustomization.yaml and
#           the partial objects in */patches/), file by file, so errors name the file;
#        b. every kustomization rendered with `kustomize build` or `kubectl kustomize`
#           (base and overlays), so the patched result is checked too.
#   7. project rules       lint_policy.py on compose.yaml, the raw base and each rendered overlay
#
# Tools come from the repo's .venv/bin (then $VIRTUAL_ENV/bin, then PATH):
#   .venv/bin/pip install -r deploy/requirements-lint.txt
# plus kubectl or kustomize for step 6b (LINT_SKIP_RENDER=1 skips 6b and the overlay part of 7).
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$script_dir/.." && pwd)

deploy_dir=${1:-$script_dir}
if [[ ! -d $deploy_dir ]]; then
    echo "lint: not a directory: $deploy_dir" >&2
    exit 2
fi
deploy_dir=$(cd -- "$deploy_dir" && pwd)

PATH="$repo_root/.venv/bin:${VIRTUAL_ENV:+$VIRTUAL_ENV/bin:}$PATH"
export PATH

k8s_versions=${LINT_K8S_VERSIONS:-"1.29.0 1.37.0"}

# --- tools -------------------------------------------------------------------------------
missing=()
for tool in hadolint check-jsonschema kubernetes-validate yamllint; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
python=""
for candidate in "$repo_root/.venv/bin/python" python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import yaml" 2>/dev/null; then
        python=$candidate
        break
    fi
done
[[ -n $python ]] || missing+=("python3 with PyYAML")
renderer=()
if [[ ${LINT_SKIP_RENDER:-0} != 1 ]]; then
    if command -v kustomize >/dev/null 2>&1; then
        renderer=(kustomize build)
    elif command -v kubectl >/dev/null 2>&1; then
        renderer=(kubectl kustomize)
    else
        missing+=("kubectl or kustomize (or set LINT_SKIP_RENDER=1)")
    fi
fi
if ((${#missing[@]})); then
    printf 'lint: missing tool: %s\n' "${missing[@]}" >&2
    echo "lint: install with: $repo_root/.venv/bin/pip install -r $script_dir/requirements-lint.txt" >&2
    exit 3
fi

echo "lint: $deploy_dir"
echo "lint: $(hadolint --version | head -n1)"
echo "lint: $(check-jsonschema --version)"
echo "lint: kubernetes-validate $(kubernetes-validate --version) (Kubernetes $k8s_versions)"
echo "lint: $(yamllint --version)"
if ((${#renderer[@]})); then
    echo "lint: renderer: ${renderer[*]}"
else
    echo "lint: renderer: skipped (LINT_SKIP_RENDER=1)"
fi

failed=()
step() { printf '\n== %s\n' "$1"; }
check() { # check NAME COMMAND...: run, report, remember a failure, carry on
    local name=$1
    shift
    if "$@"; then
        echo "ok: $name"
    else
        echo "FAIL: $name" >&2
        failed+=("$name")
    fi
}

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# --- 1. Dockerfile -------------------------------------------------------------------------
step "hadolint"
hadolint_args=(--no-color)
[[ -f $deploy_dir/.hadolint.yaml ]] && hadolint_args+=(--config "$deploy_dir/.hadolint.yaml")
check "Dockerfile" hadolint "${hadolint_args[@]}" "$deploy_dir/Dockerfile"

# --- 2. compose ----------------------------------------------------------------------------
step "check-jsonschema (compose-spec)"
check "compose.yaml" check-jsonschema --builtin-schema vendor.compose-spec "$deploy_dir/compose.yaml"
# make image-test's override uses the compose-spec merge tags !reset and !override, which the
# schema's YAML loader does not know: lint_policy.py writes it out with them resolved first.
override_schema() {
    "$python" "$script_dir/lint_policy.py" resolve-tags "$1" "$2" \
        && check-jsonschema --builtin-schema vendor.compose-spec "$2"
}
if [[ -f $deploy_dir/compose.image-test.yaml ]]; then
    check "compose.image-test.yaml" override_schema "$deploy_dir/compose.image-test.yaml" "$tmp/compose.image-test.json"
fi

# --- 3. YAML style -------------------------------------------------------------------------
step "yamllint"
check "yamllint" yamllint --strict --format parsable -c "$deploy_dir/.yamllint" "$deploy_dir"

# --- 4. JSON -------------------------------------------------------------------------------
step "JSON syntax"
while IFS= read -r -d '' file; do
    check "${file#"$deploy_dir"/}" "$python" -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$file"
done < <(find "$deploy_dir" -name '*.json' -type f -print0 | sort -z)

# --- 5. shell ------------------------------------------------------------------------------
step "bash -n"
while IFS= read -r -d '' file; do
    check "${file#"$deploy_dir"/}" bash -n "$file"
done < <(find "$deploy_dir" -name '*.sh' -type f -print0 | sort -z)

# --- 6. Kubernetes -------------------------------------------------------------------------
step "kubernetes-validate --strict"
manifests=()
while IFS= read -r -d '' file; do
    manifests+=("$file")
done < <(find "$deploy_dir/k8s" -type f \( -name '*.yaml' -o -name '*.yml' \) \
    ! -name 'kustomization.yaml' ! -name 'kustomization.yml' ! -path '*/patches/*' -print0 | sort -z)
if ((${#manifests[@]} == 0)); then
    echo "FAIL: no manifests under $deploy_dir/k8s" >&2
    failed+=("k8s manifests")
fi

kustomizations=()
while IFS= read -r -d '' file; do
    kustomizations+=("$(dirname -- "$file")")
done < <(find "$deploy_dir/k8s" -type f -name 'kustomization.yaml' -print0 | sort -z)

rendered=()
if ((${#renderer[@]})); then
    for kdir in "${kustomizations[@]}"; do
        rel=${kdir#"$deploy_dir"/}
        out="$tmp/${rel//\//_}.rendered.yaml"
        if "${renderer[@]}" "$kdir" >"$out" 2>"$out.err"; then
            rendered+=("$out")
            echo "ok: rendered $rel"
        else
            sed 's/^/  /' "$out.err" >&2
            echo "FAIL: render $rel" >&2
            failed+=("render $rel")
        fi
    done
fi

for version in $k8s_versions; do
    if ((${#manifests[@]})); then
        check "k8s manifests (Kubernetes $version)" \
            kubernetes-validate --strict --quiet -k "$version" "${manifests[@]}"
    fi
    for out in "${rendered[@]}"; do
        check "$(basename -- "$out") (Kubernetes $version)" \
            kubernetes-validate --strict --quiet -k "$version" "$out"
    done
done

# --- 7. project rules ----------------------------------------------------------------------
step "project rules (lint_policy.py)"
policy=$script_dir/lint_policy.py
check "compose.yaml rules" "$python" "$policy" compose "$deploy_dir/compose.yaml"
base_manifests=()
for file in "${manifests[@]}"; do
    [[ $file == "$deploy_dir/k8s/base/"* ]] && base_manifests+=("$file")
done
if ((${#base_manifests[@]})); then
    check "k8s base rules" "$python" "$policy" k8s "${base_manifests[@]}"
fi
for out in "${rendered[@]}"; do
    check "$(basename -- "$out") rules" "$python" "$policy" k8s "$out"
done

# --- summary -------------------------------------------------------------------------------
echo
if ((${#failed[@]})); then
    printf 'lint: FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "lint: all checks passed"
