#!/usr/bin/env bash
# Run the README's quick-start command (between <!-- quickstart:start --> and
# <!-- quickstart:end -->) verbatim, as a new user would: in a fresh copy of the repository,
# with its own virtual environment. scripts/test.sh (CI) calls it; it fails loudly when the
# markers or the command are missing, or when the command fails.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
readme="$repo/README.md"

fail() {
    echo "quickstart: $*" >&2
    exit 1
}

for marker in '<!-- quickstart:start -->' '<!-- quickstart:end -->'; do
    count="$(grep -cxF -- "$marker" "$readme" || true)"
    [ "$count" = 1 ] || fail "README.md must hold the line '$marker' exactly once (found $count)"
done
# The lines inside the fenced code block between the markers.
command="$(
    awk '/^<!-- quickstart:start -->$/ { inside = 1; next }
         /^<!-- quickstart:end -->$/ { inside = 0 }
         inside' "$readme" |
        awk '/^```/ { fence++; next } fence == 1'
)"
[ -n "${command//[[:space:]]/}" ] ||
    fail "no command in a fenced code block between the quickstart markers of README.md"

copy="$(mktemp -d "${TMPDIR:-/tmp}/rcl-quickstart.XXXXXX")"
trap 'rm -rf "$copy"' EXIT
# The files a checkout has: tracked and new ones, not ignored ones (no .nox, .venv, caches),
# so the copy matches a fresh clone of the working tree, uncommitted changes included.
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$repo" ls-files -z --cached --others --exclude-standard |
        (cd "$repo" && while IFS= read -r -d '' file; do
            [ -e "$file" ] && printf '%s\0' "$file"
        done) |
        tar -C "$repo" --null -T - -cf - | tar -C "$copy" -xf -
else
    tar -C "$repo" --exclude-vcs --exclude=./.nox --exclude='./.venv*' --exclude=./site \
        --exclude=./.mypy_cache --exclude=./.pytest_cache --exclude=./.ruff_cache \
        --exclude=./.hypothesis -cf - . | tar -C "$copy" -xf -
fi

echo "quickstart: in a fresh copy ($copy):"
echo "\$ $command"
start="$SECONDS"
(cd "$copy" && bash -euo pipefail -c "$command") ||
    fail "the README's quick-start command failed (exit $?)"
echo "quickstart: passed in $((SECONDS - start)) s"
