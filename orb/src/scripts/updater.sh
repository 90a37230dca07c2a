#!/bin/bash
# The orb's bump and promote step. CircleCI passes the parameters as PARAM_* variables; a secret
# parameter is an env_var_name, i.e. the NAME of the variable holding the secret, read here with ${!name}.
# The result is exported to later steps through BASH_ENV (UPDATER_CHANGED, UPDATER_TAGS, UPDATER_PR_URL...).
set -eo pipefail

# secret NAME: print the value of the variable called NAME (empty when NAME is unset or not a name).
secret() {
  if [[ "$1" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    printf '%s' "${!1:-}"
  fi
}

# The CLI on PATH (the image's, or one installed with pipx/uv in an earlier step). Every call goes
# through it, the reporting step too: no guess of which Python has the package.
updater_bin="$(command -v updater || true)"
if [ -z "$updater_bin" ]; then
  echo "updater: error: no updater on PATH; run this command in the orb's executor, or install updater (pipx install gitops-updater) in an earlier step" >&2
  exit 2
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT

args=()
if [ "${PARAM_DEBUG:-false}" = "true" ] || [ "${PARAM_DEBUG:-}" = "1" ]; then
  args+=(--debug)
fi
args+=("${PARAM_COMMAND:-bump}")
case "${PARAM_COMMAND:-bump}" in
  bump)
    if [ -z "${PARAM_ENV:-}" ]; then
      echo "updater: error: the bump command needs the env parameter (the environment to bump)" >&2
      exit 2
    fi
    args+=(--env "$PARAM_ENV")
    ;;
  promote)
    if [ -z "${PARAM_TO:-}" ]; then
      echo "updater: error: the promote command needs the to parameter (the environment to write)" >&2
      exit 2
    fi
    if [ -n "${PARAM_FROM:-}" ]; then args+=(--from "$PARAM_FROM"); fi
    args+=(--to "$PARAM_TO")
    ;;
  *)
    echo "updater: error: unknown command '${PARAM_COMMAND}' (use bump or promote)" >&2
    exit 2
    ;;
esac

# No here-string: CircleCI reads a double "less than" as the start of its parameter syntax.
read -r -a apps < <(printf '%s' "${PARAM_APPS:-}" | tr ',\n' '  '; echo)
if [ "${#apps[@]}" -eq 1 ] && { [ "${apps[0]}" = "all" ] || [ "${apps[0]}" = "*" ]; }; then
  # Every app: bump says so with --all; promote does it when no --app is given.
  if [ "${PARAM_COMMAND:-bump}" = "bump" ]; then args+=(--all); fi
else
  for app in "${apps[@]}"; do
    args+=(--app "$app")
  done
fi

if [ "${PARAM_COMMAND:-bump}" = "bump" ]; then
  sha="${PARAM_SHA:-${CIRCLE_SHA1:-}}"
  if [ -n "$sha" ]; then args+=(--sha "$sha"); fi
  # {branch} and {run} default to CIRCLE_BRANCH and CIRCLE_BUILD_NUM inside updater itself.
  if [ -n "${PARAM_BRANCH:-}" ]; then args+=(--branch "$PARAM_BRANCH"); fi
  if [ -n "${PARAM_RUN:-}" ]; then args+=(--run "$PARAM_RUN"); fi
  if [ -n "${PARAM_TAG:-}" ]; then args+=(--tag "$PARAM_TAG"); fi
  if [ -n "${PARAM_STRATEGY:-}" ]; then args+=(--strategy "$PARAM_STRATEGY"); fi
  if [ -n "${PARAM_TEMPLATE:-}" ]; then args+=(--template "$PARAM_TEMPLATE"); fi
  if [ -n "${PARAM_INCLUDE:-}" ]; then args+=(--include "$PARAM_INCLUDE"); fi
  # One exclude pattern per line: a regex may hold spaces and commas, never a newline.
  while IFS= read -r pattern; do
    if [ -n "$pattern" ]; then args+=(--exclude "$pattern"); fi
  done < <(printf '%s\n' "${PARAM_EXCLUDE:-}")
  if [ -n "${PARAM_RANGE:-}" ]; then args+=(--range "$PARAM_RANGE"); fi
  if [ -n "${PARAM_WAIT:-}" ]; then args+=(--wait "$PARAM_WAIT"); fi
  if [ -n "${PARAM_API:-}" ]; then args+=(--api "$PARAM_API"); fi
  if [ -n "${PARAM_PLATFORM:-}" ]; then args+=(--platform "$PARAM_PLATFORM"); fi
  read -r -a insecure < <(printf '%s' "${PARAM_INSECURE_REGISTRY:-}" | tr ',\n' '  '; echo)
  for host in "${insecure[@]}"; do args+=(--insecure-registry "$host"); done
  if [ "${PARAM_ALLOW_DOWNGRADE:-false}" = "true" ] || [ "${PARAM_ALLOW_DOWNGRADE:-}" = "1" ]; then
    args+=(--allow-downgrade)
  fi
