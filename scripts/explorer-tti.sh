#!/usr/bin/env bash
# Page weight and time to interactive of a report's history explorer (docs/benchmarks.md,
# "Report pages"): headless Chromium opens REPORT in an iframe of a small harness page, which
# waits for `window.faultlineExplorer.ready` and prints the report's own `readyAt` (ms from
# its navigation start to the explorer ready, performance.now()), what it embedded, and the
# page's size.
#
#   scripts/explorer-tti.sh store/register-.../latest/report.html [RUNS]   # RUNS defaults to 3
set -euo pipefail
REPORT=$(realpath "${1:?usage: scripts/explorer-tti.sh REPORT.html [RUNS]}")
RUNS=${2:-3}
BROWSER=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp "$REPORT" "$TMP/report.html"
cat > "$TMP/harness.html" <<'HTML'
<!doctype html><html><body><pre id="out">pending</pre>
<iframe id="f" src="report.html" width="1100" height="900"></iframe>
<script>
const f = document.getElementById("f");
f.addEventListener("load", function wait() {
  const api = f.contentWindow.faultlineExplorer;
  if (!api || !api.ready) { setTimeout(wait, 5); return; }
  const s = api.stats();
  document.getElementById("out").textContent =
    "ready " + api.readyAt.toFixed(0) + " ms (script " + api.initMs.toFixed(0) + " ms, JSON.parse " + api.parseMs.toFixed(0) + " ms, draw " + api.drawMs.toFixed(0) + " ms), " + s.shown + " of " + s.total + " operations embedded, " + api.lanes().length + " lanes";
});
</script></body></html>
HTML
echo "$(stat -c %s "$REPORT") bytes: $REPORT"
for _ in $(seq "$RUNS"); do
  "$BROWSER" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
    --allow-file-access-from-files --user-data-dir="$TMP/profile" \
    --dump-dom "file://$TMP/harness.html" 2>/dev/null | grep -o 'ready [^<]*'
done