else
  if [ -n "${PARAM_BRANCH:-}" ]; then args+=(--branch "$PARAM_BRANCH"); fi
  if [ -n "${PARAM_RUN:-}" ]; then args+=(--run "$PARAM_RUN"); fi
  if [ -n "${PARAM_WAIT:-}" ]; then args+=(--wait "$PARAM_WAIT"); fi
  if [ "${PARAM_FORCE:-false}" = "true" ] || [ "${PARAM_FORCE:-}" = "1" ]; then args+=(--force); fi
fi
if [ "${PARAM_IGNORE_HOLD:-false}" = "true" ] || [ "${PARAM_IGNORE_HOLD:-}" = "1" ]; then args+=(--ignore-hold); fi
if [ -n "${PARAM_MODE:-}" ]; then args+=(--mode "$PARAM_MODE"); fi
if [ -n "${PARAM_WAIT_MERGED:-}" ]; then args+=(--wait-merged "$PARAM_WAIT_MERGED"); fi
if [ -n "${PARAM_WAIT_DEPLOYED:-}" ]; then args+=(--wait-deployed "$PARAM_WAIT_DEPLOYED"); fi
if [ "${PARAM_SYNC:-false}" = "true" ] || [ "${PARAM_SYNC:-}" = "1" ]; then args+=(--sync); fi
if [ "${PARAM_ROLLBACK_ON_FAILURE:-false}" = "true" ] || [ "${PARAM_ROLLBACK_ON_FAILURE:-}" = "1" ]; then
  args+=(--rollback-on-failure)
fi
if [ "${PARAM_DRY_RUN:-false}" = "true" ] || [ "${PARAM_DRY_RUN:-}" = "1" ]; then args+=(--dry-run); fi
if [ -n "${PARAM_GITHUB_URL:-}" ]; then args+=(--github-url "$PARAM_GITHUB_URL"); fi
if [ -n "${PARAM_CONFIG:-}" ]; then args+=(--config "$PARAM_CONFIG"); fi
args+=(--json)

# Secrets reach updater through its environment, never its arguments (which are echoed below).
token="$(secret "${PARAM_GITHUB_TOKEN:-}")"
if [ -n "$token" ]; then export GITHUB_TOKEN="$token"; fi

if [ -n "${PARAM_REGISTRY_USERNAME:-}" ]; then export UPDATER_REGISTRY_USERNAME="$PARAM_REGISTRY_USERNAME"; fi
registry_password="$(secret "${PARAM_REGISTRY_PASSWORD:-}")"
if [ -n "$registry_password" ]; then export UPDATER_REGISTRY_PASSWORD="$registry_password"; fi

if [ -n "${PARAM_GITHUB_APP_ID:-}" ]; then export UPDATER_GITHUB_APP_ID="$PARAM_GITHUB_APP_ID"; fi
if [ -n "${PARAM_GITHUB_APP_INSTALLATION_ID:-}" ]; then
  export UPDATER_GITHUB_APP_INSTALLATION_ID="$PARAM_GITHUB_APP_INSTALLATION_ID"
fi
app_key="$(secret "${PARAM_GITHUB_APP_KEY:-}")"
if [ -n "$app_key" ]; then export UPDATER_GITHUB_APP_PRIVATE_KEY="$app_key"; fi

argocd_token="$(secret "${PARAM_ARGOCD_TOKEN:-}")"
if [ -n "$argocd_token" ]; then export ARGOCD_AUTH_TOKEN="$argocd_token"; fi

google="$(secret "${PARAM_GOOGLE_CREDENTIALS:-}")"
if [ -n "$google" ]; then
  if [ -f "$google" ]; then
    export GOOGLE_APPLICATION_CREDENTIALS="$google"
  else
    (umask 077 && printf '%s' "$google" > "$workdir/google-credentials.json")
    export GOOGLE_APPLICATION_CREDENTIALS="$workdir/google-credentials.json"
  fi
fi

docker_config="$(secret "${PARAM_DOCKER_CONFIG:-}")"
if [ -n "$docker_config" ]; then
  if [ -d "$docker_config" ]; then
    export DOCKER_CONFIG="$docker_config"
  else
    mkdir -m 700 "$workdir/docker"
    (umask 077 && printf '%s' "$docker_config" > "$workdir/docker/config.json")
    export DOCKER_CONFIG="$workdir/docker"
  fi
fi

echo "updater ${args[*]}"
rc=0
"$updater_bin" "${args[@]}" > "$workdir/result.json" || rc=$?
if [ "$rc" -ne 0 ]; then
  # A failed Argo CD wait still printed its result: export it (UPDATER_DEPLOYED=false) for `when: always` steps.
  if [ -s "$workdir/result.json" ]; then "$updater_bin" ci circleci "$workdir/result.json" || true; fi
  exit "$rc"
fi
"$updater_bin" ci circleci "$workdir/result.json"
